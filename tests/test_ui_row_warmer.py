"""Rows laid out ahead of the viewport (row_warmer) on a real offscreen window."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import running_client, seed_long_chat, shown_pane

from galileio_desktop.ui.conversation import message_delegate
from galileio_desktop.ui.conversation.message_list_model import MessageListModel
from galileio_desktop.ui.conversation.message_pane import MessagePane
from galileio_desktop.ui.conversation.row_warmer import AHEAD_SCREENS

pytestmark = pytest.mark.gui


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, str]:
    mirror = tmp_path / "mirror.sqlite3"
    return mirror, seed_long_chat(mirror, 120, link_every=10)


@pytest.fixture
def client(qtbot, chat):
    client = running_client(qtbot, chat[0])
    yield client
    client.shutdown()


@pytest.fixture
def pane(qtbot, client, chat) -> MessagePane:
    return shown_pane(qtbot, client, chat[1], "Long chat")


def _settled(qtbot, pane: MessagePane) -> None:
    """Wait until the warmer has nothing left to do."""
    qtbot.waitUntil(lambda: not pane.warmer.is_active() and not pane.delegate.has_pending(), timeout=10_000)


def _visible_rows(pane: MessagePane) -> range:
    view = pane.view
    viewport = view.viewport().rect()
    first = view.indexAt(viewport.topLeft()).row()
    last = view.indexAt(viewport.bottomLeft()).row()
    return range(first, (last if last >= 0 else pane.model.rowCount() - 1) + 1)


def _build_count_of_a_paint(pane: MessagePane) -> int:
    before = pane.delegate.documents_built
    pane.view.viewport().repaint()
    return pane.delegate.documents_built - before


def test_rows_above_the_viewport_are_built_before_a_scroll_paints_them(qtbot, pane, monkeypatch) -> None:
    """With a document cache too small to keep every measured row, rows scrolled into view
    are still found built: the warmer laid them out in idle turns, ahead of the scroll."""
    monkeypatch.setattr(message_delegate, "DOC_CACHE_SIZE", 40)
    bar = pane.view.verticalScrollBar()
    height = pane.view.viewport().height()
    _settled(qtbot, pane)
    steps = 0
    while bar.value() > 0 and steps < 12:
        bar.setValue(bar.value() - height // 2)  # the user scrolls up half a screen
        assert _build_count_of_a_paint(pane) == 0, f"a paint laid rows out at step {steps}"
        _settled(qtbot, pane)
        steps += 1
    assert steps >= 3  # the scroll crossed rows whose documents were dropped and built again
    assert pane.warmer.documents_warmed > 0
    assert len(pane.delegate._docs) <= 40  # the cache's limit holds


def test_rows_ahead_are_those_in_the_direction_of_the_scroll(qtbot, pane) -> None:
    bar = pane.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    _settled(qtbot, pane)
    visible = _visible_rows(pane)
    bar.setValue(bar.value() - 5)  # up
    _settled(qtbot, pane)
    assert pane.warmer.direction == -1
    order = list(pane.warmer.rows_to_warm())
    visible = _visible_rows(pane)
    assert order[: len(visible)] == list(visible)
    ahead = order[len(visible)]
    assert ahead == visible[0] - 1
    bar.setValue(bar.value() + 5)  # down
    assert pane.warmer.direction == 1
    order = list(pane.warmer.rows_to_warm())
    visible = _visible_rows(pane)
    assert order[len(visible)] == visible[-1] + 1
    # Ahead reaches a few screens; behind less.
    above = [n for n in order if n < visible[0]]
    below = [n for n in order if n > visible[-1]]
    assert len(below) > len(above) > 0
    reach = pane.view.visualRect(pane.model.index(below[-1], 0)).top()
    assert reach < (1 + AHEAD_SCREENS) * pane.view.viewport().height()


def test_rows_warmed_are_never_more_than_half_the_cache(qtbot, pane, monkeypatch) -> None:
    monkeypatch.setattr(message_delegate, "DOC_CACHE_SIZE", 6)
    _settled(qtbot, pane)
    assert len(list(pane.warmer.rows_to_warm())) <= 3
    assert len(pane.delegate._docs) <= 6


def test_a_width_change_lays_the_rows_out_again(qtbot, pane) -> None:
    _settled(qtbot, pane)
    delegate = pane.delegate
    rows = [pane.model.row_at(n) for n in _visible_rows(pane)]
    wide = {row.key: delegate.document(row).textWidth() for row in rows}
    pane.resize(420, 600)
    qtbot.waitUntil(lambda: delegate._width == pane.view.viewport().width(), timeout=3000)
    _settled(qtbot, pane)
    assert _build_count_of_a_paint(pane) == 0  # the warmer built the narrower rows too
    for number in _visible_rows(pane):
        row = pane.model.row_at(number)
        assert delegate.has_document(row)
        assert delegate.document(row).textWidth() <= wide.get(row.key, 1e9)
        state = MessageListModel.state_text(row)
        assert pane.view.visualRect(pane.model.index(number, 0)).height() == delegate.row_height(row, state)


def test_a_chat_switch_warms_the_new_chat_from_its_end(qtbot, pane, chat, tmp_path) -> None:
    bar = pane.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    bar.setValue(bar.maximum())  # last move down
    assert pane.warmer.direction == 1
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat("", "")
        pane.show_chat(chat[1], "Long chat")
    assert pane.warmer.direction == -1
    _settled(qtbot, pane)
    above = _visible_rows(pane)[0] - 1
    assert above >= 0 and pane.delegate.has_document(pane.model.row_at(above))
