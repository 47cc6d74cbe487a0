"""What a launch asks of the window: show a given chat (``--chat``, a chat link), come to the front.

:class:`ChatOpener` selects a chat in one window as soon as its list holds it: the
list read at start, or the one read after the first sync (a fresh mirror fills from
the server). When the chat is not there even then, the status bar says so and
:attr:`ChatOpener.missing` names it.

:class:`OpenRequests` follows the window shown (a new one after each account
switch) and takes requests of later launches (:mod:`.single_instance`): it raises the
window, or the dialog shown before there is one, and opens the chat asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

if TYPE_CHECKING:
    from .main_window import MainWindow

MISSING_MESSAGE_MS = 15_000


class ChatOpener(QObject):
    """Opens a chat in ``window`` once its chat list holds it (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._wanted = ""
        self._synced = False
        self._settled = False
        #: The chat asked for that is not in this account ("" when none is).
        self.missing = ""
        events = window.client.events
        window.sidebar.sig_list_loaded.connect(self._on_sidebar_list_loaded)
        events.sig_sync_done.connect(self._on_client_sync_done)
        events.sig_status_changed.connect(self._on_client_status_changed)

    def open(self, chat_id: str) -> None:
        """Show ``chat_id`` now when the list holds it, else once it does."""
        self._wanted, self.missing = chat_id, ""
        self._try()

    @Slot()
    def _on_sidebar_list_loaded(self) -> None:
        self._settled = self._synced
        self._try()

    @Slot(object)
    def _on_client_sync_done(self, result: object) -> None:
        self._after_first_sync()

    @Slot(object)
    def _on_client_status_changed(self, status: object) -> None:
        if getattr(status, "networked", True) is False:
            self._after_first_sync()  # a library without a server: its list is all there is

    def _after_first_sync(self) -> None:
        if self._synced:
            return
        self._synced = True
        if self._wanted:
            self._window.sidebar.reload()  # read the list again, with whatever the pull brought

    def _try(self) -> None:
        chat_id = self._wanted
        if not chat_id or not self._window.sidebar.loaded:
            return
        if self._window.sidebar.select_chat(chat_id):
            self._wanted = ""
            return
        if self._settled:
            self._wanted, self.missing = "", chat_id
            self._window.status.showMessage(
                f"There is no chat {chat_id} in this account.", MISSING_MESSAGE_MS
            )


class OpenRequests(QObject):
    """Requests of this launch and of later ones, for whichever window is shown."""

    def __init__(self, chat_id: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending = chat_id
        self.window: MainWindow | None = None
        self.opener: ChatOpener | None = None

    def adopt(self, window: MainWindow) -> None:
        """``window`` is the one shown now; it opens the chat asked for, if any is waiting."""
        self.window = window
        self.opener = ChatOpener(window)
        chat_id, self._pending = self._pending, ""
        if chat_id:
            self.opener.open(chat_id)

    @Slot(str)
    def request(self, chat_id: str) -> None:
        """A later launch: bring the app to the front and open ``chat_id`` ("" for none)."""
        if self.window is not None and not isValid(self.window):  # closed by an account switch
            self.window, self.opener = None, None
        target = self.window if self.window is not None else _shown_top_level()
        if target is not None:
            bring_to_front(target)
        if not chat_id:
            return
        if self.opener is not None:
            self.opener.open(chat_id)
        else:
            self._pending = chat_id  # no window yet (a dialog first): it opens there


def bring_to_front(widget: QWidget) -> None:
    """Un-minimise, raise and activate ``widget``; the window manager has the last word, so
    the window also asks for attention (a blinking taskbar entry) where focus is refused."""
    if widget.isMinimized():
        widget.setWindowState(widget.windowState() & ~Qt.WindowState.WindowMinimized)
    widget.show()
    widget.raise_()
    widget.activateWindow()
    QApplication.alert(widget)


def _shown_top_level() -> QWidget | None:
    """The active window, else any shown one (a dialog before the main window exists)."""
    active = QApplication.activeWindow()
    if active is not None:
        return active
    return next((w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()), None)
