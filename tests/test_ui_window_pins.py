"""Pins and the chat filter in the real window: Chat → Pin (Ctrl+Shift+P) on the open
chat, and "Search messages and sources" from a filter that matches no title."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_helpers import USER, local_docs_factory, offline_factory, seed_library, write_docs

from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.app_window import build_window

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path):
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=3)
    window = build_window(
        offline_factory(mirror),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "docs-index.sqlite3"),
        "analyst@example.com",
        tmp_path / "settings",
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    with qtbot.waitSignal(window.sidebar.sig_list_loaded, timeout=10_000):
        window.start()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.mirror = mirror
    yield window
    window.close()


def test_chat_menu_pins_the_open_chat_with_ctrl_shift_p(qtbot, window) -> None:
    sidebar = window.sidebar
    assert window.chat_menu.actions()[0] is sidebar.pin_action
    assert sidebar.pin_action.shortcut().toString() == "Ctrl+Shift+P"
    qtbot.waitUntil(lambda: bool(sidebar.current_chat_id), timeout=5000)
    open_id = sidebar.current_chat_id
    window.composer.focus_editor()  # wherever the focus is
    qtbot.keyClick(
        window.focusWidget() or window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: sidebar.model.index(0, 0).data() == "Pinned", timeout=5000)
    assert sidebar.current_chat_id == open_id and sidebar.pin_action.text() == "Unpin"
    with ChatLibrary(window.mirror, USER, None) as library:
        assert [v.chat.chat_id for v in library.list_chats() if v.pinned] == [open_id]


def test_a_filter_without_matches_searches_messages(qtbot, window) -> None:
    sidebar = window.sidebar
    qtbot.keyClicks(sidebar.filter_edit, "quarterly")
    qtbot.waitUntil(sidebar.no_match.isVisible, timeout=3000)
    qtbot.mouseClick(sidebar.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.search_dialog.isVisible, timeout=3000)
    assert window.search_dialog.query_edit.text() == "quarterly"
    window.search_dialog.close()
