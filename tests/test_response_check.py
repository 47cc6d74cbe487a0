"""What counts as DynamoDB's answer, one rule at a time (the fault matrix in
test_hostile_network.py runs the same rules over real HTTP)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
from botocore.awsrequest import HeadersDict

from galileio_desktop.data.dynamo.response_check import check_response
from galileio_desktop.data.errors import NotDynamoDB


class Operation:
    def __init__(self, name: str) -> None:
        self.name = name


def response(
    body: bytes | str,
    status: int = 200,
    *,
    content_type: str = "application/x-amz-json-1.0",
    request_id: str | None = "REQ1",
    crc: str | None = "auto",
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    headers = HeadersDict()
    if content_type:
        headers["Content-Type"] = content_type
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    if crc == "auto":
        headers["x-amz-crc32"] = str(zlib.crc32(raw) & 0xFFFFFFFF)
    elif crc is not None:
        headers["x-amz-crc32"] = crc
    return {"status_code": status, "headers": headers, "body": raw}


def check(operation: str, resp: dict[str, Any]) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    check_response(response_dict=resp, customized_response_dict=custom, operation_model=Operation(operation))
    return custom


PAGE = json.dumps({"Items": [{"PK": {"S": "u"}, "SK": {"S": "CHAT#1"}}], "Count": 1, "ScannedCount": 1})


def test_dynamodb_s_answers_pass_and_a_query_page_is_parsed_once() -> None:
    resp = response(PAGE)
    custom = check("Query", resp)
    assert custom["Items"] == [{"PK": {"S": "u"}, "SK": {"S": "CHAT#1"}}]
    assert json.loads(resp["body"]) == {"Count": 1, "ScannedCount": 1}  # the rest, for botocore
    check("PutItem", response("{}"))
    check("GetItem", response("{}"))  # an item that is not there
    check("BatchWriteItem", response('{"UnprocessedItems": {}}'))
    check("Query", response('{"Count": 3, "ScannedCount": 3}'))  # Select=COUNT
    error = '{"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}'
    check("PutItem", response(error, 400, content_type="application/json"))


@pytest.mark.parametrize(
    ("operation", "resp", "said"),
    [
        ("Query", response("<html>Sign in</html>", content_type="text/html", request_id=None), "request id"),
        ("PutItem", response("{}", request_id=None), "without a request id"),
        ("PutItem", response("<html/>", content_type="text/html; charset=utf-8"), "content type"),
        ("GetItem", response("{}", crc="12345"), "checksum"),
        ("GetItem", response("{}", crc="not-a-number"), "checksum"),
        ("Query", response(PAGE[: len(PAGE) // 2]), "not complete JSON"),
        ("Query", response("{}"), "without Count"),
        ("Query", response('{"Items": {}, "Count": 0, "ScannedCount": 0}'), "Items is not a list"),
        ("Query", response('{"Items": [1, "x"], "Count": 2, "ScannedCount": 2}'), "not objects"),
        ("BatchWriteItem", response("{}"), "without UnprocessedItems"),
        ("PutItem", response('["not", "an", "object"]'), "not a JSON object"),
        ("PutItem", response("{", crc=None), "not a JSON object"),
        ("PutItem", response("<html>Bad gateway</html>", 502, content_type="application/json"), "not a JSON"),
        ("PutItem", response('{"message": "no"}', 403, content_type="application/json"), "error type"),
    ],
)
def test_anything_else_is_not_dynamodb(operation: str, resp: dict[str, Any], said: str) -> None:
    with pytest.raises(NotDynamoDB) as caught:
        check(operation, resp)
    assert said in caught.value.message
    assert caught.value.exit_code == 3 and caught.value.transient
    assert "sign-in page" in caught.value.message
