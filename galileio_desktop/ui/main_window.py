"""The main window: sidebar | conversation and composer | sources, with menus and a status bar.

It wires the parts together and owns what belongs to the whole window: menus
and shortcuts, export, search, error display, the remembered layout. Each part
talks to the worker client on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from . import window_settings as ws
from .chat_sidebar import ChatSidebar
from .composer import Composer
from .drafts import DraftStore
from .message_pane import MessagePane
from .search_dialog import SearchDialog
from .source_drawer import SourceDrawer
from .status_bar import SyncStatusBar
from .style import window_style

if TYPE_CHECKING:
    from .worker_client import WorkerClient

log = logging.getLogger(__name__)

APP_TITLE = "Galileio Desktop"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"
EXPORT_FORMATS = (
    ("md", "Markdown", "Markdown (*.md)"),
    ("json", "JSON", "JSON (*.json)"),
    ("csv", "CSV", "CSV (*.csv)"),
)
DEFAULT_SPLITTER = [280, 760, 340]


def app_icon() -> QIcon:
    """The app icon from ``resources/icon.svg``, or an empty icon when it is missing."""
    return QIcon(str(ICON_PATH)) if ICON_PATH.is_file() else QIcon()


class MainWindow(QMainWindow):
    """See the module docstring. Call :meth:`start` once shown."""

    def __init__(
        self,
        client: WorkerClient,
        account_label: str,
        settings: QSettings,
        drafts: DraftStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Attributes
        self.client = client
        self._settings = settings
        self._pending_sends: dict[int, str] = {}
        self._closing = False

        # Widgets
        self.sidebar = ChatSidebar(client, self)
        self.pane = MessagePane(client, self)
        self.composer = Composer(drafts, self)
        self.drawer = SourceDrawer(client, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.search_dialog = SearchDialog(client, self)
        self.status = SyncStatusBar(client, self._title_of, self)
        center = QWidget(self.splitter)

        # Setup
        self.setWindowTitle(f"{APP_TITLE} — {account_label}" if account_label else APP_TITLE)
        self.setWindowIcon(app_icon())
        self.setAccessibleName(APP_TITLE)
        self.setObjectName("mainWindow")
        self.setStatusBar(self.status)
        self.splitter.setAccessibleName("Panels")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        center.setAccessibleName("Conversation and composer")
        center.setObjectName("centerColumn")
        for part in (self.sidebar, center, self.pane, self.composer, self.drawer):
            part.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(window_style(self.palette()))
        self._build_actions()
        self._build_menus()
        # The window's Copy covers the message list: one Ctrl+C, never an ambiguous one.
        self.pane.view.removeAction(self.pane.copy_action)
        self.composer.setEnabled(False)

        # Layout
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        center_layout.addWidget(self.pane, 1)
        center_layout.addWidget(self.composer)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.drawer)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes(DEFAULT_SPLITTER)
        self.setCentralWidget(self.splitter)
        self.setTabOrder(self.sidebar.filter_edit, self.sidebar.new_button)
        self.setTabOrder(self.sidebar.new_button, self.sidebar.list_view)
        self.setTabOrder(self.sidebar.list_view, self.pane.view)
        self.setTabOrder(self.pane.view, self.composer.editor)
        self.setTabOrder(self.composer.editor, self.composer.send_button)
        self.setTabOrder(self.composer.send_button, self.drawer.scroll_area)

        # Signals
        self.sidebar.sig_chat_selected.connect(self._on_sidebar_chat_selected)
        self.sidebar.sig_new_chat_created.connect(self._on_sidebar_new_chat_created)
        self.sidebar.sig_export_requested.connect(self._on_sidebar_export_requested)
        self.pane.sig_answer_selected.connect(self.drawer.show_answer)
        self.pane.sig_sources_requested.connect(self._on_pane_sources_requested)
        self.pane.sig_question_stored.connect(self.composer.question_stored)
        self.pane.sig_question_refused.connect(self._on_pane_question_refused)
        self.pane.sig_answering_changed.connect(self._on_pane_answering_changed)
        self.composer.sig_send_requested.connect(self._on_composer_send_requested)
        self.composer.sig_stop_requested.connect(self.pane.stop_answer)
        self.search_dialog.sig_hit_chosen.connect(self._on_search_dialog_hit_chosen)
        client.sig_started.connect(self._on_client_started)
        client.sig_failed.connect(self._on_client_failed)
        client.sig_exported.connect(self._on_client_exported)

    # -- actions and menus --------------------------------------------------------------

    def _action(
        self, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | None, slot: Callable[[], object]
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.new_chat_action = self._action(
            "&New chat", QKeySequence(QKeySequence.StandardKey.New), self.sidebar.new_chat
        )
        self.export_actions: dict[str, QAction] = {}
        for fmt, label, _ in EXPORT_FORMATS:
            action = QAction(f"{label}…", self)
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
        self.view_message_action = self._action("&View message…", None, self.pane.view_current)
        self.find_action = self._action("&Find in all chats…", QKeySequence("Ctrl+K"), self.open_search)
        self.filter_action = self._action(
            "Filter chats", QKeySequence(QKeySequence.StandardKey.Find), self.sidebar.focus_filter
        )
        self.drawer_action = self._action(
            "&Sources panel", QKeySequence("Ctrl+Shift+S"), self._on_drawer_action_toggled
        )
        self.drawer_action.setCheckable(True)
        self.drawer_action.setChecked(True)
        self.focus_list_action = self._action("Go to chat list", QKeySequence("Ctrl+1"), self._focus_list)
        self.focus_messages_action = self._action(
            "Go to messages", QKeySequence("Ctrl+2"), self._focus_messages
        )
        self.focus_composer_action = self._action(
            "Go to composer", QKeySequence("Ctrl+3"), self.composer.focus_editor
        )
        self.focus_sources_action = self._action("Go to sources", QKeySequence("Ctrl+4"), self._focus_sources)
        # Ctrl+. (Cmd+. on macOS) is the platform habit for "stop what is running".
        self.stop_action = self._action("S&top answer", QKeySequence("Ctrl+."), self.pane.stop_answer)
        self.stop_action.setEnabled(False)
        self.parked_action = self._action("Changes not sent…", None, self.status.open_parked_dialog)
        self.about_action = self._action("&About", None, self._on_about_action_triggered)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_menus(self) -> None:
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
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.view_message_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.filter_action)
        chat_menu = bar.addMenu("&Chat")
        chat_menu.addAction(self.sidebar.rename_action)
        chat_menu.addAction(self.sidebar.delete_action)
        chat_menu.addSeparator()
        chat_menu.addAction(self.stop_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.drawer_action)
        view_menu.addSeparator()
        for action in (
            self.focus_list_action,
            self.focus_messages_action,
            self.focus_composer_action,
            self.focus_sources_action,
        ):
            view_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)
        self.help_menu = help_menu
        self.file_menu, self.edit_menu, self.chat_menu, self.view_menu = (
            file_menu,
            edit_menu,
            chat_menu,
            view_menu,
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads and ask for the chat list."""
        self.client.start()
        self.sidebar.reload()

    def restore_layout(self) -> None:
        settings = self._settings
        geometry = ws.read_bytes(settings, ws.GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = ws.read_bytes(settings, ws.STATE)
        if state is not None:
            self.restoreState(state)
        sizes = ws.read_ints(settings, ws.SPLITTER)
        if len(sizes) == 3 and all(s >= 0 for s in sizes):
            self.splitter.setSizes(sizes)
        self.set_drawer_visible(ws.read_bool(settings, ws.DRAWER_VISIBLE, True))

    def save_layout(self) -> None:
        settings = self._settings
        settings.setValue(ws.GEOMETRY, self.saveGeometry())
        settings.setValue(ws.STATE, self.saveState())
        settings.setValue(ws.SPLITTER, self.splitter.sizes())
        settings.setValue(ws.DRAWER_VISIBLE, self.drawer_action.isChecked())
        settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.setStyleSheet(window_style(self.palette()))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            self.save_layout()
            self.composer.save_draft()
            self.search_dialog.close()
            self.client.shutdown()
        super().closeEvent(event)

    # -- public helpers -----------------------------------------------------------------

    def insert_menu(self, menu: QMenu) -> None:
        """Add a menu of another part (the Account menu) just before Help."""
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)

    def set_drawer_visible(self, visible: bool) -> None:
        self.drawer.setVisible(visible)
        self.drawer_action.setChecked(visible)

    @Slot()
    def open_search(self) -> None:
        self.search_dialog.open_search()

    def export_current(self, fmt: str, path: str) -> int:
        """Export the open chat to ``path`` (the worker writes it); returns the request id or 0."""
        chat_id = self.sidebar.current_chat_id
        if not chat_id:
            return 0
        return self.client.export_chat(chat_id, fmt, path)

    def _title_of(self, chat_id: str) -> str:
        view = self.sidebar.model.view(chat_id)
        return view.chat.title if view is not None else ""

    # -- slots --------------------------------------------------------------------------

    @Slot(str)
    def _on_sidebar_chat_selected(self, chat_id: str) -> None:
        self.pane.show_chat(chat_id, self._title_of(chat_id))
        self.composer.set_chat(chat_id)
        self.composer.setEnabled(bool(chat_id))
        self.drawer.show_answer("")
        self.export_menu.setEnabled(bool(chat_id))
        self._on_pane_answering_changed(chat_id, self.pane.is_answering(chat_id))

    @Slot(str)
    def _on_sidebar_new_chat_created(self, chat_id: str) -> None:
        self.composer.focus_editor()

    @Slot(str)
    def _on_sidebar_export_requested(self, chat_id: str) -> None:
        self._ask_export_path("md")

    @Slot(str)
    def _on_pane_sources_requested(self, message_id: str) -> None:
        self.set_drawer_visible(True)
        self.drawer.show_answer(message_id)

    @Slot(str, str, str)
    def _on_pane_question_refused(self, chat_id: str, text: str, message: str) -> None:
        self.composer.question_refused(chat_id, text)
        self.status.showMessage(f"Not sent: {message}", 10_000)

    @Slot(str, bool)
    def _on_pane_answering_changed(self, chat_id: str, running: bool) -> None:
        if chat_id == self.pane.chat_id:
            self.composer.set_answering(running)
            self.stop_action.setEnabled(running)

    @Slot(str, str)
    def _on_composer_send_requested(self, chat_id: str, text: str) -> None:
        if chat_id and chat_id == self.pane.chat_id:
            self.pane.ask(text)

    @Slot(str, str)
    def _on_search_dialog_hit_chosen(self, chat_id: str, message_id: str) -> None:
        if not self.sidebar.select_chat(chat_id):
            self.status.showMessage("That chat is no longer here.", 6_000)
            return
        if message_id:
            self.pane.reveal_message(message_id)
        self.pane.view.setFocus()

    @Slot(bool, str)
    def _on_client_started(self, ok: bool, message: str) -> None:
        if not ok:
            self.pane.placeholder.setText(f"The chat library could not be opened.\n{message}")
            self.status.showMessage(message)

    @Slot(int, str, bool)
    def _on_client_failed(self, request_id: int, message: str, is_bug: bool) -> None:
        if is_bug:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Something went wrong",
                message,
                QMessageBox.StandardButton.Close,
                self,
            )
            box.setAccessibleName("Error")
            box.setModal(False)
            box.show()
        else:
            self.status.showMessage(message, 10_000)

    @Slot(int, str)
    def _on_client_exported(self, request_id: int, path: str) -> None:
        self.status.showMessage(f"Exported to {path}", 8_000)

    @Slot()
    def _on_export_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self._ask_export_path(str(action.data()))

    def _ask_export_path(self, fmt: str) -> None:
        chat_id = self.sidebar.current_chat_id
        if not chat_id:
            return
        title = self._title_of(chat_id) or "chat"
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip() or "chat"
        filters = ";;".join(f for _, _, f in EXPORT_FORMATS)
        chosen = next(f for k, _, f in EXPORT_FORMATS if k == fmt)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat", str(Path.home() / f"{safe}.{fmt}"), filters, chosen
        )
        if path:
            self.export_current(fmt, path)

    @Slot()
    def _on_copy_action_triggered(self) -> None:
        focus = QApplication.focusWidget()
        if isinstance(focus, (QLineEdit, QPlainTextEdit, QTextEdit)):
            focus.copy()
            return
        self.pane.copy_current()

    @Slot()
    def _on_drawer_action_toggled(self) -> None:
        self.set_drawer_visible(self.drawer_action.isChecked())

    @Slot()
    def _focus_list(self) -> None:
        self.sidebar.list_view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _focus_messages(self) -> None:
        self.pane.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _focus_sources(self) -> None:
        self.set_drawer_visible(True)
        target: QWidget = self.drawer.scroll_area
        if self.drawer.cards:
            target = self.drawer.cards[0].copy_button
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _on_about_action_triggered(self) -> None:
        from .. import __version__

        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"{APP_TITLE} {__version__}\nA local-first desktop client for Galileo chat history.",
        )
