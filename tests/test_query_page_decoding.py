"""The gateway reads a Query page's items without botocore's parser (see items_json.py):
whatever another writer stored, and however the JSON is spelled, the items must be exactly
what botocore's own parser gives for the same bytes."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway

USER = "user-1"
TABLE = "galileo-chats"
#: Never contacted: every answer is handed to botocore by a ``before-send`` handler.
NOWHERE = "http://127.0.0.1:9"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def answering(client: Any, body: Callable[[], bytes]) -> Any:
    """``client`` with every request answered by ``body()``, as DynamoDB would send it."""

    def send(request: Any, **_: Any) -> AWSResponse:
        raw = body()
        headers = {
            "x-amzn-RequestId": "REQ",
            "Content-Type": "application/x-amz-json-1.0",
            "x-amz-crc32": str(zlib.crc32(raw) & 0xFFFFFFFF),
        }
        return AWSResponse(request.url, 200, headers, _Raw(raw))

    client.meta.events.register("before-send.dynamodb", send)
    return client


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any, list[bytes]]]:
    """(botocore's own parsing, the gateway's reader) over the same answer bytes."""
    answer: list[bytes] = [b""]
    plain = answering(make_dynamodb_client("us-east-1", NOWHERE), lambda: answer[0])
    # make_dynamodb_client checks responses and reads pages fast: botocore's alone here.
    plain.meta.events.unregister("before-parse.dynamodb", unique_id="galileio-response-check")
    gateway = ChatGateway(
        answering(make_dynamodb_client("us-east-1", NOWHERE), lambda: answer[0]), TABLE, USER
    )
    yield plain, gateway, answer
    gateway.close()


def both(clients: tuple[Any, Any, list[bytes]], body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    plain, gateway, answer = clients
    answer[0] = body
    params = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": USER}},
    }
    return plain.query(**params), gateway.client.query(**params)


def page(items: list[dict[str, Any]], **others: Any) -> dict[str, Any]:
    return {"Count": len(items), "ScannedCount": len(items), "Items": items, **others}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


HOSTILE = {
    "PK": {"S": USER},
    "SK": {"S": "MESSAGE#m1"},
    "n38": {"N": "12345678901234567890123456789012345678"},
    "nsmall": {"N": "-0.000000000000000000000000000000000000000000000000000000000000000001"},
    "nexp": {"N": "9.9999999999999999999999999999999999999E+125"},
    "ns": {"NS": ["1", "-99999999999999999999999999999999999999", "1E-130"]},
    "ss": {"SS": ["", "é", "\u202e\u0000", "\U0001f600", '"B"', "\\u0042"]},
    "nested": {
        "M": {
            "L": {"L": [{"M": {"x": {"NULL": True}}}, {"BOOL": False}, {"L": []}, {"M": {}}]},
            "S": {"S": "a map whose member names are type names"},
            "deep": {"M": {"deeper": {"M": {"deepest": {"L": [{"N": "0"}, {"S": "\x7f"}]}}}}},
        }
    },
    "data": {"M": {"content": {"S": "line\nbreak\ttab \u2028 and a lone surrogate \ud800"}}},
    "null": {"NULL": True},
    "bool": {"BOOL": True},
}


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_hostile_values_read_as_botocore_reads_them(clients: Any, ensure_ascii: bool) -> None:
    body = json.dumps(
        page([HOSTILE, {"PK": {"S": USER}, "SK": {"S": "x"}}], LastEvaluatedKey={"SK": {"S": "x"}}),
        ensure_ascii=ensure_ascii,
    ).encode("utf-8", "surrogatepass" if not ensure_ascii else "strict")
    if not ensure_ascii:
        body = body.replace("\ud800".encode("utf-8", "surrogatepass"), b"\\ud800")  # JSON, not UTF-8
    slow, fast = both(clients, body)
    assert fast["Items"] == slow["Items"] and fast["Items"][0]["n38"] == {"N": HOSTILE["n38"]["N"]}
    assert fast["LastEvaluatedKey"] == slow["LastEvaluatedKey"] and fast["Count"] == slow["Count"] == 2


def test_binary_values_and_sets_come_back_as_bytes(clients: Any) -> None:
    item = {
        "PK": {"S": USER},
        "SK": {"S": "SOURCE#m1#0"},
        "blob": {"B": b64(b"\x00\xff binary")},
        "blobs": {"BS": [b64(b"\x01"), b64(b"")]},
        "inside": {"M": {"b": {"B": b64(b"\x02")}}},
    }
    slow, fast = both(clients, json.dumps(page([item])).encode())
    assert fast["Items"] == slow["Items"]
    assert fast["Items"][0]["blob"] == {"B": b"\x00\xff binary"} and fast["Items"][0]["blobs"]["BS"] == [
        b"\x01",
        b"",
    ]


@pytest.mark.parametrize(
    "spelled",
    [
        '{"B": "AAE="}',  # plain
        '{"\\u0042": "AAE="}',  # the type name escaped: a JSON reader sees "B"
        '{"\\u0042S": ["AAE="]}',
        '{"B\\u0053": ["AAE="]}',
        '{"\\u0042\\u0053": ["AAE="]}',
    ],
)
def test_a_binary_type_name_however_spelled_is_decoded(clients: Any, spelled: str) -> None:
    item = '{"PK": {"S": "' + USER + '"}, "SK": {"S": "x"}, "v": ' + spelled + "}"
    body = ('{"Count": 1, "ScannedCount": 1, "Items": [' + item + "]}").encode()
    slow, fast = both(clients, body)
    assert fast["Items"] == slow["Items"]
    value = fast["Items"][0]["v"]
    assert value in ({"B": b"\x00\x01"}, {"BS": [b"\x00\x01"]})


scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text()),
    st.builds(lambda n: {"N": str(n)}, st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)),
    st.builds(lambda m, e: {"N": f"{m}E{e}"}, st.integers(-999, 999), st.integers(-128, 124)),
    st.builds(lambda b: {"B": b64(b)}, st.binary(max_size=8)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda ss: {"SS": ss}, st.lists(st.text(), min_size=1, max_size=3, unique=True)),
    st.builds(
        lambda ns: {"NS": [str(n) for n in ns]}, st.lists(st.integers(), min_size=1, max_size=3, unique=True)
    ),
    st.builds(
        lambda bs: {"BS": [b64(b) for b in bs]},
        st.lists(st.binary(max_size=4), min_size=1, max_size=3, unique=True),
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), inner, max_size=3))
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    attributes=st.lists(st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=4), max_size=4),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 1]),
)
def test_any_item_reads_as_botocore_reads_it(
    clients: Any, attributes: list[dict[str, Any]], ensure_ascii: bool, indent: int | None
) -> None:
    items = [{**a, "PK": {"S": USER}, "SK": {"S": f"MESSAGE#{i}"}} for i, a in enumerate(attributes)]
    body = json.dumps(page(items), ensure_ascii=ensure_ascii, indent=indent)
    slow, fast = both(clients, body.encode("utf-8", "surrogatepass"))
    assert fast["Items"] == slow["Items"] and fast["Count"] == slow["Count"]
