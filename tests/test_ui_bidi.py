"""Bidi text from other writers cannot flip what the window draws beside it.

A title or message may hold U+202E RIGHT-TO-LEFT OVERRIDE (or embeddings, isolates,
stray closers, right-to-left letters). Wherever the window puts such text next to its
own words (sidebar tooltip and accessible text, search results, the Undo toast) it is
wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE with the text's own
controls balanced, so the words after it still read left to right, after it.

The layout checks use Qt's own bidi algorithm (``QTextLayout``): they measure where each
character of our words lands, the way the window would paint them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextLayout
from ui_helpers import chat_view, local_noon_ms

from galileio_desktop.data.mirror.search import SNIPPET_END, SNIPPET_START, SearchHit
from galileio_desktop.data.timestamps import LATEST_MS, UNKNOWN_DATE
from galileio_desktop.ui import bidi, time_groups
from galileio_desktop.ui.search.search_results_model import SearchResultsModel
from galileio_desktop.ui.sidebar import chat_sidebar
from galileio_desktop.ui.sidebar.chat_list_model import ChatListModel

pytestmark = pytest.mark.gui

TODAY = dt.date(2024, 3, 15)
NOON = local_noon_ms(TODAY)
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: Titles that flip or swallow what follows them when they are not isolated.
HOSTILE_TITLES = [
    "\u202eevil title",
    "\u202e",
    "abc\u2067",
    "\u202b\u202d\u05d0\u05d1\u05d2 12",
    "stray closers\u2069\u202c\u2069\u202e",
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "line one\n\u202eline two",
]

bidi_text = st.text(alphabet=st.sampled_from(BIDI_CONTROLS + "ab \u05d0\u05d1\n\u2029\u2028"), max_size=40)


def x_positions(text: str) -> list[float]:
    """Where the caret goes before each character of ``text`` laid out on one line by Qt."""
    layout = QTextLayout(text, QFont())
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(100_000)
    layout.endLayout()
    return [line.cursorToX(i)[0] for i in range(len(text) + 1)]


def reads_after(composed: str, ours: str) -> bool:
    """True when ``ours``, the end of ``composed``, is laid out left to right and to the
    right of everything before it (as it would be after a plain left-to-right title)."""
    assert composed.endswith(ours)
    xs = x_positions(composed)
    start = len(composed) - len(ours)
    visible = [
        i for i in range(start, len(composed)) if ours[i - start].isprintable() and ours[i - start] != " "
    ]
    rightward = all(xs[i + 1] > xs[i] for i in visible)
    before = max(xs[: start + 1])
    return rightward and all(xs[i] >= before - 0.5 for i in visible)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_our_words_after_an_isolated_title_read_left_to_right_after_it(qapp, title: str) -> None:
    assert reads_after(bidi.inline(title) + ", pending", ", pending")


def test_the_check_sees_a_flip_when_the_title_is_not_isolated(qapp) -> None:
    """The measurement itself can fail: without isolation an override reverses our words."""
    assert not reads_after("\u202eevil title, pending", ", pending")


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_sidebar_tooltip_and_accessible_text_isolate_the_title(qapp, title: str) -> None:
    model = ChatListModel(today=TODAY)
    model.set_chats([chat_view(title, NOON, chat_id="c1", pending=True, unsent=2)])
    index = model.index_of("c1")
    accessible = index.data(Qt.ItemDataRole.AccessibleTextRole)
    assert reads_after(accessible, ", pending, 2 unsent")
    first_line = index.data(Qt.ItemDataRole.ToolTipRole).split("\n")[0]
    assert first_line == bidi.inline(title)
    assert index.data(Qt.ItemDataRole.DisplayRole) == title  # the model hands out the title as stored


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_search_hit_keeps_its_snippet_readable_after_its_title(qapp, title: str) -> None:
    model = SearchResultsModel()
    snippet = f"the {SNIPPET_START}zebra{SNIPPET_END} ran"
    model.set_hits([SearchHit("c1", "m1", title, snippet, -1.0)])
    tooltip = model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert reads_after(tooltip, "the zebra ran" + bidi.PDI)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_undo_toast_keeps_its_closing_quote_after_the_title(qapp, title: str) -> None:
    text = f"Deleted “{chat_sidebar._short(title)}” from the list"  # noqa: SLF001 - the toast's own wording
    assert reads_after(text, "” from the list")


@given(bidi_text)
def test_isolated_text_is_balanced_and_closes_exactly_at_its_end(text: str) -> None:
    """Followed the bidi algorithm's way (X5a-X7): the isolate opened first is closed by the
    last character, never earlier, and no paragraph break is left inside."""
    result = bidi.isolate(text)
    assert result[0] == bidi.FSI and result[-1] == bidi.PDI
    assert not any(c in result for c in "\n\r\u2028\u2029\x1c\x1d\x1e\x85")
    stack: list[str] = []
    for position, char in enumerate(result):
        if char in "\u202a\u202b\u202d\u202e":
            stack.append("e")
        elif char in "\u2066\u2067\u2068":
            stack.append("i")
        elif char == bidi.PDF:
            assert stack and stack[-1] == "e", "a PDF that matches nothing was left in"
            stack.pop()
        elif char == bidi.PDI:
            assert "i" in stack, "a PDI that matches nothing was left in"
            while stack.pop() != "i":
                pass
            if not stack:
                assert position == len(result) - 1, "the outer isolate closed early"
    assert stack == []


def test_balanced_text_without_controls_is_returned_unchanged() -> None:
    assert bidi.balanced("plain \u05d0\u05d1 text") == "plain \u05d0\u05d1 text"
    assert bidi.balanced("\u202eab\u202c\u2069x\u2067") == "\u202eab\u202cx\u2067\u2069"


def test_one_line_shows_controls_and_cuts_long_text() -> None:
    assert bidi.one_line("a\nb\tc\r\u2028d") == "a b c  d"
    assert bidi.one_line("\x1b[31mred\x1b[0m") == "\u241b[31mred\u241b[0m"
    assert bidi.one_line("\x00\x7f\x9b") == "\u2400\u2421\ufffd"
    assert bidi.one_line("x" * 5000, 300) == "x" * 299 + "…"


def test_a_painted_sidebar_title_is_one_isolated_line(qapp) -> None:
    from PySide6.QtGui import QFontMetrics

    from galileio_desktop.ui.sidebar.chat_delegate import row_title

    title = ("\x1b[31mALERT\x1b[0m \u202e" * 800)[:5000]
    drawn = row_title(title, QFontMetrics(QFont()), 200)
    assert drawn[0] == bidi.FSI and drawn[-1] == bidi.PDI
    assert "\x1b" not in drawn and len(drawn) < 100
    assert reads_after(drawn + " 14:05", " 14:05")


def test_unknown_times_group_last_and_read_unknown_date() -> None:
    bounds = time_groups.group_bounds(TODAY)
    assert time_groups.group_of(LATEST_MS, bounds) == time_groups.UNKNOWN == time_groups.GROUPS[-1]
    assert time_groups.group_for(LATEST_MS, TODAY) == time_groups.UNKNOWN
    assert time_groups.group_of(-5, bounds) == time_groups.OLDER
    for show in (time_groups.full_time, lambda ms: time_groups.short_time(ms, TODAY)):
        assert show(LATEST_MS) == UNKNOWN_DATE
    assert time_groups.message_time(LATEST_MS, TODAY) == UNKNOWN_DATE
    assert time_groups.message_time(-5, TODAY).endswith("1969, 23:59") or "1970" in time_groups.message_time(
        -5, TODAY
    )


def test_chats_with_unknown_times_sort_last_under_their_own_header(qapp) -> None:
    model = ChatListModel(today=TODAY)
    model.set_chats(
        [
            chat_view("future", LATEST_MS, chat_id="f"),
            chat_view("today", NOON, chat_id="t"),
            chat_view("1969", -5, chat_id="o"),
        ]
    )
    rows = [str(model.index(r, 0).data()) for r in range(model.rowCount())]
    assert rows == ["Today", "today", "Older", "1969", "Unknown date", "future"]
