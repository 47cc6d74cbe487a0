"""Pages written in bulk: indexed for search, the index trigger back in place, the overlay
applied where operations are pending; and Query pages read without botocore's parser."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.dynamo.items_json import read_items_as_json, split_items
from galileio_desktop.data.errors import LocalStorageError
from galileio_desktop.data.mirror import bulk_load, outbox
from galileio_desktop.data.mirror.database import Mirror
from galileio_desktop.data.schema import Chat, Message, make_sources
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"
TABLE = "galileo-test"


def chat_items(chat_id: str, count: int, word: str = "zebra") -> list[dict[str, Any]]:
    chat = Chat(chat_id, USER, f"Chat {chat_id}", 1_000)
    found: list[dict[str, Any]] = [chat.to_item()]
    for i in range(count):
        message = Message(
            f"{chat_id}-m{i:03d}", chat_id, USER, "ai", f"answer {i} about {word}{i}", 2_000 + i
        )
        sources = make_sources(
            USER, chat_id, message.message_id, [{"pageContent": f"passage {i}"}], 2_000 + i
        )
        found += [message.to_item(), *(s.to_item() for s in sources)]
    return found


def trigger_sql(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (bulk_load.INSERT_TRIGGER,)
        ).fetchone()
    return str(row[0]) if row else ""


def write(mirror: Mirror, found: list[dict[str, Any]]) -> int:
    with mirror.write() as conn:
        return bulk_load.put_remote_many(conn, found, mirror.next_seq(conn), outbox.chats_with_ops(conn))


def test_a_bulk_page_is_searchable_and_the_trigger_is_back(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    with ChatLibrary(path, USER) as lib:
        before = trigger_sql(path)
        assert before
        mirror = lib._mirror  # noqa: SLF001 - the library's own connection, as the puller uses it
        assert write(mirror, chat_items("c1", 120)) == 1 + 120 * 2
        assert trigger_sql(path) == before
        assert lib.count_messages("c1") == 120
        assert [h.message_id for h in lib.search("zebra77")] == ["c1-m077"]
        assert [s.page_content for s in lib.list_sources("c1-m005")] == ["passage 5"]
        # one item at a time afterwards: the restored trigger indexes it
        lib.store_remote_items(chat_items("c2", 1, word="okapi")[:2])
        assert [h.message_id for h in lib.search("okapi0")] == ["c2-m000"]
        # the same page again changes nothing; a changed item is updated
        again = chat_items("c1", 120)
        again[1]["data"] = {"M": {"content": {"S": "rewritten about giraffes"}}}
        assert write(mirror, again) == 1
        assert [h.message_id for h in lib.search("giraffes")] == ["c1-m000"]
        assert lib.search("zebra0") == []


def test_a_chat_with_pending_operations_keeps_its_overlay(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    with ChatLibrary(path, USER) as lib:
        lib.store_remote_items(chat_items("doomed", 0))
        lib.delete_chat("doomed")  # pending: everything of the chat is hidden until it is sent
        write(lib._mirror, chat_items("doomed", 80) + chat_items("kept", 80, word="okapi"))  # noqa: SLF001
        assert lib.count_messages("doomed") == 0 and lib.search("zebra3") == []
        assert lib.count_messages("kept") == 80 and [h.message_id for h in lib.search("okapi3")] == [
            "kept-m003"
        ]


class FailingInsert:
    """A connection whose bulk insert fails (a full disk), everything else passed through."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def executemany(self, sql: str, rows: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")


def test_a_failed_bulk_write_leaves_the_trigger_and_the_rows_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    with ChatLibrary(path, USER) as lib:
        before = trigger_sql(path)
        mirror = lib._mirror  # noqa: SLF001
        with pytest.raises(LocalStorageError, match="full"), mirror.write() as conn:
            bulk_load.put_remote_many(FailingInsert(conn), chat_items("c1", 60), 1, set())  # type: ignore[arg-type]
        assert trigger_sql(path) == before
        assert lib.count_messages("c1") == 0 and lib.get_chat("c1") is None
        write(mirror, chat_items("c1", 60))
        assert lib.count_messages("c1") == 60 and [h.message_id for h in lib.search("zebra9")] == ["c1-m009"]


def test_query_pages_read_as_json_equal_botocore_s_parsing(ddb: Any) -> None:
    ChatGateway(ddb, TABLE, USER)  # installs the fast reader on this client
    plain = boto3.client("dynamodb", region_name="us-east-1")
    for item in chat_items("c1", 30):
        plain.put_item(TableName=TABLE, Item=item)
    params = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": USER}},
        "Limit": 25,
    }
    fast, slow = ddb.query(**params), plain.query(**params)
    assert fast["Items"] == slow["Items"] and len(fast["Items"]) == 25
    assert fast["LastEvaluatedKey"] == slow["LastEvaluatedKey"] and fast["Count"] == slow["Count"]


def test_pages_with_binary_values_take_botocore_s_way(ddb: Any) -> None:
    ChatGateway(ddb, TABLE, USER)
    item = {**chat_items("c1", 0)[0], "blob": {"B": b"\x00\x01binary"}}
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=TABLE, Item=item)
    [found] = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": USER}},
    )["Items"]
    assert found["blob"] == {"B": b"\x00\x01binary"}  # bytes, as botocore decodes them


def test_the_fast_reader_leaves_errors_and_odd_bodies_alone() -> None:
    for response in (
        {"status_code": 400, "body": b'{"__type": "ValidationException"}'},
        {"status_code": 200, "body": b"not json"},
        {"status_code": 200, "body": b'{"Count": 0}'},
    ):
        custom: dict[str, Any] = {}
        body = response["body"]
        read_items_as_json(response_dict=response, customized_response_dict=custom)
        assert custom == {} and response["body"] == body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(st.dictionaries(st.text(), json_values, max_size=4), max_size=6),
    others=st.dictionaries(st.text().filter(lambda k: k != "Items"), json_values, max_size=3),
    indent=st.sampled_from([None, 1]),
    separators=st.sampled_from([None, (",", ":"), (" , ", " : ")]),
)
def test_items_are_split_out_of_any_json_layout_as_json_loads_reads_them(
    items: list[dict], others: dict, indent: int | None, separators: tuple[str, str] | None
) -> None:
    text = json.dumps({**others, "Items": items}, indent=indent, separators=separators)
    assert split_items(text) == (items, others)
    assert split_items(json.dumps(others)) is None


def test_malformed_pages_are_refused_whole() -> None:
    for text in ('{"Items": [{"a": 1},]}', '{"Items": [{"a": 1}]', '{"Items": []} x', "[1]"):
        with pytest.raises((ValueError, IndexError)):
            split_items(text)
