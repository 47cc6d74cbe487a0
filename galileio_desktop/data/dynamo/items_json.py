"""Reading a Query page's ``Items`` straight from the response's JSON, one item at a time.

The items arrive in DynamoDB's typed JSON, which is the form the app keeps. botocore
walks its shape model value by value (~0.1 s a 1 MB page, most of the client's time when
opening a long chat); ``json`` takes a tenth of that. One ``json.loads`` of a 1 MB page
still holds the interpreter lock for tens of milliseconds, long enough for the window to
stutter while a sync runs on a worker thread, so the page is decoded item by item: each
call is short and other threads (the GUI's) get their turn in between.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Binary attribute types: botocore turns their base64 text into bytes; this reader does
#: not, so a page holding one takes botocore's way. A type name can also arrive escaped
#: (``"\u0042"`` is ``"B"`` to a JSON reader): any escaped ``B`` or ``S`` does the same.
BINARY_MARKS = (b'"B"', b'"BS"', b"\\u0042", b"\\u0053")
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_scan_string = json.decoder.scanstring  # type: ignore[attr-defined]


def read_items_as_json(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore ``before-parse`` handler: supply the page's ``Items`` already parsed.

    The body left for botocore holds everything else (count, LastEvaluatedKey, consumed
    capacity). Pages with binary values, errors and anything unexpected take botocore's way.
    """
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes) or any(mark in body for mark in BINARY_MARKS):
        return
    try:
        split = split_items(body.decode("utf-8"))
    except (ValueError, IndexError):
        return
    if split is None:
        return
    found, rest = split
    customized_response_dict["Items"] = found
    response_dict["body"] = json.dumps(rest).encode("utf-8")


def split_items(text: str) -> tuple[list[Any], dict[str, Any]] | None:
    """``(items, the other members)`` of a JSON object with an ``Items`` array, or None
    when it has none. Raises ValueError on malformed JSON."""
    pos = _skip(text, 0)
    _expect(text, pos, "{")
    pos = _skip(text, pos + 1)
    items: list[Any] | None = None
    rest: dict[str, Any] = {}
    if text[pos] == "}":
        return None
    while True:
        _expect(text, pos, '"')
        key, pos = _scan_string(text, pos + 1)
        pos = _skip(text, pos)
        _expect(text, pos, ":")
        pos = _skip(text, pos + 1)
        if key == "Items" and text[pos] == "[":
            items, pos = _array(text, pos + 1)
        else:
            rest[key], pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == "}":
            break
        _expect(text, pos, ",")
        pos = _skip(text, pos + 1)
    if _skip(text, pos + 1) != len(text):
        raise ValueError("extra data after the JSON object")
    return None if items is None else (items, rest)


def _array(text: str, pos: int) -> tuple[list[Any], int]:
    """The elements of the array whose ``[`` is just before ``pos``, one decode each."""
    values: list[Any] = []
    pos = _skip(text, pos)
    if text[pos] == "]":
        return values, pos + 1
    while True:
        value, pos = _DECODER.raw_decode(text, pos)
        values.append(value)
        pos = _skip(text, pos)
        if text[pos] == "]":
            return values, pos + 1
        _expect(text, pos, ",")
        pos = _skip(text, pos + 1)


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _expect(text: str, pos: int, char: str) -> None:
    if text[pos] != char:
        raise ValueError(f"expected {char!r} at {pos}")
