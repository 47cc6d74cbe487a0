"""The partition guard refuses, before sending, every request outside the user's partition.

Runs on in-process moto with the web app's table: requests inside alice's partition
must work end to end, requests built to reach bob's items must fail with
PartitionViolation without a byte being sent, and bob's items must stay as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from conftest import TEST_TABLE
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from servers import create_galileo_table

from galileio_desktop.data.auth.partition_guard import PartitionGuard, install_partition_guard
from galileio_desktop.data.errors import InvalidInput, PartitionViolation

ALICE = "alice-sub-0001"
BOB = "bob-sub-0002"
T = TEST_TABLE


def s(value: str) -> dict[str, str]:
    return {"S": value}


def chat_item(user: str, chat: str, ms: int = 1700000000000) -> dict[str, Any]:
    return {
        "PK": s(user),
        "SK": s(f"CHAT#{chat}"),
        "GSI1PK": s(f"{user}#CHAT"),
        "GSI1SK": s(str(ms)),
        "chatId": s(chat),
        "title": s(f"{user}'s chat"),
        "createdAt": {"N": str(ms)},
        "userId": s(user),
        "entity": s("CHAT"),
    }


def message_item(user: str, chat: str, message: str, ms: int = 1700000000001) -> dict[str, Any]:
    return {
        "PK": s(user),
        "SK": s(f"MESSAGE#{message}"),
        "GSI1PK": s(f"{user}#CHAT#{chat}"),
        "GSI1SK": s(str(ms)),
        "chatId": s(chat),
        "messageId": s(message),
        "type": s("human"),
        "data": {"M": {"content": s("hello")}},
        "userId": s(user),
        "entity": s("MESSAGE"),
    }


def key(user: str, sk: str) -> dict[str, Any]:
    return {"PK": s(user), "SK": s(sk)}


def seed(client: Any) -> Any:
    """bob's and alice's items, written without a guard (as the web app would)."""
    for item in (chat_item(BOB, "b1"), message_item(BOB, "b1", "bm1"), chat_item(ALICE, "a1")):
        client.put_item(TableName=T, Item=item)
    return client


@pytest.fixture(scope="module")
def shared_table() -> Iterator[Any]:
    """One seeded table for the module: refused requests change nothing, so tests can share it."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_galileo_table(client, T)
        yield seed(client)


