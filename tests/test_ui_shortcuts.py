"""Help → Keyboard shortcuts: made from the window's actions, so it lists every key and no key twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from ui_helpers import offline_factory, seed_library

from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.shortcuts.shortcut_map import conflicts, plain_text
from galileio_desktop.ui.shortcuts.shortcuts_dialog import ShortcutsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path):
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=1)
    window = build_window(offline_factory(mirror), None, "analyst", tmp_path / "settings")
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    with qtbot.waitSignal(window.pane.sig_chat_ready, timeout=10_000):
        window.start()
    yield window
    window.close()


def open_list(qtbot, window: MainWindow) -> ShortcutsDialog:
    window.shortcuts_action.trigger()
    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def every_keyed_action(window: MainWindow) -> list[QAction]:
    """Independently of the map: every QAction under the window or on its widgets with a key
    and a widget that carries it."""
    from PySide6.QtWidgets import QWidget

    found = set(window.findChildren(QAction))
    for widget in (window, *window.findChildren(QWidget)):
        found.update(QWidget.actions(widget))
    return [
        a
        for a in found
        if any(not k.isEmpty() for k in a.shortcuts())
        and any(isinstance(o, QWidget) for o in a.associatedObjects())
    ]


def test_every_action_with_a_key_is_listed(qtbot, window: MainWindow) -> None:
    assert window.shortcuts_action.shortcut().toString() == "Ctrl+/"
    assert window.shortcuts_action in window.help_menu.actions()
    dialog = open_list(qtbot, window)
    listed = dialog.listed()
    expected = every_keyed_action(window)
    assert len(expected) >= 15
    for action in expected:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        assert (plain_text(action.text()), keys) in listed, action.text()
    assert len([row for row in dialog.rows if row.action is not None]) == len(expected)
    # The keys of the parts, not only the menus': sending, renaming, the list itself.
    names = {name for name, _ in listed}
    assert {"Send", "Rename", "Settings", "Keyboard shortcuts", "Find in all chats"} <= names


def test_no_two_actions_answer_the_same_key_in_one_place(window: MainWindow) -> None:
    window.build_parts()
    assert conflicts(window) == []


def test_a_clashing_key_is_found(window: MainWindow) -> None:
    clash = QAction("Clash", window.composer.editor)
    clash.setShortcut(QKeySequence("Ctrl+Return"))
    clash.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    window.composer.editor.addAction(clash)
    found = conflicts(window)
    assert len(found) == 1 and found[0].startswith("Ctrl+Return: 'Clash' and 'Send'")
    # The same key on a widget elsewhere does not clash: only one answers at a time.
    clash.setShortcut(QKeySequence("Ctrl+Shift+C"))  # Copy as Markdown, on the messages only
    assert conflicts(window) == []


def test_an_action_added_later_is_listed_the_next_time(qtbot, window: MainWindow) -> None:
    dialog = open_list(qtbot, window)
    dialog.close()
    late = QAction("Late action", window)
    late.setShortcut(QKeySequence("Ctrl+Shift+L"))
    window.addAction(late)
    again = open_list(qtbot, window)
    assert again is dialog and ("Late action", "Ctrl+Shift+L") in again.listed()


def test_the_filter_narrows_by_name_or_key_and_says_when_nothing_matches(qtbot, window: MainWindow) -> None:
    dialog = open_list(qtbot, window)
    assert dialog.filter_edit.hasFocus() or dialog.filter_edit.accessibleName() == "Filter shortcuts"
    qtbot.keyClicks(dialog.filter_edit, "ctrl+k")
    assert dialog.listed() == [("Find in all chats", "Ctrl+K")]
    dialog.filter_edit.setText("send")
    assert [name for name, _ in dialog.listed()] == ["Send"]
    dialog.filter_edit.setText("no such thing")
    assert dialog.listed() == [] and dialog.empty_label.isVisibleTo(dialog)


def test_keys_a_widget_handles_itself_are_listed_once_registered(qtbot, window: MainWindow) -> None:
    from galileio_desktop.ui.shortcuts.shortcut_map import register_keys

    register_keys(window.sidebar.filter_edit, [("Down", "Go to the first chat")])
    listed = open_list(qtbot, window).listed()
    assert ("Go to the first chat", "Down") in listed
