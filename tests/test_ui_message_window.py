"""The message pane holds a bounded window of a long chat: scrolling up drops the newest
rows, scrolling back down brings them back and drops the oldest, a far message opens with
the rows around it, and asking from far up goes back to the chat's end. Every layout then
asks a few hundred rows their height, not every message of the chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import (
    local_docs_factory,
    running_client,
    seed_big_mirror,
    shown_pane,
    write_docs,
)

from galileio_desktop.ui.conversation.message_ops import PAGE_SIZE
from galileio_desktop.ui.conversation.message_pane import WINDOW_ROWS, MessagePane
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui

MESSAGES = 1_200


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, str]:
    mirror = tmp_path / "mirror.sqlite3"
    return mirror, seed_big_mirror(mirror, 3, MESSAGES)


@pytest.fixture
def client(qtbot, chat, tmp_path: Path):
    assistant = local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3")
    client = running_client(qtbot, chat[0], assistant)
    yield client
    client.shutdown()


@pytest.fixture
def pane(qtbot, client: WorkerClient, chat) -> MessagePane:
    return shown_pane(qtbot, client, chat[1], "Big chat")


def _keys(pane: MessagePane) -> list[str]:
    return [row.key for row in pane.model.rows()]


def _scroll_to_end(qtbot, pane: MessagePane, *, top: bool, until) -> int:  # noqa: ANN001
    """Scroll to the top (bottom) until ``until()``; returns the most rows held meanwhile."""
    bar = pane.view.verticalScrollBar()
    most = 0
    for _ in range(400):
        if until():
            return most
        bar.setValue(bar.minimum() if top else bar.maximum())
        qtbot.wait(15)
        most = max(most, pane.model.rowCount())
    raise AssertionError("the end was never reached")


def test_scrolling_a_long_chat_both_ways_keeps_a_bounded_window(qtbot, pane: MessagePane) -> None:
    model = pane.model
    assert _keys(pane)[-1] == f"msg-{MESSAGES - 1:05d}" and not model.has_newer()
    most = _scroll_to_end(
        qtbot, pane, top=True, until=lambda: _keys(pane)[0] == "msg-00000" and not model.has_older()
    )
    assert most <= WINDOW_ROWS + PAGE_SIZE
    assert model.has_newer() and not model.has_older()
    assert f"msg-{MESSAGES - 1:05d}" not in _keys(pane)  # the newest rows went
    keys = _keys(pane)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # in order, no gap filled twice
    most = _scroll_to_end(
        qtbot,
        pane,
        top=False,
        until=lambda: _keys(pane)[-1] == f"msg-{MESSAGES - 1:05d}" and not model.has_newer(),
    )
    assert most <= WINDOW_ROWS + PAGE_SIZE
    assert model.has_older() and "msg-00000" not in _keys(pane)
    keys = _keys(pane)
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    # Back at the end, new rows keep the view at the bottom again.
    bar = pane.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() >= bar.maximum() - 2, timeout=3000)


def _record_paints(view, order: list[str]):  # noqa: ANN001, ANN202
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                order.append("paint")
            return False

    paints = Paints(view)
    view.viewport().installEventFilter(paints)
    return paints


def test_a_page_arriving_between_a_scroll_and_its_paint_goes_in_after_the_paint(
    qtbot, pane: MessagePane, monkeypatch
) -> None:
    """A page going in is a layout of every row: handed on in the pass of the event loop
    that scrolled (a frame's scroll, then the page's turn), it would run before the
    scroll's paint, both in one go. It goes in after the paint."""
    bar = pane.view.verticalScrollBar()
    order: list[str] = []
    run = pane.scroll_paint.run

    def scroll_then_run(work) -> None:  # noqa: ANN001
        bar.setValue(bar.value() - 1)  # a frame's scroll in the pass the page arrives in
        order.append("scroll")
        run(work)

    monkeypatch.setattr(pane.scroll_paint, "run", scroll_then_run)
    prepend = pane._prepend_keeping_place
    monkeypatch.setattr(pane, "_prepend_keeping_place", lambda *call: (order.append("page"), prepend(*call)))
    qtbot.wait(50)
    _record_paints(pane.view, order)
    rows = pane.model.rowCount()
    bar.setValue(bar.maximum() // 4)  # near the top: an older page is asked for
    qtbot.waitUntil(lambda: pane.model.rowCount() > rows, timeout=10_000)
    page = order.index("page")
    scroll = page - 1 - order[:page][::-1].index("scroll")
    assert "paint" in order[scroll:page]


def test_work_held_for_a_scrolls_paint_waits_a_few_turns_at_most(qtbot, pane: MessagePane) -> None:
    """Work runs at once when no scroll's paint is due, after the paint when one is, and
    after a few turns when the paint does not come (nothing moved, or not on screen)."""
    wait = pane.scroll_paint
    ran: list[str] = []
    qtbot.wait(50)
    wait.run(lambda: ran.append("now"))
    assert ran == ["now"]
    wait.scrolled()  # as if scrolled, but nothing to paint
    wait.run(lambda: ran.append("later"))
    assert ran == ["now"] and wait.is_waiting()
    qtbot.waitUntil(lambda: ran == ["now", "later"], timeout=2_000)
    pane.view.hide()
    wait.scrolled()
    wait.run(lambda: ran.append("hidden"))
    assert ran[-1] == "hidden"  # a hidden view paints nothing: no wait


def _on_screen(view):  # noqa: ANN001, ANN202
    """The viewport's pixels as the window shows them (not painted afresh)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QGuiApplication, QImage

    viewport, window = view.viewport(), view.window()
    corner = viewport.mapTo(window, QPoint(0, 0))
    shot = QGuiApplication.primaryScreen().grabWindow(  # (static: see galileio_desktop/ui/screens.py)
        window.winId(), corner.x(), corner.y(), viewport.width(), viewport.height()
    )
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def _painted_afresh(view):  # noqa: ANN001, ANN202
    from PySide6.QtGui import QImage

    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _unlike(a, b) -> int:  # noqa: ANN001
    """Pixels whose colours differ by more than antialiasing's rounding (an edge drawn in
    two partial paints may differ by a little from one drawn whole)."""
    if a == b:
        return 0
    count = 0
    for y in range(a.height()):
        for x in range(a.width()):
            pa, pb = a.pixel(x, y), b.pixel(x, y)
            if pa != pb and max(abs((pa >> s & 255) - (pb >> s & 255)) for s in (0, 8, 16)) > 16:
                count += 1
    return count


def _settle(qtbot, pane: MessagePane) -> None:
    qtbot.waitUntil(lambda: not pane.warmer.is_active() and not pane.delegate.has_pending(), timeout=10_000)
    qtbot.wait(50)


def test_a_layout_that_leaves_the_rows_shown_in_place_repaints_nothing(qtbot, pane: MessagePane) -> None:
    """A layout of every row (a page going in above, rows measured above) with the rows
    on screen where they were leaves the screen as it was; one that moves them repaints."""
    view = pane.view
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    _settle(qtbot, pane)
    paints = view.paints
    view.layout_in_place(view.doItemsLayout)
    qtbot.wait(100)
    assert view.paints == paints  # a plain layout repaints the whole viewport
    assert _unlike(_on_screen(view), _painted_afresh(view)) == 0
    view.layout_in_place(lambda: (view.doItemsLayout(), bar.setValue(bar.value() - 120)))
    qtbot.waitUntil(lambda: view.paints > paints, timeout=2_000)
    qtbot.wait(50)
    assert _unlike(_on_screen(view), _painted_afresh(view)) == 0


def test_what_shows_after_older_pages_go_in_is_what_a_paint_draws(qtbot, pane: MessagePane) -> None:
    """Pages going in above repaint nothing when the rows shown stay: the screen must then
    be what painting afresh draws, page after page."""
    view = pane.view
    bar = view.verticalScrollBar()
    for _ in range(3):
        rows = pane.model.rowCount()
        bar.setValue(min(bar.value(), view.viewport().height()))  # near the top: a page is asked for
        qtbot.waitUntil(lambda: pane.model.rowCount() > rows, timeout=10_000)  # noqa: B023
        _settle(qtbot, pane)
        assert _unlike(_on_screen(view), _painted_afresh(view)) == 0


def test_a_far_message_opens_with_the_rows_around_it(qtbot, pane: MessagePane) -> None:
    target = "msg-00100"
    pane.reveal_message(target)
    qtbot.waitUntil(lambda: pane.current_row_key() == target, timeout=10_000)
    keys = _keys(pane)
    assert len(keys) <= 2 * PAGE_SIZE + 1 and keys == sorted(keys)
    assert keys[0] <= "msg-00050" and keys[-1] >= "msg-00150"
    assert pane.model.has_older() and pane.model.has_newer()


def test_asking_from_far_up_goes_back_to_the_end_of_the_chat(qtbot, pane: MessagePane) -> None:
    pane.reveal_message("msg-00010")
    qtbot.waitUntil(lambda: pane.current_row_key() == "msg-00010", timeout=10_000)
    assert pane.model.has_newer()
    with qtbot.waitSignal(pane.sig_question_stored, timeout=10_000):
        pane.ask("A new question")
    qtbot.waitUntil(lambda: not pane.model.has_newer(), timeout=10_000)
    qtbot.waitUntil(lambda: any(row.text == "A new question" for row in pane.model.rows()), timeout=10_000)
    keys = _keys(pane)
    assert f"msg-{MESSAGES - 1:05d}" in keys
    question = next(n for n, row in enumerate(pane.model.rows()) if row.text == "A new question")
    assert question > keys.index(f"msg-{MESSAGES - 1:05d}")  # after the newest, not in the old window


def test_a_far_message_written_with_a_hostile_time_opens_with_its_neighbours(
    qtbot, pane: MessagePane, chat
) -> None:
    """Another writer stored createdAt 10^20 (far past year 9999): the message sorts last,
    opens when revealed, and the window around it reads no row twice."""
    from ui_helpers import USER

    from galileio_desktop.data.schema import Message
    from galileio_desktop.data.sync import ChatLibrary

    item = Message("msg-hostile", chat[1], USER, "ai", "From the far future \u202e[1]", 0).to_item()
    item["createdAt"] = {"N": str(10**20)}
    with ChatLibrary(chat[0], USER, None) as library:
        library.store_remote_items([item])
    pane.reveal_message("msg-00005")
    qtbot.waitUntil(lambda: pane.current_row_key() == "msg-00005", timeout=10_000)
    pane.reveal_message("msg-hostile")
    qtbot.waitUntil(lambda: pane.current_row_key() == "msg-hostile", timeout=10_000)
    keys = _keys(pane)
    assert keys[-1] == "msg-hostile" and len(keys) == len(set(keys))
    assert not pane.model.has_newer()
