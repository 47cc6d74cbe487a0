"""The main window's actions and menu bar: every command with its shortcut, in one place.

A mixin of :class:`~.main_window.MainWindow`: the actions call the window's own slots,
never a part directly, so the parts built after the first paint (the message pane,
the composer, the source drawer) need not exist when the menus are made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from .sidebar.chat_sidebar import ChatSidebar
    from .sync_status.status_bar import SyncStatusBar
    from .workers.client import WorkerClient

#: (format, menu label, file dialog filter) of the export formats.
EXPORT_FORMATS = (
    ("md", "Markdown", "Markdown (*.md)"),
    ("json", "JSON", "JSON (*.json)"),
    ("csv", "CSV", "CSV (*.csv)"),
)


class WindowMenus:
    """Builds the actions and menus of a QMainWindow that has the slots named below."""

    if TYPE_CHECKING:
        client: WorkerClient
        sidebar: ChatSidebar
        status: SyncStatusBar
        file_menu: QMenu
        edit_menu: QMenu
        chat_menu: QMenu
        view_menu: QMenu
        help_menu: QMenu
        export_menu: QMenu

        def close(self) -> bool: ...
        def open_search(self) -> None: ...
        def open_settings(self) -> None: ...
        def open_shortcuts(self) -> None: ...
        def _on_export_action_triggered(self) -> None: ...
        def _on_copy_action_triggered(self) -> None: ...
        def _on_view_message_action_triggered(self) -> None: ...
        def _on_find_in_chat_action_triggered(self) -> None: ...
        def _on_drawer_action_toggled(self) -> None: ...
        def _on_zoom_action_triggered(self) -> None: ...
        def _on_stop_action_triggered(self) -> None: ...
        def _on_about_action_triggered(self) -> None: ...
        def _focus_list(self) -> None: ...
        def _focus_messages(self) -> None: ...
        def _focus_composer(self) -> None: ...
        def _focus_sources(self) -> None: ...

    def _action(
        self, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | None, slot: Callable[[], object]
    ) -> QAction:
        assert isinstance(self, QMainWindow)
        action = QAction(self)  # its text set apart: see ChatSidebar (QIcon's enums)
        action.setText(text)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        assert isinstance(self, QMainWindow)
        self.new_chat_action = self._action(
            "&New chat", QKeySequence(QKeySequence.StandardKey.New), self.sidebar.new_chat
        )
        self.export_actions: dict[str, QAction] = {}
        for fmt, label, _ in EXPORT_FORMATS:
            action = QAction(self)
            action.setText(f"{label}…")
            action.setData(fmt)
            action.triggered.connect(self._on_export_action_triggered)
            self.export_actions[fmt] = action
        self.sync_action = self._action(
            "&Sync now", QKeySequence(QKeySequence.StandardKey.Refresh), self.client.sync_now
        )
        self.quit_action = self._action("&Quit", QKeySequence(QKeySequence.StandardKey.Quit), self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.copy_action = self._action(
            "&Copy", QKeySequence(QKeySequence.StandardKey.Copy), self._on_copy_action_triggered
        )
        self.view_message_action = self._action(
            "&View message…", None, self._on_view_message_action_triggered
        )
        self.find_in_chat_action = self._action(
            "F&ind in chat…",
            QKeySequence(QKeySequence.StandardKey.Find),
            self._on_find_in_chat_action_triggered,
        )
        self.find_action = self._action("&Find in all chats…", QKeySequence("Ctrl+K"), self.open_search)
        # Ctrl+F finds in the chat; the filter keeps F, with Shift.
        self.filter_action = self._action(
            "Filter chats", QKeySequence("Ctrl+Shift+F"), self.sidebar.focus_filter
        )
        self.drawer_action = self._action(
            "&Sources panel", QKeySequence("Ctrl+Shift+S"), self._on_drawer_action_toggled
        )
        self.drawer_action.setCheckable(True)
        self.drawer_action.setChecked(True)
        # Ctrl+= is Ctrl++ without Shift on most keyboards; both zoom in.
        self.zoom_in_action = self._action("Zoom &in", QKeySequence("Ctrl+="), self._on_zoom_action_triggered)
        self.zoom_in_action.setShortcuts(
            [QKeySequence("Ctrl+="), QKeySequence(QKeySequence.StandardKey.ZoomIn)]
        )
        self.zoom_in_action.setData(1)
        self.zoom_out_action = self._action(
            "Zoom &out", QKeySequence(QKeySequence.StandardKey.ZoomOut), self._on_zoom_action_triggered
        )
        self.zoom_out_action.setData(-1)
        self.zoom_reset_action = self._action(
            "&Actual size", QKeySequence("Ctrl+0"), self._on_zoom_action_triggered
        )
        self.zoom_reset_action.setData(0)
        self.focus_list_action = self._action("Go to chat list", QKeySequence("Ctrl+1"), self._focus_list)
        self.focus_messages_action = self._action(
            "Go to messages", QKeySequence("Ctrl+2"), self._focus_messages
        )
        self.focus_composer_action = self._action(
            "Go to composer", QKeySequence("Ctrl+3"), self._focus_composer
        )
        self.focus_sources_action = self._action("Go to sources", QKeySequence("Ctrl+4"), self._focus_sources)
        # Ctrl+. (Cmd+. on macOS) is the platform habit for "stop what is running".
        self.stop_action = self._action(
            "S&top answer", QKeySequence("Ctrl+."), self._on_stop_action_triggered
        )
        self.stop_action.setEnabled(False)
        self.parked_action = self._action("Changes not sent…", None, self.status.open_parked_dialog)
        self.settings_action = self._action("Se&ttings…", QKeySequence("Ctrl+,"), self.open_settings)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.shortcuts_action = self._action(
            "&Keyboard shortcuts", QKeySequence("Ctrl+/"), self.open_shortcuts
        )
        self.about_action = self._action("&About", None, self._on_about_action_triggered)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_menus(self) -> None:
        assert isinstance(self, QMainWindow)
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_chat_action)
        export_menu = file_menu.addMenu("&Export chat as")
        for action in self.export_actions.values():
            export_menu.addAction(action)
        self.export_menu = export_menu
        file_menu.addSeparator()
        file_menu.addAction(self.sync_action)
        file_menu.addAction(self.parked_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.view_message_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_in_chat_action)
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.filter_action)
        chat_menu = bar.addMenu("&Chat")
        chat_menu.addAction(self.sidebar.pin_action)
        chat_menu.addAction(self.sidebar.rename_action)
        chat_menu.addAction(self.sidebar.delete_action)
        chat_menu.addSeparator()
        chat_menu.addAction(self.stop_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.drawer_action)
        view_menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (
            self.focus_list_action,
            self.focus_messages_action,
            self.focus_composer_action,
            self.focus_sources_action,
        ):
            view_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)
        self.help_menu = help_menu
        self.file_menu, self.edit_menu, self.chat_menu, self.view_menu = (
            file_menu,
            edit_menu,
            chat_menu,
            view_menu,
        )
