"""DynamoDB's own item size rules, so an oversized item is refused before any request.

See "Item sizes and formats" in the DynamoDB developer guide: an item's size is the
sum of its attribute names (UTF-8 bytes) and values; numbers take one byte per two
significant digits plus one; lists and maps take 3 bytes plus 1 byte per element.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ITEM_BYTES = 400 * 1024


def number_size(text: str) -> int:
    """Bytes DynamoDB counts for a number given as its string form."""
    try:
        digits = Decimal(text).normalize().as_tuple().digits
    except InvalidOperation:
        digits = tuple(int(c) for c in text if c.isdigit())
    significant = len(digits) or 1
    return (significant + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Size of one typed attribute value (without its name)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode("utf-8"))
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Any]) -> int:
    """Size of a typed item as DynamoDB counts it against the 400 KB limit."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())
