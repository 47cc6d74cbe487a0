"""JSON parsed in many small calls, so other threads keep running meanwhile.

``json.loads`` is one C call: it holds the interpreter lock until the whole text is
parsed, whatever the switch interval. For botocore's endpoint table (1.2 MB, parsed at
a session's first client) that is 12-20 ms in which the window cannot paint, although
the parse runs in a worker. :func:`loads_in_pieces` walks the outer objects and arrays
itself and leaves each value below :data:`SPLIT_DEPTH` to the C decoder: the same
result, built from calls of well under a millisecond, between which the GUI thread can
take the lock. It costs about twice the C parser's time, on the worker.

Pure Python, no Qt.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any

#: Objects and arrays nested less deep than this are walked here; deeper values are one
#: C call each. At 4 the largest piece of botocore's endpoint table (one service of
#: one partition) parses in about half a millisecond.
SPLIT_DEPTH = 4

# botocore builds its models with OrderedDict; the pieces are built the same way.
_DECODER = json.JSONDecoder(object_pairs_hook=OrderedDict)
_SPACE = re.compile(r"[ \t\n\r]*")


def loads_in_pieces(text: str, depth: int = SPLIT_DEPTH) -> Any:
    """What ``json.loads(text, object_pairs_hook=OrderedDict)`` returns, parsed in pieces.

    Malformed text raises :class:`json.JSONDecodeError`, as ``json.loads`` does.
    """
    value, end = _value(text, _skip(text, 0), depth)
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _skip(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value(text: str, index: int, depth: int) -> tuple[Any, int]:
    opening = text[index : index + 1]
    if depth <= 0 or opening not in ("{", "["):
        return _DECODER.raw_decode(text, index)
    if opening == "{":
        return _object(text, index, depth)
    return _array(text, index, depth)


def _object(text: str, index: int, depth: int) -> tuple[OrderedDict[str, Any], int]:
    pairs: list[tuple[str, Any]] = []
    index = _skip(text, index + 1)
    if text.startswith("}", index):
        return OrderedDict(), index + 1
    while True:
        if not text.startswith('"', index):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, index)
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        value, index = _value(text, _skip(text, index + 1), depth - 1)
        pairs.append((key, value))
        index, closed = _next_member(text, _skip(text, index), "}")
        if closed:
            return OrderedDict(pairs), index


def _array(text: str, index: int, depth: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    index = _skip(text, index + 1)
    if text.startswith("]", index):
        return items, index + 1
    while True:
        value, index = _value(text, index, depth - 1)
        items.append(value)
        index, closed = _next_member(text, _skip(text, index), "]")
        if closed:
            return items, index


def _next_member(text: str, index: int, closing: str) -> tuple[int, bool]:
    """Past the comma before the next member (False), or past ``closing`` (True)."""
    if text.startswith(",", index):
        return _skip(text, index + 1), False
    if text.startswith(closing, index):
        return index + 1, True
    raise json.JSONDecodeError(f"Expecting ',' delimiter or {closing!r}", text, index)
