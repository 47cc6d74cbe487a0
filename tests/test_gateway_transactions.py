"""An answer with its sources in one TransactWriteItems, and the fallback without transactions.

In-process moto implements transactions with their cancellation reasons; dynalite does
not (it answers UnknownOperationException), which the integration test at the end meets
for real.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from servers import create_galileo_table, dynamodb_client
from test_sync_support import Faults, fast_client

from galileio_desktop.data.dynamo import transact_writer
from galileio_desktop.data.dynamo.gateway import ChatGateway, ChatGone
from galileio_desktop.data.errors import RemoteRejected, Throttled
from galileio_desktop.data.schema import Chat, Message, make_sources, new_id

TABLE = "galileo-test"
USER = "user-a"


def answer(chat_id: str, n_sources: int, at: int = 1_000) -> Message:
    message_id = new_id()
    drafts = [{"pageContent": f"passage {i}", "metadata": {"section_index": i}} for i in range(n_sources)]
    message = Message(message_id, chat_id, USER, "ai", "the answer", at)
    return message.with_sources(make_sources(USER, chat_id, message_id, drafts, at))


def partition(client: Any) -> dict[str, dict[str, Any]]:
    """The user's items by sort key, every page, read outside any partition guard."""
    inspector = boto3.client("dynamodb", region_name="us-east-1")
    params: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": USER}},
        "ConsistentRead": True,
    }
    found: dict[str, dict[str, Any]] = {}
    while True:
        page = inspector.query(**params)
        found.update({i["SK"]["S"]: i for i in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class Calls:
    """Operations a client sent, counted through botocore's events."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.params: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("provide-client-params.dynamodb", self._note)

    def _note(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.counts[model.name] += 1
        self.params.append((model.name, dict(params)))


@pytest.fixture
def setup(ddb: Any) -> tuple[ChatGateway, Faults, Calls, Chat]:
    client = fast_client()
    faults = Faults(client)
    calls = Calls(client)
    gateway = ChatGateway(client, TABLE, USER, max_workers=2)
    chat = Chat(new_id(), USER, "t", 1)
    gateway.create_chat(chat)
    calls.counts.clear()
    return gateway, faults, calls, chat


def test_an_answer_with_40_sources_is_one_request(setup: tuple[ChatGateway, Faults, Calls, Chat]) -> None:
    gateway, _, calls, chat = setup
    message = answer(chat.chat_id, 40)
    stored = gateway.put_message(message, chat_must_exist=True)
    assert stored == message.to_item()
    assert calls.counts == Counter({"TransactWriteItems": 1}) and gateway.transactions is True
    [(_, params)] = [p for p in calls.params if p[0] == "TransactWriteItems"]
    actions = params["TransactItems"]
    assert len(actions) == 42 and set(actions[0]) == {"ConditionCheck"}
    assert actions[1]["Put"]["ConditionExpression"] == "attribute_not_exists(PK)"
    # the token is derived from the message and the caller's try: botocore's retries of
    # this call carry the same one, a later try of the pusher a new one
    token = params["ClientRequestToken"]
    assert token == transact_writer.request_token("put-message", f"{message.message_id}#0")
    assert len(token) <= 36
    items = partition(gateway.client)
    assert len(items) == 1 + 1 + 40 and f"MESSAGE#{message.message_id}" in items


def test_a_write_without_the_chat_condition_takes_no_transaction(
    setup: tuple[ChatGateway, Faults, Calls, Chat],
) -> None:
    """A transaction costs twice the write capacity: only worth it when it saves the read."""
    gateway, _, calls, chat = setup
    gateway.put_message(answer(chat.chat_id, 30))
    assert calls.counts == Counter({"BatchWriteItem": 2, "PutItem": 1}) and gateway.transactions is None


def test_a_deleted_chat_refuses_the_whole_transaction(setup: tuple[ChatGateway, Faults, Calls, Chat]) -> None:
    gateway, _, calls, chat = setup
    gateway.delete_chat(chat.chat_id)
    calls.counts.clear()
    with pytest.raises(ChatGone) as caught:
        gateway.put_message(answer(chat.chat_id, 5), chat_must_exist=True)
    assert caught.value.message_written is False
    assert calls.counts == Counter({"TransactWriteItems": 1})
    assert partition(gateway.client) == {}  # no orphan source, no message


def test_a_replay_returns_the_stored_message_without_a_duplicate(
    setup: tuple[ChatGateway, Faults, Calls, Chat],
) -> None:
    gateway, _, calls, chat = setup
    message = answer(chat.chat_id, 3)
    gateway.put_message(message, chat_must_exist=True)
    # another device's retry left its own mark on the stored item
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=TABLE,
        Key={"PK": {"S": USER}, "SK": {"S": f"MESSAGE#{message.message_id}"}},
        UpdateExpression="SET webOnly = :w",
        ExpressionAttributeValues={":w": {"S": "kept"}},
    )
    stored = gateway.put_message(message, chat_must_exist=True)
    assert stored["webOnly"] == {"S": "kept"}  # what the server has, read back
    assert len(partition(gateway.client)) == 1 + 1 + 3


def test_an_orphan_left_by_an_earlier_attempt_is_reported(
    setup: tuple[ChatGateway, Faults, Calls, Chat],
) -> None:
    gateway, _, _, chat = setup
    message = answer(chat.chat_id, 2)
    gateway.put_message(message)
    boto3.client("dynamodb", region_name="us-east-1").delete_item(
        TableName=TABLE, Key={"PK": {"S": USER}, "SK": {"S": f"CHAT#{chat.chat_id}"}}
    )
    with pytest.raises(ChatGone) as caught:
        gateway.put_message(message, chat_must_exist=True)
    assert caught.value.message_written is True


def test_without_transactions_the_server_is_asked_once(
    setup: tuple[ChatGateway, Faults, Calls, Chat],
) -> None:
    gateway, faults, calls, chat = setup
    faults.without_transactions()
    first, second = answer(chat.chat_id, 40), answer(chat.chat_id, 40, at=2_000)
    gateway.put_message(first, chat_must_exist=True)
    assert gateway.transactions is False
    assert faults.count("TransactWriteItems") == 1
    gateway.put_message(second, chat_must_exist=True, chat_seen=True)
    assert faults.count("TransactWriteItems") == 1  # remembered: not asked again
    # the fallback: get chat (first only), 2 batches of sources each, then the message
    assert calls.counts == Counter({"TransactWriteItems": 1, "GetItem": 1, "BatchWriteItem": 4, "PutItem": 2})
    assert len(partition(gateway.client)) == 1 + 2 * 41
    gateway.delete_chat(chat.chat_id)
    with pytest.raises(ChatGone):
        gateway.put_message(answer(chat.chat_id, 1), chat_must_exist=True)


def test_too_many_sources_for_one_transaction_go_in_batches(
    setup: tuple[ChatGateway, Faults, Calls, Chat],
) -> None:
    gateway, _, calls, chat = setup
    gateway.put_message(answer(chat.chat_id, 99), chat_must_exist=True)  # 1 check + 1 + 99 > 100
    assert calls.counts["TransactWriteItems"] == 0
    assert calls.counts == Counter({"GetItem": 1, "BatchWriteItem": 4, "PutItem": 1})
    calls.counts.clear()
    gateway.put_message(answer(chat.chat_id, 98, at=2_000), chat_must_exist=True)  # exactly 100
    assert calls.counts == Counter({"TransactWriteItems": 1})
    big = [{"pageContent": "x" * 300_000, "metadata": {}} for _ in range(14)]  # 4.2 MB of sources
    message = Message(new_id(), chat.chat_id, USER, "ai", "big", 3_000)
    message = message.with_sources(make_sources(USER, chat.chat_id, message.message_id, big, 3_000))
    calls.counts.clear()
    gateway.put_message(message, chat_must_exist=True)
    assert calls.counts["TransactWriteItems"] == 0 and calls.counts["PutItem"] == 1
    assert len(partition(gateway.client)) == 1 + 100 + 99 + 15


@pytest.mark.parametrize(
    ("reason", "error"),
    [("TransactionConflict", Throttled), ("ThrottlingError", Throttled), ("ValidationError", RemoteRejected)],
)
def test_cancellation_reasons_become_the_right_error(
    setup: tuple[ChatGateway, Faults, Calls, Chat], reason: str, error: type[Exception]
) -> None:
    gateway, _, _, chat = setup

    def cancel(**_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": "None"}, {"Code": reason}],
            },
            "TransactWriteItems",
        )

    gateway.client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", cancel)
    with pytest.raises(error):
        gateway.put_message(answer(chat.chat_id, 1), chat_must_exist=True)
    assert gateway.transactions is None  # not known to be missing: tried again next time
    assert [k for k in partition(gateway.client) if k.startswith("MESSAGE#")] == []


@pytest.mark.integration
def test_both_servers_store_the_answer_whole(dynamodb_endpoint: str, request: pytest.FixtureRequest) -> None:
    client = dynamodb_client(dynamodb_endpoint)
    create_galileo_table(client, TABLE)
    gateway = ChatGateway(client, TABLE, USER, max_workers=2)
    chat = Chat(new_id(), USER, "t", 1)
    gateway.create_chat(chat)
    calls = Calls(client)
    for at in (1_000, 2_000):
        gateway.put_message(answer(chat.chat_id, 40, at), chat_must_exist=True)
    has_transactions = request.node.callspec.params["dynamodb_endpoint"] != "dynalite"
    assert gateway.transactions is has_transactions
    if has_transactions:
        assert calls.counts == Counter({"TransactWriteItems": 2})
    else:  # asked once, then batches: get chat, 2 batches and the message, twice
        assert calls.counts == Counter(
            {"TransactWriteItems": 1, "GetItem": 2, "BatchWriteItem": 4, "PutItem": 2}
        )
    stored = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": USER}},
        ConsistentRead=True,
    )["Items"]
    assert len(stored) == 1 + 2 * 41
    gateway.close()
