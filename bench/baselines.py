"""The web app's algorithms, written plainly, as the benchmark's baselines.

These follow the web app's access patterns as the project's design notes describe
them (DESIGN.md, section 2), one request after another, on a boto3 client built the
same way as the app's and going through the same latency proxy. They are what the
desktop client is measured against, not code the app uses.

- delete a chat: query its messages (GSI1), then one sources query per message,
  one after another, then the deletes in BatchWrites of 25, one after another;
- open a chat: every page of 10 messages (``Limit=10``), one after another;
- answer: a single BatchWrite of the message and all its sources. Over 25 items
  DynamoDB refuses it (ValidationException) and the answer is lost; the baseline
  then measures what the same algorithm would take to store it at all: the
  BatchWrite split into calls of 25, sent one after another;
- search: a naive SQL ``LIKE`` scan of every message's text in the same SQLite mirror,
  every word required, newest first.

The bare Qt window (start-up and memory baseline) is in :mod:`gui_probe`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from galileio_desktop.data.schema import chats_gsi1pk, messages_gsi1pk, source_sk_prefix

BATCH_LIMIT = 25
WEB_PAGE_SIZE = 10

TypedItem = dict[str, Any]


def _query_all(client: Any, **params: Any) -> tuple[list[TypedItem], int]:
    """Every page of a query, one after another; returns (items, requests)."""
    found: list[TypedItem] = []
    requests = 0
    while True:
        response = client.query(**params)
        requests += 1
        found.extend(response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return found, requests
        params["ExclusiveStartKey"] = last


def _batch_write_sequential(client: Any, table: str, requests: list[dict[str, Any]]) -> int:
    """BatchWrites of 25, one after another; unprocessed items are sent again (the web
    app drops them; retrying keeps the baseline's result comparable)."""
    calls = 0
    for start in range(0, len(requests), BATCH_LIMIT):
        pending = requests[start : start + BATCH_LIMIT]
        while pending:
            response = client.batch_write_item(RequestItems={table: pending})
            calls += 1
            pending = response.get("UnprocessedItems", {}).get(table, [])
    return calls


def delete_chat(client: Any, table: str, user_id: str, chat_id: str) -> dict[str, int]:
    """The web app's delete: messages, then sources message by message, then deletes."""
    messages, _ = _query_all(
        client,
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": messages_gsi1pk(user_id, chat_id)}},
    )
    source_keys: list[TypedItem] = []
    for message in messages:
        message_id = message["SK"]["S"].split("#", 1)[1]
        sources, _ = _query_all(
            client,
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": user_id},
                ":prefix": {"S": source_sk_prefix(message_id)},
            },
        )
        source_keys.extend({"PK": s["PK"], "SK": s["SK"]} for s in sources)
    keys = source_keys + [{"PK": m["PK"], "SK": m["SK"]} for m in messages]
    keys.append({"PK": {"S": user_id}, "SK": {"S": f"CHAT#{chat_id}"}})
    _batch_write_sequential(client, table, [{"DeleteRequest": {"Key": k}} for k in keys])
    return {"messages": len(messages), "sources": len(source_keys)}


def open_chat(client: Any, table: str, user_id: str, chat_id: str) -> tuple[list[TypedItem], int]:
    """The web app's open: pages of 10 messages until the last; returns (messages, requests)."""
    return _query_all(
        client,
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": messages_gsi1pk(user_id, chat_id)}},
        Limit=WEB_PAGE_SIZE,
    )


def list_chats(client: Any, table: str, user_id: str) -> tuple[list[TypedItem], int]:
    """The web app's chat list: every page of the chats query."""
    return _query_all(
        client,
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": chats_gsi1pk(user_id)}},
        ScanIndexForward=False,
    )


def answer_single_batch(client: Any, table: str, message: TypedItem, sources: list[TypedItem]) -> None:
    """The web app's answer write as it is: one BatchWrite of everything (fails over 25)."""
    requests = [{"PutRequest": {"Item": i}} for i in [message, *sources]]
    client.batch_write_item(RequestItems={table: requests})


def answer_what_it_takes(client: Any, table: str, message: TypedItem, sources: list[TypedItem]) -> int:
    """The same algorithm made to store the answer: its BatchWrite split into calls of 25,
    one after another (message first, as the web app orders it); returns the calls made."""
    requests = [{"PutRequest": {"Item": i}} for i in [message, *sources]]
    return _batch_write_sequential(client, table, requests)


# -- search --------------------------------------------------------------------------------

_LIKE_TEXT = "json_extract(COALESCE(local, remote), '$.data.M.content.S')"


def search_like(conn: sqlite3.Connection, query: str, limit: int = 50) -> list[tuple[str, str]]:
    """Every message whose text contains every word (``LIKE '%word%'``), newest first.

    A plain scan: each message row's JSON is read and matched; no index can help.
    Returns (chat id, message id) pairs.
    """
    words = [w.rstrip("*").lower() for w in query.split() if w.rstrip("*")]
    if not words:
        return []
    where = " AND ".join(f"{_LIKE_TEXT} LIKE ?" for _ in words)
    sql = (
        f"SELECT chat_id, message_id FROM item WHERE kind = 'MESSAGE' AND hidden = 0 AND {where} "
        "ORDER BY created_at DESC LIMIT ?"
    )
    rows = conn.execute(sql, [*(f"%{w}%" for w in words), limit]).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]