@pytest.fixture
def guarded(shared_table: Any) -> tuple[Any, list[str]]:
    """A separate client bound to alice, and the operations it actually sent."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    install_partition_guard(client, ALICE)
    sent: list[str] = []
    client.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request.url))
    return client, sent


def bob_items(ddb: Any) -> list[dict[str, Any]]:
    items = ddb.query(
        TableName=T, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s(BOB)}
    )["Items"]
    return sorted(items, key=lambda i: i["SK"]["S"])


# -- inside the partition: everything the client does works -----------------------------


def test_own_partition_requests_pass(guarded: tuple[Any, list[str]]) -> None:
    client, sent = guarded
    client.put_item(TableName=T, Item=chat_item(ALICE, "a2"), ConditionExpression="attribute_not_exists(PK)")
    client.put_item(TableName=T, Item=message_item(ALICE, "a2", "m1"))
    assert client.get_item(TableName=T, Key=key(ALICE, "CHAT#a2"), ConsistentRead=True)["Item"][
        "chatId"
    ] == s("a2")
    client.update_item(
        TableName=T,
        Key=key(ALICE, "CHAT#a2"),
        UpdateExpression="SET #t = :t, updatedAt = :u, rev = if_not_exists(rev, :zero) + :one",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={"#t": "title"},
        ExpressionAttributeValues={
            ":t": s("renamed"),
            ":u": {"N": "1"},
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
        },
    )
    chats = client.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK > :since",
        ExpressionAttributeValues={":pk": s(f"{ALICE}#CHAT"), ":since": s("0")},
        ScanIndexForward=False,
    )["Items"]
    assert {c["chatId"]["S"] for c in chats} == {"a1", "a2"}
    messages = client.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": "GSI1PK"},
        ExpressionAttributeValues={":pk": s(f"{ALICE}#CHAT#a2")},
    )["Items"]
    assert [m["messageId"]["S"] for m in messages] == ["m1"]
    sources = client.query(
        TableName=T,
        KeyConditionExpression="(PK = :p) AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":p": s(ALICE), ":prefix": s("SOURCE#m1#")},
        ConsistentRead=True,
    )["Items"]
    assert sources == []
    client.batch_write_item(
        RequestItems={
            T: [
                {"PutRequest": {"Item": {"PK": s(ALICE), "SK": s(f"SOURCE#m1#{n}"), "sourceId": s(str(n))}}}
                for n in range(3)
            ]
            + [{"DeleteRequest": {"Key": key(ALICE, "CHAT#a1")}}]
        }
    )
    client.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": T,
                    "Key": key(ALICE, "CHAT#a2"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {"Delete": {"TableName": T, "Key": key(ALICE, "MESSAGE#m1")}},
        ]
    )
    got = client.batch_get_item(RequestItems={T: {"Keys": [key(ALICE, "SOURCE#m1#0")]}})["Responses"][T]
    assert len(got) == 1
    client.delete_item(TableName=T, Key=key(ALICE, "CHAT#a2"))
    client.describe_table(TableName=T)
    # Paging through the index with the start key the previous page returned.
    client.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s(f"{ALICE}#CHAT")},
        ExclusiveStartKey={
            "PK": s(ALICE),
            "SK": s("CHAT#a1"),
            "GSI1PK": s(f"{ALICE}#CHAT"),
            "GSI1SK": s("1"),
        },
    )
    assert len(sent) == 13


# -- outside the partition: refused before sending ---------------------------------------

Request = Callable[[Any], Any]

CROSSING: dict[str, Request] = {
    "get other key": lambda c: c.get_item(TableName=T, Key=key(BOB, "CHAT#b1")),
    "delete other key": lambda c: c.delete_item(TableName=T, Key=key(BOB, "CHAT#b1")),
    "put other PK": lambda c: c.put_item(TableName=T, Item=chat_item(BOB, "evil")),
    "put own PK, other GSI1PK": lambda c: c.put_item(
        TableName=T, Item=chat_item(ALICE, "x") | {"GSI1PK": s(f"{BOB}#CHAT")}
    ),
    "update other key": lambda c: c.update_item(
        TableName=T,
        Key=key(BOB, "CHAT#b1"),
        UpdateExpression="SET title = :t",
        ExpressionAttributeValues={":t": s("pwned")},
    ),
    "update moves own item into other index partition": lambda c: c.update_item(
        TableName=T,
        Key=key(ALICE, "CHAT#a1"),
        UpdateExpression="SET title = :t, #g = :g",
        ExpressionAttributeNames={"#g": "GSI1PK"},
        ExpressionAttributeValues={":t": s("x"), ":g": s(f"{BOB}#CHAT")},
    ),
    "update sets GSI1PK from an unchecked expression": lambda c: c.update_item(
        TableName=T,
        Key=key(ALICE, "CHAT#a1"),
        UpdateExpression="SET GSI1PK = if_not_exists(GSI1PK, :g)",
        ExpressionAttributeValues={":g": s(f"{BOB}#CHAT")},
    ),
    "query other PK": lambda c: c.query(
        TableName=T, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": s(BOB)}
    ),
    "query other PK, value first": lambda c: c.query(
        TableName=T, KeyConditionExpression=":p = PK", ExpressionAttributeValues={":p": s(BOB)}
    ),
    "query other PK through a name alias": lambda c: c.query(
        TableName=T,
        KeyConditionExpression="#k = :v AND begins_with(#s, :c)",
        ExpressionAttributeNames={"#k": "PK", "#s": "SK"},
        ExpressionAttributeValues={":v": s(BOB), ":c": s("CHAT#")},
    ),
    "query other chat list": lambda c: c.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s(f"{BOB}#CHAT")},
    ),
    "query other chat's messages": lambda c: c.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s(f"{BOB}#CHAT#b1")},
    ),
    "query index with a bare user id (no #)": lambda c: c.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s(ALICE + "x#CHAT")},
    ),
    "query PK with own value as a prefix match": lambda c: c.query(
        TableName=T,
        KeyConditionExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": s(ALICE)},
    ),
    "query with the legacy KeyConditions": lambda c: c.query(
        TableName=T,
        KeyConditions={"PK": {"AttributeValueList": [s(BOB)], "ComparisonOperator": "EQ"}},
    ),
    "query own partition starting at another user's key": lambda c: c.query(
        TableName=T,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s(f"{ALICE}#CHAT")},
        ExclusiveStartKey={"PK": s(BOB), "SK": s("CHAT#b1"), "GSI1PK": s(f"{BOB}#CHAT"), "GSI1SK": s("1")},
    ),
    "query an unknown index": lambda c: c.query(
        TableName=T,
        IndexName="ByTitle",
        KeyConditionExpression="title = :t",
        ExpressionAttributeValues={":t": s("x")},
    ),
    "scan": lambda c: c.scan(TableName=T),
    "partiql": lambda c: c.execute_statement(Statement=f'SELECT * FROM "{T}"'),
    "delete table": lambda c: c.delete_table(TableName=T),
    "batch write with one crossing request": lambda c: c.batch_write_item(
        RequestItems={
            T: [
                {"PutRequest": {"Item": chat_item(ALICE, "fine")}},
                {"DeleteRequest": {"Key": key(BOB, "MESSAGE#bm1")}},
            ]
        }
    ),
    "batch get with a crossing key": lambda c: c.batch_get_item(
        RequestItems={T: {"Keys": [key(ALICE, "CHAT#a1"), key(BOB, "CHAT#b1")]}}
    ),
    "transaction with a crossing condition check": lambda c: c.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": T, "Item": chat_item(ALICE, "fine")}},
            {
                "ConditionCheck": {
                    "TableName": T,
                    "Key": key(BOB, "CHAT#b1"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
        ]
    ),
    "transaction updating another user's item": lambda c: c.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": T,
                    "Key": key(BOB, "CHAT#b1"),
                    "UpdateExpression": "SET title = :t",
                    "ExpressionAttributeValues": {":t": s("pwned")},
                }
            }
        ]
    ),
    "transact get crossing": lambda c: c.transact_get_items(
        TransactItems=[{"Get": {"TableName": T, "Key": key(BOB, "CHAT#b1")}}]
    ),
}


@pytest.mark.parametrize("name", sorted(CROSSING))
def test_crossing_requests_are_refused_before_sending(shared_table: Any, name: str) -> None:
    seeded = shared_table
    client = boto3.client("dynamodb", region_name="us-east-1")
    install_partition_guard(client, ALICE)
    sent: list[str] = []
    client.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request.url))
    before = bob_items(seeded)
    alice_before = seeded.get_item(TableName=T, Key=key(ALICE, "CHAT#fine"))
    with pytest.raises(PartitionViolation, match="Refused before sending"):
        CROSSING[name](client)
    assert sent == [], "a refused request must not be sent"
    assert bob_items(seeded) == before
    # Nothing of a mixed batch or transaction was applied either.
    assert seeded.get_item(TableName=T, Key=key(ALICE, "CHAT#fine")).get("Item") == alice_before.get("Item")


@pytest.mark.parametrize(
    "entry",
    [
        {"DeleteRequest": {"Key": {"PK": {"S": ALICE, "N": "1"}, "SK": s("CHAT#a1")}}},
        {"DeleteRequest": {"Key": {"PK": {"SS": [ALICE]}, "SK": s("CHAT#a1")}}},
        {"DeleteRequest": {"Key": {"PK": s(ALICE), "SK": s("CHAT#a1"), "GSI1PK": s(f"{BOB}#CHAT")}}},
        {"DeleteRequest": {"Key": {"PK": s(BOB), "SK": s("CHAT#b1")}}},
        {"DeleteRequest": {"Key": key(ALICE, "CHAT#a1")}, "PutRequest": {"Item": chat_item(BOB, "b9")}},
        {"DeleteRequest": [key(ALICE, "CHAT#a1")]},
    ],
    ids=["two types", "a set", "index of another user", "another user", "two requests", "not a mapping"],
)
def test_a_big_delete_s_keys_are_each_checked(entry: dict[str, Any]) -> None:
    """The quick check of a batch's plain delete keys lets through only what the full
    check would: 24 of the user's own keys do not carry a 25th that is not."""
    guard = PartitionGuard(ALICE)
    own = [{"DeleteRequest": {"Key": key(ALICE, f"SOURCE#m1#{n}")}} for n in range(24)]
    guard.check("BatchWriteItem", {"RequestItems": {T: own}})
    with pytest.raises(PartitionViolation, match=r"RequestItems\[.*\]\[24\]"):
        guard.check("BatchWriteItem", {"RequestItems": {T: [*own, entry]}})


