"""Small windows: at 800x600 and 1024x640 nothing is cut off, nothing scrolls sideways, the
source drawer floats over the conversation (chips and citations open it, Esc closes it)
and docks again in a wide window; panel sizes are kept per screen size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QWidget
from ui_helpers import local_docs_factory, offline_factory, seed_library, write_docs

from galileio_desktop.ui import window_settings as ws
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.conversation.message_list_model import AI
from galileio_desktop.ui.drawer_placement import OVERLAY_BELOW
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.screens import available_geometry

pytestmark = pytest.mark.gui


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=14)
    return {
        "mirror": mirror,
        "settings": tmp_path / "settings",
        "docs": write_docs(tmp_path / "docs"),
        "index": tmp_path / "index.sqlite3",
    }


def open_window(qtbot, paths: dict[str, Path], size: tuple[int, int]) -> MainWindow:
    window = build_window(
        offline_factory(paths["mirror"]),
        local_docs_factory(paths["docs"], paths["index"]),
        "a@example.com",
        paths["settings"],
    )
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    qtbot.waitUntil(lambda: window.sidebar.model.rowCount() > 10, timeout=5_000)
    return window


def answer_id(window: MainWindow) -> str:
    model = window.pane.model
    for row in range(model.rowCount() - 1, -1, -1):
        message = model.row_at(row)
        if message is not None and message.kind == AI and message.message_id:
            return message.message_id
    raise AssertionError("no answer in the open chat")


def clipped_widgets(window: MainWindow) -> list[str]:
    """Visible widgets that reach outside their parent (a scroll area's content may be
    taller than its viewport, never wider)."""
    out = []
    for widget in window.findChildren(QWidget):
        parent = widget.parentWidget()
        if parent is None or widget.isWindow() or not widget.isVisibleTo(window):
            continue
        if parent.objectName() in ("qt_scrollarea_viewport",) or parent.objectName().startswith("qt_"):
            inside = widget.x() >= 0 and widget.geometry().right() <= parent.width() - 1
        else:
            inside = parent.rect().contains(widget.geometry())
        if not inside:
            out.append(f"{type(widget).__name__} {widget.objectName()!r} {widget.accessibleName()!r}")
    return out


def check_layout(window: MainWindow) -> None:
    assert clipped_widgets(window) == []
    sideways = [
        area.accessibleName() or type(area).__name__
        for area in window.findChildren(QAbstractScrollArea)
        if area.isVisibleTo(window) and area.horizontalScrollBar().isVisible()
    ]
    assert sideways == []
    # Every chat row fits the list (its date is drawn at the row's right end).
    view = window.sidebar.list_view
    for row in range(min(view.model().rowCount(), 8)):
        rect = view.visualRect(view.model().index(row, 0))
        assert rect.left() >= 0 and rect.right() <= view.viewport().width() - 1


def check_toast(qtbot, window: MainWindow, toast: QWidget, label: QLabel) -> None:
    toast.show_message("Deleted “A chat title long enough to wrap on several lines of a toast”", "Undo")
    qtbot.waitUntil(toast.isVisible)
    where = QRect(toast.mapTo(window, toast.rect().topLeft()), toast.size())
    assert window.rect().contains(where)
    assert toast.parentWidget().rect().contains(toast.geometry())
    assert label.heightForWidth(label.width()) <= label.height()  # every line of it shows


@pytest.mark.parametrize("size", [(800, 600), (1024, 640)], ids=["800x600", "1024x640"])
def test_a_small_window_cuts_nothing_off(qtbot, paths: dict[str, Path], size: tuple[int, int]) -> None:
    window = open_window(qtbot, paths, size)
    try:
        assert window.width() < OVERLAY_BELOW
        assert window._placement is not None and window._placement.overlay
        assert window.splitter.count() == 2  # the drawer left the panels
        check_layout(window)
        # The conversation gets what the chat list leaves.
        assert window.pane.width() >= window.width() - window.sidebar.width() - 4
        assert window.pane.width() >= 0.6 * window.width()
        check_toast(qtbot, window, window.sidebar.toast, window.sidebar.toast._label)
        check_toast(qtbot, window, window.pane.toast, window.pane.toast._label)
        # The drawer, opened over the conversation, fits too.
        window.set_drawer_visible(True)
        check_layout(window)
    finally:
        window.close()


def test_chips_and_citations_open_the_overlay_and_esc_closes_it(qtbot, paths: dict[str, Path]) -> None:
    window = open_window(qtbot, paths, (900, 640))
    try:
        placement = window._placement
        assert placement is not None and placement.overlay
        frame = placement.frame
        assert not frame.isVisible() and not window.drawer_action.isChecked()
        window.pane.view.setFocus()
        message_id = answer_id(window)

        with qtbot.waitSignal(window.drawer.sig_sources_shown, timeout=5_000):
            window.pane.sig_sources_requested.emit(message_id)
        assert frame.isVisible() and window.drawer_action.isChecked()
        assert window.drawer.isVisibleTo(frame) and frame.isAncestorOf(window.drawer)
        assert window.rect().contains(frame.geometry())
        assert frame.geometry().right() == window.splitter.geometry().right()
        assert frame.isAncestorOf(window.focusWidget())
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
        assert not frame.isVisible() and not window.drawer_action.isChecked()
        assert window.focusWidget() is window.pane.view  # back where the user was

        with qtbot.waitSignal(window.drawer.sig_source_revealed, timeout=5_000):
            window.pane.sig_citation_clicked.emit(message_id, 2)
        assert frame.isVisible()
        frame.close_button.click()
        assert not frame.isVisible()
        # View > Sources panel toggles it too.
        window.drawer_action.trigger()
        assert frame.isVisible()
    finally:
        window.close()


def test_a_wide_window_docks_the_drawer_again(qtbot, paths: dict[str, Path]) -> None:
    window = open_window(qtbot, paths, (900, 640))
    try:
        placement = window._placement
        assert placement is not None and placement.overlay
        window.resize(1300, 800)
        qtbot.waitUntil(lambda: not placement.overlay)
        assert window.splitter.count() == 3 and window.splitter.widget(2) is window.drawer
        assert window.drawer.isVisible() and window.drawer_action.isChecked()
        assert not placement.frame.isVisible()
        window.set_drawer_visible(False)
        window.resize(900, 640)
        qtbot.waitUntil(lambda: placement.overlay)
        window.resize(1300, 800)
        qtbot.waitUntil(lambda: not placement.overlay)
        assert not window.drawer.isVisible()  # the user's choice for the docked drawer holds
    finally:
        window.close()


def test_panel_sizes_are_kept_per_screen_size(qtbot, paths: dict[str, Path]) -> None:
    window = open_window(qtbot, paths, (1300, 800))
    window.splitter.setSizes([230, 770, 300])
    sizes = window.splitter.sizes()
    screen = available_geometry(window)
    assert screen is not None
    window.close()
    settings = ws.open_settings(paths["settings"])
    assert ws.read_ints(settings, ws.splitter_key(screen.width(), screen.height())) == sizes
    # Sizes left on another screen do not move these.
    settings.setValue(ws.splitter_key(screen.width() + 1, screen.height()), [400, 500, 400])
    settings.sync()
    again = open_window(qtbot, paths, (1300, 800))
    try:
        assert again.splitter.sizes()[0] == sizes[0]
    finally:
        again.close()
