"""Epoch-millisecond times as any writer may have stored them: read, bounded and shown safely.

The table's times are epoch milliseconds that any client can write, so a ``createdAt``
may be beyond what SQLite (64-bit integers) or ``datetime`` (years 1 to 9999) holds,
negative, fractional or not a number at all. Every time read from an item goes through
:func:`parse_ms`, which floors it and bounds it to :data:`EARLIEST_MS` ..
:data:`LATEST_MS`; every time shown goes through :func:`iso_utc`, :func:`local_text` or
:func:`local_datetime`, which never raise and say :data:`UNKNOWN_DATE` (or None) for a
time that was out of range. A bounded value sits on a bound, and the bounds themselves
count as unknown, so "year 10000" reads as "unknown date", never as the last second of
year 9999.

Pure Python, no Qt: the CLI, the export and the window share it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

#: 0001-01-01T00:00:00Z, the earliest time ``datetime`` can hold.
EARLIEST_MS = -62_135_596_800_000
#: 9999-12-31T23:59:59.999Z, the latest time ``datetime`` can hold.
LATEST_MS = 253_402_300_799_999
#: What is shown for a time that was out of range.
UNKNOWN_DATE = "unknown date"
#: The time given to an item that stores none at all: a bound, so it reads as unknown
#: and sorts as the oldest.
UNKNOWN_MS = EARLIEST_MS

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: Beyond this many digits before the point a number is far outside the bounds: it is
#: bounded without being turned into an int (``1e999999999`` would take a gigabyte).
_MAX_DIGITS = 20


def bound_ms(value: int) -> int:
    """``value`` moved into :data:`EARLIEST_MS` .. :data:`LATEST_MS` (safe for SQLite and datetime)."""
    if value < EARLIEST_MS:
        return EARLIEST_MS
    if value > LATEST_MS:
        return LATEST_MS
    return value


def parse_ms(raw: object) -> int | None:
    """A stored time (a DynamoDB ``N`` or ``S`` value, as text) in whole milliseconds,
    bounded; None when it is not a finite number.

    The common case, plain digits, costs one ``int()``; anything else (a fraction, an
    exponent, ``NaN``, digits beyond Python's int-parsing limit) goes through Decimal.
    """
    if type(raw) is str:
        try:
            value = int(raw)
        except ValueError:
            return _parse_decimal(raw)
        return value if EARLIEST_MS <= value <= LATEST_MS else bound_ms(value)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
        return None
    return _parse_decimal(raw)


def _parse_decimal(raw: str | int | float | Decimal) -> int | None:
    try:
        number = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        return None
    if number.is_nan():
        return None
    if number.is_infinite() or number.adjusted() > _MAX_DIGITS:
        return LATEST_MS if number > 0 else EARLIEST_MS
    return bound_ms(int(number.to_integral_value(rounding=ROUND_FLOOR)))


def is_known(ms: int) -> bool:
    """True for a time strictly inside the bounds: one that was stored, not made up by bounding."""
    return EARLIEST_MS < ms < LATEST_MS


def utc_datetime(ms: int) -> dt.datetime | None:
    """``ms`` as an aware UTC datetime; None when it is not a known time.

    Computed from the epoch by arithmetic, so negative times work on every platform
    (``datetime.fromtimestamp`` refuses them on Windows).
    """
    if not is_known(ms):
        return None
    return _EPOCH + dt.timedelta(milliseconds=ms)


def local_datetime(ms: int) -> dt.datetime | None:
    """``ms`` as an aware local datetime; None when it is not a known time.

    Near the bounds the local calendar may fall outside years 1-9999, and some platforms
    cannot convert times before 1970: those are given in UTC instead.
    """
    when = utc_datetime(ms)
    if when is None:
        return None
    try:
        return when.astimezone()
    except (OverflowError, ValueError, OSError):
        return when


def iso_utc(ms: int) -> str:
    """``2023-11-14T22:13:20+00:00`` (seconds), or :data:`UNKNOWN_DATE`."""
    when = utc_datetime(ms)
    return UNKNOWN_DATE if when is None else when.isoformat(timespec="seconds")


def local_text(ms: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``ms`` in local time with a ``strftime`` format, or :data:`UNKNOWN_DATE`."""
    when = local_datetime(ms)
    if when is None:
        return UNKNOWN_DATE
    try:
        return when.strftime(fmt)
    except (ValueError, OverflowError):  # platform strftime limits on early years
        return when.isoformat(sep=" ", timespec="seconds")