class _FullCheckOnly(PartitionGuard):
    """The guard as it was before its quick path for plain keys: every key fully checked."""

    def _plain_key(self, key: Any) -> bool:
        return False


_PARTITION_VALUES = st.sampled_from(
    [
        s(ALICE),
        s(BOB),
        s(ALICE + "\x00"),
        s(ALICE.upper()),
        {"S": ALICE, "N": "1"},
        {"S": [ALICE]},
        {"S": 1},
        {"S": None},
        {"SS": [ALICE]},
        {"B": ALICE},
        {"s": ALICE},
        {"M": {"S": s(ALICE)}},
        ALICE,
        [s(ALICE)],
        None,
        0,
    ]
)
_INDEX_VALUES = st.sampled_from(
    [s(f"{ALICE}#CHAT"), s(f"{BOB}#CHAT"), s(ALICE), {"N": "1"}, None, f"{ALICE}#CHAT"]
)
_OTHER_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _hostile_keys(draw: st.DrawFn) -> Any:
    """Keys as a request body's JSON may hold them: the user's, another's, malformed."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_OTHER_VALUES)
    key: dict[str, Any] = {}
    if draw(st.booleans()) or draw(st.booleans()):
        key["PK"] = draw(_PARTITION_VALUES)
    if draw(st.booleans()):
        key["SK"] = draw(st.sampled_from([s("CHAT#a1"), {"N": "1"}, {"B": "AA=="}, [s("x")], None]))
    if draw(st.integers(0, 3)) == 0:
        key["GSI1PK"] = draw(_INDEX_VALUES)
    for name in draw(st.lists(st.sampled_from(["gsi1pk", "pk", "PK ", "chatId", "GSI1SK"]), max_size=2)):
        key[name] = draw(_OTHER_VALUES | _PARTITION_VALUES)
    return key


def _outcome(guard: PartitionGuard, operation: str, params: dict[str, Any]) -> str | None:
    try:
        guard.check(operation, params)
    except PartitionViolation as refused:
        return str(refused)
    return None


@settings(max_examples=400, deadline=None)
@given(keys=st.lists(_hostile_keys(), min_size=1, max_size=4))
def test_the_quick_check_of_plain_keys_decides_as_the_full_check(keys: list[Any]) -> None:
    """Whatever the keys (another user's, a number, a set, binary, nested, extra or index
    attributes), every request carrying them is let through or refused, with the same
    words, exactly as when every key takes the full check."""
    quick, full = PartitionGuard(ALICE), _FullCheckOnly(ALICE)
    keys = json.loads(json.dumps(keys))  # what the guard reads: the body's JSON
    requests = [
        ("BatchWriteItem", {"RequestItems": {T: [{"DeleteRequest": {"Key": k}} for k in keys]}}),
        ("BatchWriteItem", {"RequestItems": {T: [{"PutRequest": {"Item": k}} for k in keys]}}),
        ("BatchGetItem", {"RequestItems": {T: {"Keys": keys}}}),
        ("TransactWriteItems", {"TransactItems": [{"Delete": {"Key": k}} for k in keys]}),
        ("TransactGetItems", {"TransactItems": [{"Get": {"Key": k}} for k in keys]}),
        *(("DeleteItem", {"Key": k}) for k in keys),
        *(("GetItem", {"Key": k}) for k in keys),
        *(("PutItem", {"Item": k}) for k in keys),
    ]
    for operation, params in requests:
        assert _outcome(quick, operation, params) == _outcome(full, operation, params), (operation, params)


def test_a_client_is_bound_to_one_user() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    guard = install_partition_guard(client, ALICE)
    assert install_partition_guard(client, ALICE) is guard
    with pytest.raises(PartitionViolation, match="already bound"):
        install_partition_guard(client, BOB)
    with pytest.raises(InvalidInput):
        install_partition_guard(boto3.client("dynamodb", region_name="us-east-1"), "alice#CHAT")


def test_unreadable_body_is_refused() -> None:
    guard = PartitionGuard(ALICE)

    class Model:
        name = "GetItem"

    with pytest.raises(PartitionViolation, match="cannot be read"):
        guard.on_before_call(Model(), {"body": b"\xff\xfe"})
    with pytest.raises(PartitionViolation, match="cannot be read"):
        guard.on_before_call(Model(), {"body": b"[1, 2]"})


_users = st.text(
    alphabet=st.characters(blacklist_characters="#", blacklist_categories=("Cs",)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(other=_users, suffix=st.text(max_size=20))
def test_any_other_partition_value_is_refused(other: str, suffix: str) -> None:
    """Whatever the other value, only the user's own PK and GSI1PK prefix pass."""
    guard = PartitionGuard(ALICE)
    get = {"TableName": T, "Key": key(other, "CHAT#x")}
    query = {
        "TableName": T,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :v",
        "ExpressionAttributeValues": {":v": s(f"{other}#{suffix}")},
    }
    if other == ALICE:
        guard.check("GetItem", get)
        guard.check("Query", query)
        return
    with pytest.raises(PartitionViolation):
        guard.check("GetItem", get)
    with pytest.raises(PartitionViolation):
        guard.check("Query", query)
