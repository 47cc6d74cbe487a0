"""Only DynamoDB's answers count: every response is checked before botocore parses it.

A network can lie. A hotel's Wi-Fi answers every request with HTTP 200 and its sign-in
page; a corporate proxy answers with a block page or ``{}``; a connection cut mid-body
leaves half a JSON document (botocore reads bodies without enforcing their length, and
parses text that is not JSON as ``{"message": ...}``). Taken at its word, such an answer
says "written" to a write and "your partition is empty" to a read, and the sync would
then mark queued changes as done and wipe the mirror.

So a response counts as DynamoDB's only when it looks like one: the request id header,
a JSON content type, the CRC32 header checked when present (DynamoDB always sends it),
a JSON object for a body, and the members the operation always returns (a Query's
``Count``, a BatchWriteItem's ``UnprocessedItems``...; the gateway also insists on a
Query's ``Items``, which only ``Select=COUNT`` leaves out). An error answer
must be JSON carrying DynamoDB's ``__type``. Anything else raises :class:`NotDynamoDB`
from botocore's ``before-parse`` event, so no retry, parser or caller ever sees it: the
outbox and the mirror stay as they were.

Query pages are also split here, item by item (see :mod:`.items_json`), so a 1 MB page
is parsed once: the split both proves the body is JSON and hands botocore its items.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Mapping
from typing import Any

from ..errors import NotDynamoDB
from .items_json import BINARY_MARKS, split_items

log = logging.getLogger(__name__)

HANDLER_ID = "galileio-response-check"
REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id")

#: Members each operation's successful answer always has (DynamoDB API reference).
REQUIRED_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "Query": ("Count", "ScannedCount"),
    "Scan": ("Count", "ScannedCount"),
    "BatchWriteItem": ("UnprocessedItems",),
    "BatchGetItem": ("Responses", "UnprocessedKeys"),
    "DescribeTable": ("Table",),
    "CreateTable": ("TableDescription",),
    "DeleteTable": ("TableDescription",),
    "ListTables": ("TableNames",),
}
_PORTAL_HINT = (
    "it may be a Wi-Fi sign-in page, a proxy or a damaged connection. Nothing was changed; "
    "the sync tries again once the network answers properly."
)


def not_dynamodb(detail: str) -> NotDynamoDB:
    return NotDynamoDB(f"The endpoint is not answering as DynamoDB ({detail}): {_PORTAL_HINT}")


def install_response_check(client: Any) -> None:
    """Check every DynamoDB response of ``client`` (idempotent)."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("before-parse.dynamodb", check_response, unique_id=HANDLER_ID)


def check_response(
    response_dict: dict[str, Any],
    customized_response_dict: dict[str, Any],
    operation_model: Any = None,
    **_: Any,
) -> None:
    """botocore ``before-parse`` handler: raise :class:`NotDynamoDB` unless the response
    is DynamoDB's; for a Query page, hand botocore its items already parsed."""
    operation = str(getattr(operation_model, "name", ""))
    headers = response_dict.get("headers") or {}
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return  # a streamed body: not something DynamoDB's JSON protocol sends
    status = int(response_dict.get("status_code") or 0)
    if not any(_header(headers, name) for name in REQUEST_ID_HEADERS):
        raise not_dynamodb(f"HTTP {status} without a request id")
    content_type = _header(headers, "content-type").lower()
    if "json" not in content_type:
        raise not_dynamodb(f"HTTP {status} with content type {content_type or 'none'!r}")
    expected = _header(headers, "x-amz-crc32")
    if expected:
        actual = zlib.crc32(body) & 0xFFFFFFFF
        if not expected.isdigit() or int(expected) != actual:
            raise not_dynamodb("the answer's checksum does not match: it was damaged on the way")
    if status >= 300:
        document = _json_object(body, status)
        if "__type" not in document:
            raise not_dynamodb(f"HTTP {status} without DynamoDB's error type")
        return
    if operation == "Query" and not any(mark in body for mark in BINARY_MARKS):
        _split_query_page(body, response_dict, customized_response_dict)
        return
    document = _json_object(body, status)
    _require(operation, document)


def _split_query_page(
    body: bytes | bytearray, response_dict: dict[str, Any], customized_response_dict: dict[str, Any]
) -> None:
    try:
        split = split_items(bytes(body).decode("utf-8"))
    except (ValueError, IndexError, UnicodeDecodeError):
        raise not_dynamodb("HTTP 200 with a body that is not complete JSON") from None
    if split is None:  # no Items (Select=COUNT): checked as it is
        _require("Query", _json_object(body, 200))
        return
    found, rest = split
    _require("Query", {**rest, "Items": found})
    if not all(isinstance(item, dict) for item in found):
        raise not_dynamodb("a Query answer with items that are not objects")
    customized_response_dict["Items"] = found
    response_dict["body"] = json.dumps(rest).encode("utf-8")


def _json_object(body: bytes | bytearray, status: int) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise not_dynamodb(f"HTTP {status} with a body that is not a JSON object")
    return document


def _require(operation: str, document: Mapping[str, Any]) -> None:
    missing = [name for name in REQUIRED_MEMBERS.get(operation, ()) if name not in document]
    if missing:
        raise not_dynamodb(f"a {operation} answer without {' and '.join(missing)}")
    if "Items" in document and not isinstance(document["Items"], list):
        raise not_dynamodb(f"a {operation} answer whose Items is not a list")


def _header(headers: Any, name: str) -> str:
    """A header's value whatever the case of its name ('' when absent)."""
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and isinstance(headers, Mapping):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    return str(value).strip() if value is not None else ""
