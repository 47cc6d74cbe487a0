"""Sidebar groups by last activity (Today, Yesterday, Previous 7 days...) and short time labels.

Pinned chats sit apart, above all of these, under :data:`PINNED`.

Pure Python, so the grouping is testable without Qt and cheap enough to run for
10,000 rows on every filter keystroke. Days follow the local calendar, as a
person reading the sidebar counts them.

Times come from other writers: one outside the range a date can show (see
:mod:`galileio_desktop.data.timestamps`) is grouped under "Unknown date" and labelled
"unknown date"; no function here raises for any int.
"""

from __future__ import annotations

import datetime as dt

from ..data.timestamps import UNKNOWN_DATE, is_known, local_text
from ..data.timestamps import local_datetime as _local_datetime

#: Chats the user pinned, whatever their last activity: listed first.
PINNED = "Pinned"
TODAY = "Today"
YESTERDAY = "Yesterday"
PREVIOUS_7_DAYS = "Previous 7 days"
PREVIOUS_30_DAYS = "Previous 30 days"
OLDER = "Older"
#: Chats whose last activity is out of the range a date can show: listed last.
UNKNOWN = "Unknown date"

#: The groups in display order.
GROUPS: tuple[str, ...] = (PINNED, TODAY, YESTERDAY, PREVIOUS_7_DAYS, PREVIOUS_30_DAYS, OLDER, UNKNOWN)


def local_datetime(ms: int) -> dt.datetime | None:
    """Epoch milliseconds as an aware local datetime; None for a time out of range."""
    return _local_datetime(ms)


def group_for(ms: int, today: dt.date) -> str:
    """The sidebar group of a chat whose last activity is ``ms``, seen on ``today``."""
    when = local_datetime(ms)
    if when is None:
        return UNKNOWN
    day = when.date()
    days = (today - day).days
    if days <= 0:
        return TODAY  # today, or a clock slightly ahead of ours
    if days == 1:
        return YESTERDAY
    if days <= 7:
        return PREVIOUS_7_DAYS
    if days <= 30:
        return PREVIOUS_30_DAYS
    return OLDER


def group_bounds(today: dt.date) -> list[tuple[int, str]]:
    """The first millisecond of each group but the last, newest first, for :func:`group_of`.

    Computing the local midnights once makes grouping 10,000 chats a few comparisons each.
    """

    def midnight(day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time()).astimezone().timestamp() * 1000)

    return [
        (midnight(today), TODAY),
        (midnight(today - dt.timedelta(days=1)), YESTERDAY),
        (midnight(today - dt.timedelta(days=7)), PREVIOUS_7_DAYS),
        (midnight(today - dt.timedelta(days=30)), PREVIOUS_30_DAYS),
    ]


def group_of(ms: int, bounds: list[tuple[int, str]]) -> str:
    """The group of ``ms`` given :func:`group_bounds` (same answer as :func:`group_for`)."""
    if not is_known(ms):
        return UNKNOWN
    for start, label in bounds:
        if ms >= start:
            return label
    return OLDER


def short_time(ms: int, today: dt.date) -> str:
    """A compact stamp for a row: "14:05" today, "Mon" this week, "3 Mar" this year, else "3 Mar 2023"."""
    when = local_datetime(ms)
    if when is None:
        return UNKNOWN_DATE
    try:
        days = (today - when.date()).days
        if days <= 0:
            return when.strftime("%H:%M")
        if days < 7:
            return when.strftime("%a")
        if when.year == today.year:
            return f"{when.day} {when.strftime('%b')}"
        return f"{when.day} {when.strftime('%b %Y')}"
    except (ValueError, OverflowError):  # a platform's strftime refusing an early year
        return when.date().isoformat()


def message_time(ms: int, today: dt.date) -> str:
    """The stamp under a message: the time today, else date and time."""
    when = local_datetime(ms)
    if when is None:
        return UNKNOWN_DATE
    try:
        if when.date() == today:
            return when.strftime("%H:%M")
        if when.year == today.year:
            return f"{when.day} {when.strftime('%b')}, {when.strftime('%H:%M')}"
        return f"{when.day} {when.strftime('%b %Y')}, {when.strftime('%H:%M')}"
    except (ValueError, OverflowError):  # a platform's strftime refusing an early year
        return when.isoformat(sep=" ", timespec="minutes")


def full_time(ms: int) -> str:
    """Date and time in full, for tooltips."""
    return local_text(ms)
