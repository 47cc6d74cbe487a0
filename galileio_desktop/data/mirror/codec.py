"""Typed DynamoDB items as JSON text in the mirror, losslessly.

The mirror keeps every attribute of every item exactly as DynamoDB returned it, in the
typed wire form (``{"S": ...}``, ``{"N": "12"}``), including attributes only the web app
knows. Binary values (``B``/``BS``) are bytes in boto3's typed form; they are stored as
base64 text and turned back into bytes on the way out, so a round trip is exact.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, NamedTuple

from ..schema import (
    CHAT_SK_PREFIX,
    MESSAGE_SK_PREFIX,
    TypedItem,
    created_ms,
    entity_of,
    message_chat_id,
    source_ids,
)

OTHER_KIND = "OTHER"


def _b64(value: Any) -> str:
    """JSON fallback for the only non-JSON values of a typed item: ``B``/``BS`` bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a DynamoDB typed value")


def _decode_value(value: Any) -> Any:
    """A stored typed value with its binary turned back into bytes.

    Anything that is not a well-formed typed value (a server's malformed answer kept as
    it came) is returned as it is: reading the mirror never raises on what it holds.
    """
    if type(value) is not dict or len(value) != 1:
        return value
    ((kind, raw),) = value.items()
    try:
        if kind == "B" and isinstance(raw, str):
            return {"B": base64.b64decode(raw, validate=True)}
        if kind == "BS" and isinstance(raw, list):
            return {"BS": [base64.b64decode(b, validate=True) for b in raw]}
    except (binascii.Error, ValueError, TypeError):
        return value
    if kind == "L" and isinstance(raw, list):
        return {"L": [_decode_value(v) for v in raw]}
    if kind == "M" and isinstance(raw, dict):
        return {"M": {k: _decode_value(v) for k, v in raw.items()}}
    return value


def encode(item: TypedItem) -> dict[str, Any]:
    """A typed item as plain JSON values (binary as base64)."""
    return dict(json.loads(dumps(item)))


def decode(obj: dict[str, Any]) -> TypedItem:
    """The inverse of :func:`encode`."""
    return {name: _decode_value(value) for name, value in obj.items()}


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_b64)


def dumps(item: TypedItem) -> str:
    """Canonical JSON of a typed item (sorted keys), so equal items give equal text."""
    return _CANONICAL.encode(item)


def loads(text: str) -> TypedItem:
    obj = json.loads(text)
    if '"B' not in text:  # no binary anywhere: nothing to turn back into bytes
        return dict(obj)
    return decode(obj)


class ItemKey(NamedTuple):
    """Where an item lives in the mirror: its sort key and the columns indexed for reads.

    A named tuple rather than a frozen dataclass, as the mirror's other plain records:
    a module every start imports defines it, and a frozen dataclass costs about 0.7 ms
    to define (Python compiles its six generated methods), a named tuple a tenth of that.
    """

    sk: str
    kind: str
    chat_id: str
    message_id: str
    created_at: int


def _s(item: TypedItem, name: str) -> str:
    attr = item.get(name)
    if isinstance(attr, dict) and isinstance(attr.get("S"), str):
        return str(attr["S"])
    return ""


def _created(item: TypedItem) -> int:
    """The ``created_at`` column: the item's time bounded to what SQLite and ``datetime``
    hold, the unknown time when it has none (see :func:`~galileio_desktop.data.schema.created_ms`).

    Plain digits in ``createdAt`` (every item of the web app and of ours) take the fast
    path; anything else (out of range, fractional, wrong type) the careful one.
    """
    attr = item.get("createdAt")
    if type(attr) is dict:
        raw = attr.get("N")
        if type(raw) is str and len(raw) < _FAST_DIGITS and raw.isascii() and raw.isdigit():
            return int(raw)
    return created_ms(item)


#: With fewer ASCII digits than this a time is inside the bounds (``LATEST_MS`` has 15).
_FAST_DIGITS = 15


def key_of_item(item: TypedItem) -> ItemKey:
    """The mirror key of any item of the partition (unknown kinds are kept as OTHER).

    Chat and message ids come from the sort key, and a source's message id from its sort
    key too (what a sources query selects on), so another writer's ``chatId`` or
    ``messageId`` naming someone else's item cannot file a second row under that item.
    """
    sk = _s(item, "SK")
    kind = entity_of(item) or OTHER_KIND
    chat_id = _s(item, "chatId")
    message_id = _s(item, "messageId")
    if kind == "CHAT":
        chat_id = sk[len(CHAT_SK_PREFIX) :]
    elif kind == "MESSAGE":
        message_id = sk[len(MESSAGE_SK_PREFIX) :]
        chat_id = chat_id or message_chat_id(item)
    elif kind == "SOURCE":
        try:
            message_id = source_ids(item)[0]
        except ValueError:
            pass  # not a source key of the contract: kept, under its messageId if any
    return ItemKey(sk, kind, chat_id, message_id, _created(item))
