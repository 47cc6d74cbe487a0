"""The main window: sidebar | conversation and composer | sources, with menus and a status bar.

It wires the parts together and owns what belongs to the whole window: menus
and shortcuts (see :mod:`.window_menus`), export, search, error display, the
remembered layout. Each part talks to the worker client on its own.

The chat list is what the user waits for at start-up, so the window first builds
only the sidebar, the menus and the status bar; the message pane, the composer,
the source drawer and the search dialog (and their modules) are built just after
the list's first paint, or at once when anything asks for them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QRect, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QMainWindow, QMenu, QSplitter, QVBoxLayout, QWidget

from . import collector
from . import window_settings as ws
from .app_identity import APP_TITLE, ICON_PATH, app_icon, install_app_icon
from .settings.preferences_controller import PreferencesController
from .sidebar.chat_sidebar import ChatSidebar
from .style import window_style
from .sync_status.status_bar import SyncStatusBar
from .window_menus import EXPORT_FORMATS, WindowMenus
from .workers.operation import LibraryOp, OpFailure

if TYPE_CHECKING:
    from .conversation.composer import Composer
    from .conversation.drafts import DraftStore
    from .conversation.message_pane import MessagePane
    from .conversation.source_drawer import SourceDrawer
    from .drawer_placement import DrawerPlacement
    from .search.search_dialog import SearchDialog
    from .settings.account_host import AccountSettingsHost
    from .workers.client import WorkerClient

log = logging.getLogger(__name__)

__all__ = ["APP_TITLE", "EXPORT_FORMATS", "ICON_PATH", "MainWindow", "app_icon"]

DEFAULT_SPLITTER = [280, 760, 340]
#: The parts, the sync worker and the answer thread come when the chat list is painted,
#: or after this long whatever happens.
BACKGROUND_START_MS = 2_000
#: Imported one per turn of the event loop after the first paint (see build_parts), each
#: before the modules that import it, so a turn holds one module's own work: the code
#: colourer with Pygments in one turn was about 15 ms, the delegate with both 25.
#: A leading dot: a module of this package.
PART_MODULES = (
    ".links",
    ".theme",
    ".conversation.message_list_model",
    "pygments.util",
    "pygments.filters",
    "pygments.lexer",
    "pygments.lexers",
    ".conversation.code_highlight",
    ".conversation.message_document",
    ".conversation.message_delegate",
    ".conversation.message_view",
    ".conversation.view_message_dialog",
    ".conversation.message_pane",
    ".conversation.composer",
    ".conversation.source_drawer",
    ".search.search_dialog",
)


#: File systems allow 255 bytes a name; the suggested name keeps well under it.
EXPORT_STEM_CHARS = 80


def export_file_stem(title: str) -> str:
    """A file name (without extension) suggested for a chat's export: letters, digits,
    spaces, '-' and '_' of the title, cut to :data:`EXPORT_STEM_CHARS` (a long title
    written by anyone must not make a name the file system refuses)."""
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title)
    return safe[:EXPORT_STEM_CHARS].strip() or "chat"


class MainWindow(QMainWindow, WindowMenus):
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
        self._drafts = drafts
        self._closing = False
        #: The notice that a damaged local copy was replaced (shown once, not modal).
        self._recovery_notice: QWidget | None = None
        self._started = False
        self._pane: MessagePane | None = None
        #: The pane made in a turn of its own before the other parts (see build_parts).
        self._early_pane: MessagePane | None = None
        self._composer: Composer | None = None
        self._drawer: SourceDrawer | None = None
        self._search_dialog: SearchDialog | None = None
        #: The chat chosen before the pane existed, shown when it is built.
        self._pending_chat: str | None = None
        #: What is left to do after the first paint, one step per turn (None: not begun).
        self._parts_steps: list[Callable[[], object]] | None = None
        self._drawer_visible = True
        #: Docks the drawer in a wide window, floats it over the conversation in a narrow one.
        self._placement: DrawerPlacement | None = None
        #: The account's AWS region (for the console links of s3 sources); "" when unknown.
        self._region = ""
        #: What Settings may change about the account shown (set by the account switcher).
        self.account_settings: AccountSettingsHost | None = None
        self.preferences = PreferencesController(Path(settings.fileName()).parent, client, self)

        # Widgets
        self.sidebar = ChatSidebar(client, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.status = SyncStatusBar(client, self._title_of, self)
        self._center = QWidget(self.splitter)
        #: Holds the drawer's place in the splitter (and its size) until the drawer is built.
        self._drawer_slot: QWidget | None = QWidget(self.splitter)

        # Setup
        self.setWindowTitle(f"{APP_TITLE} — {account_label}" if account_label else APP_TITLE)
        self.setAccessibleName(APP_TITLE)
        self.setObjectName("mainWindow")
        self.setStatusBar(self.status)
        self.splitter.setAccessibleName("Panels")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        self._center.setAccessibleName("Conversation and composer")
        self._center.setObjectName("centerColumn")
        for part in (self.sidebar, self._center):
            part.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(window_style(self.palette()))
        self._build_actions()
        self._build_menus()
        self.preferences.apply_at_start()

        # Layout
        center_layout = QVBoxLayout(self._center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self._center)
        self.splitter.addWidget(self._drawer_slot)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes(DEFAULT_SPLITTER)
        #: Splitter sizes the user left last time, once restored; None until then.
        self._restored_sizes: list[int] | None = None
        self.setCentralWidget(self.splitter)
        self.setTabOrder(self.sidebar.filter_edit, self.sidebar.new_button)
        self.setTabOrder(self.sidebar.new_button, self.sidebar.list_view)

        # Signals
        self.sidebar.sig_chat_selected.connect(self._on_sidebar_chat_selected)
        self.sidebar.sig_new_chat_created.connect(self._on_sidebar_new_chat_created)
        self.sidebar.sig_export_requested.connect(self._on_sidebar_export_requested)
        self.sidebar.sig_search_requested.connect(self._on_sidebar_search_requested)
        self.sidebar.sig_first_list_shown.connect(self._on_sidebar_first_list_shown)
        self.sidebar.sig_chat_moved.connect(self._on_chat_moved)
        client.sig_started.connect(self._on_client_started)
        client.sig_failed.connect(self._on_client_failed)

    # -- parts built after the first paint ----------------------------------------------

    @property
    def pane(self) -> MessagePane:
        self.build_parts()
        assert self._pane is not None
        return self._pane

    @property
    def composer(self) -> Composer:
        self.build_parts()
        assert self._composer is not None
        return self._composer

    @property
    def drawer(self) -> SourceDrawer:
        self.build_parts()
        assert self._drawer is not None
        return self._drawer

    @property
    def search_dialog(self) -> SearchDialog:
        self.build_parts()
        assert self._search_dialog is not None
        return self._search_dialog

    @property
    def parts_built(self) -> bool:
        return self._pane is not None

    def build_parts(self) -> None:
        """Build the message pane, composer, source drawer and search dialog (once)."""
        if self._pane is not None:
            return
        from .conversation.composer import Composer
        from .conversation.message_pane import MessagePane
        from .conversation.source_drawer import SourceDrawer
        from .search.search_dialog import SearchDialog

        client = self.client
        pane = self._early_pane if self._early_pane is not None else MessagePane(client, self._center)
        self._pane, self._early_pane = pane, None
        composer = self._composer = Composer(self._drafts, self._center)
        drawer = self._drawer = SourceDrawer(client, self)
        drawer.set_region(self._region)
        search = self._search_dialog = SearchDialog(client, self)
        for part in (pane, composer, drawer):
            part.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # The window's Copy covers the message list: one Ctrl+C, never an ambiguous one.
        pane.view.removeAction(pane.copy_action)
        pane.removeAction(pane.find_action)  # the window's Find in chat, from anywhere in it
        composer.setEnabled(False)
        layout = self._center.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addWidget(pane, 1)
        layout.addWidget(composer)
        sizes = self.splitter.sizes()
        slot, self._drawer_slot = self._drawer_slot, None
        self.splitter.replaceWidget(2, drawer)
        if slot is not None:
            slot.deleteLater()
        side, drawer_width = DEFAULT_SPLITTER[0], DEFAULT_SPLITTER[2]
        squeezed = len(sizes) == 3 and sizes[0] < side * 3 // 4 and sizes[2] < drawer_width * 3 // 4
        if self._restored_sizes is None and squeezed:
            # Both side panels squeezed by the placeholder's first layout, not by the user:
            # start from the defaults.
            total = sum(sizes) or sum(DEFAULT_SPLITTER)
            sizes = [side, max(200, total - side - drawer_width), drawer_width]
        self.splitter.setSizes(sizes)
        drawer.setVisible(self._drawer_visible)
        self._place_drawer(drawer)
        self.setTabOrder(self.sidebar.list_view, pane.view)
        self.setTabOrder(pane.view, composer.editor)
        self.setTabOrder(composer.editor, composer.send_button)
        self.setTabOrder(composer.send_button, drawer.scroll_area)
        pane.sig_answer_selected.connect(drawer.show_answer)
        pane.sig_sources_requested.connect(self._on_pane_sources_requested)
        pane.sig_citation_clicked.connect(self._on_pane_citation_clicked)
        pane.actions.sig_edit_requested.connect(composer.edit)
        pane.sig_question_stored.connect(composer.question_stored)
        pane.sig_question_refused.connect(self._on_pane_question_refused)
        pane.sig_answering_changed.connect(self._on_pane_answering_changed)
        pane.sig_chat_moved.connect(self._on_chat_moved)
        composer.sig_send_requested.connect(self._on_composer_send_requested)
        composer.sig_stop_requested.connect(pane.stop_answer)
        search.sig_hit_chosen.connect(self._on_search_dialog_hit_chosen)
        if self._pending_chat is not None:
            chat_id, self._pending_chat = self._pending_chat, None
            self._on_sidebar_chat_selected(chat_id)
        install_app_icon()  # this window's too (making it loads an icon engine: after the paint)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, first_list: LibraryOp[Any] | None = None) -> None:
        """Start the library worker and ask for the chat list; the other parts, the sync
        worker and the answer thread come once the list is on screen (or after a while).

        ``first_list``: the first screen of chats, already asked for (see
        :func:`~.app_window.build_window`). Starting again does nothing.
        """
        if self._started:
            return
        self._started = True
        self.client.start(defer_background=True)
        if first_list is not None:
            self.sidebar.adopt_first_load(first_list)
        else:
            self.sidebar.reload()
        QTimer.singleShot(BACKGROUND_START_MS, self, self._on_sidebar_first_list_shown)

    def restore_layout(self) -> None:
        settings = self._settings
        geometry = ws.read_bytes(settings, ws.GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = ws.read_bytes(settings, ws.STATE)
        if state is not None:
            self.restoreState(state)
        sizes = ws.read_ints(settings, self._splitter_key()) or ws.read_ints(settings, ws.SPLITTER)
        if len(sizes) == 3 and all(s >= 0 for s in sizes):
            self._restored_sizes = sizes
            self.splitter.setSizes(sizes)
        self.set_drawer_visible(ws.read_bool(settings, ws.DRAWER_VISIBLE, True))

    def save_layout(self) -> None:
        settings = self._settings
        ws.stamp(settings)
        settings.setValue(ws.GEOMETRY, self.saveGeometry())
        settings.setValue(ws.STATE, self.saveState())
        sizes = self._placement.panel_sizes() if self._placement is not None else self.splitter.sizes()
        settings.setValue(ws.SPLITTER, sizes)
        settings.setValue(self._splitter_key(), sizes)
        settings.setValue(ws.DRAWER_VISIBLE, self._drawer_visible)
        settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.setStyleSheet(window_style(self.palette()))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            self.save_layout()
            if self._composer is not None:
                self._composer.save_draft()
            if self._search_dialog is not None:
                self._search_dialog.close()
            self.client.shutdown()
        super().closeEvent(event)

    # -- public helpers -----------------------------------------------------------------

    def insert_menu(self, menu: QMenu) -> None:
        """Add a menu of another part (the Account menu) just before Help."""
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)

    def set_region(self, region: str) -> None:
        """The account's AWS region: s3 sources open in that region's console."""
        self._region = region
        if self._drawer is not None:
            self._drawer.set_region(region)

    def set_drawer_visible(self, visible: bool) -> None:
        if self._placement is not None and self._placement.overlay:
            self._placement.set_visible(visible)  # over the conversation; the docked choice stays
            return
        self._drawer_visible = visible
        if self._placement is not None:
            self._placement.docked_visible = visible
        self.drawer_action.setChecked(visible)
        panel = self._drawer if self._drawer is not None else self._drawer_slot
        if panel is not None:
            panel.setVisible(visible)

    @Slot()
    def open_search(self) -> None:
        self.search_dialog.open_search()

    @Slot()
    def open_settings(self) -> None:
        from .settings.settings_dialog import open_settings_dialog

        open_settings_dialog(self)

    @Slot()
    def open_shortcuts(self) -> None:
        from .shortcuts.shortcuts_dialog import open_shortcuts_dialog

        open_shortcuts_dialog(self)

    def export_current(self, fmt: str, path: str) -> LibraryOp[Path] | None:
        """Export the open chat to ``path`` (the library worker writes it)."""
        chat_id = self.sidebar.current_chat_id
        if not chat_id:
            return None
        from ..data.export import write_library_chat

        return (
            LibraryOp(lambda lib: write_library_chat(lib, chat_id, fmt, path), name="export chat")
            .success(self._on_exported)
            .run_in(self.client.local)
        )

    def _title_of(self, chat_id: str) -> str:
        view = self.sidebar.model.view(chat_id)
        return view.chat.title if view is not None else ""

    # -- slots --------------------------------------------------------------------------

    @Slot()
    def _on_sidebar_first_list_shown(self) -> None:
        """The list is on screen: build the rest of the window, then start the background.

        One step per turn of the event loop (each module's import, then the parts), so
        no single step keeps the window from answering for long.
        """
        if self._closing or self._parts_steps is not None:
            return
        from importlib import import_module

        steps: list[Callable[[], object]] = [
            functools.partial(import_module, name, __package__) for name in PART_MODULES
        ]
        steps += [self._build_pane_early, self.build_parts, self._start_background]
        self._parts_steps = steps
        QTimer.singleShot(0, self, self._next_parts_step)

    @Slot()
    def _next_parts_step(self) -> None:
        if self._closing or not self._parts_steps:
            return
        self._parts_steps.pop(0)()
        if self._parts_steps:
            QTimer.singleShot(0, self, self._next_parts_step)

    def _build_pane_early(self) -> None:
        """The message pane, the largest part (about 4 ms), in a turn before the others."""
        if self._pane is None and self._early_pane is None:
            from .conversation.message_pane import MessagePane

            self._early_pane = MessagePane(self.client, self._center)

    def _start_background(self) -> None:
        collector.settle_long_lived()
        self.client.start_background()

    @Slot(str)
    def _on_sidebar_chat_selected(self, chat_id: str) -> None:
        if self._pane is None:  # shown once the pane is built, just after the list's first paint
            self._pending_chat = chat_id
            self.export_menu.setEnabled(bool(chat_id))
            return
        self.pane.show_chat(chat_id, self._title_of(chat_id))
        self.composer.set_chat(chat_id)
        self.composer.setEnabled(bool(chat_id))
        self.drawer.show_answer("")
        self.export_menu.setEnabled(bool(chat_id))
        self._on_pane_answering_changed(chat_id, self.pane.is_answering(chat_id))

    @Slot(str, str)
    def _on_chat_moved(self, old_id: str, new_id: str) -> None:
        """A chat created here took the id the server made (the deployment's API makes its
        own): the list, the pane and the composer follow it, and it stays open."""
        self.sidebar.follow_chat(old_id, new_id)
        if self._pending_chat == old_id:
            self._pending_chat = new_id
        if self._pane is not None:
            self.pane.follow_chat(old_id, new_id)
            if self.composer.chat_id == old_id:
                self.composer.set_chat(new_id)

    @Slot(str)
    def _on_sidebar_new_chat_created(self, chat_id: str) -> None:
        self.composer.focus_editor()

    @Slot(str)
    def _on_sidebar_export_requested(self, chat_id: str) -> None:
        self._ask_export_path("md")

    @Slot(str)
    def _on_sidebar_search_requested(self, text: str) -> None:
        self.search_dialog.open_search(text)

    @Slot(str)
    def _on_pane_sources_requested(self, message_id: str) -> None:
        self.set_drawer_visible(True)
        self.drawer.show_answer(message_id)

    @Slot(str, int)
    def _on_pane_citation_clicked(self, message_id: str, number: int) -> None:
        """A citation [n]: the drawer opens on that answer's source n and highlights it."""
        self.set_drawer_visible(True)
        self.drawer.show_source(number, message_id)

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
        terms = self.search_dialog.chosen_terms
        if message_id and terms:
            self.pane.find(terms[0], message_id, alternatives=terms[1:])
        elif message_id:
            self.pane.reveal_message(message_id)
        self.pane.view.setFocus()

    @Slot(bool, str)
    def _on_client_started(self, ok: bool, message: str) -> None:
        if not ok:
            self.pane.placeholder.setText(f"The chat library could not be opened.\n{message}")
            self.status.showMessage(message)
            return
        recovery = self.client.worker.recovery
        if recovery is not None and self._recovery_notice is None:
            from .recovered_mirror_dialog import show_recovered_mirror

            self._recovery_notice = show_recovered_mirror(self, recovery.message)

    @Slot(object)
    def _on_client_failed(self, failure: OpFailure) -> None:
        message = failure.message
        if failure.is_bug:
            from PySide6.QtWidgets import QMessageBox

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

    def _on_exported(self, path: Path) -> None:
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
        from PySide6.QtWidgets import QFileDialog

        safe = export_file_stem(title)
        filters = ";;".join(f for _, _, f in EXPORT_FORMATS)
        chosen = next(f for k, _, f in EXPORT_FORMATS if k == fmt)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat", str(Path.home() / f"{safe}.{fmt}"), filters, chosen
        )
        if path:
            self.export_current(fmt, path)

    @Slot()
    def _on_copy_action_triggered(self) -> None:
        from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

        focus = QApplication.focusWidget()
        if isinstance(focus, (QLineEdit, QPlainTextEdit, QTextEdit)):
            focus.copy()
            return
        self.pane.copy_current()

    @Slot()
    def _on_view_message_action_triggered(self) -> None:
        self.pane.view_current()

    @Slot()
    def _on_find_in_chat_action_triggered(self) -> None:
        self.pane.open_find()

    @Slot()
    def _on_stop_action_triggered(self) -> None:
        self.pane.stop_answer()

    @Slot()
    def _on_drawer_action_toggled(self) -> None:
        self.set_drawer_visible(self.drawer_action.isChecked())

    # -- small windows and zoom --------------------------------------------------------------

    def _place_drawer(self, drawer: QWidget) -> None:
        from .drawer_placement import DrawerPlacement

        self._placement = DrawerPlacement(
            self, self.splitter, drawer, self.drawer_action, docked_visible=self._drawer_visible
        )

    def _splitter_key(self) -> str:
        from .screens import available_geometry

        screen = available_geometry(self) or QRect()
        return ws.splitter_key(screen.width(), screen.height())

    @Slot()
    def _on_zoom_action_triggered(self) -> None:
        """View > Zoom in (data 1), Zoom out (-1), Actual size (0); kept for the next start."""
        from PySide6.QtWidgets import QApplication

        from . import appearance

        action, app = self.sender(), QApplication.instance()
        if not isinstance(action, QAction) or not isinstance(app, QApplication):
            return
        step = int(action.data() or 0)
        now = appearance.zoom_percent(app)
        wanted = appearance.next_zoom(now, step) if step else appearance.DEFAULT_ZOOM
        applied = appearance.apply_zoom(app, wanted, font_size=self.preferences.current.font_size)
        self.preferences.remember_zoom(applied)
        self.status.showMessage(f"Zoom {applied}%", 3_000)

    @Slot()
    def _focus_list(self) -> None:
        self.sidebar.list_view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _focus_messages(self) -> None:
        self.pane.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _focus_composer(self) -> None:
        self.composer.focus_editor()

    @Slot()
    def _focus_sources(self) -> None:
        self.set_drawer_visible(True)
        self.drawer.focus_cards()

    @Slot()
    def _on_about_action_triggered(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from .. import __version__

        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"{APP_TITLE} {__version__}\nA local-first desktop client for Galileo chat history.",
        )
