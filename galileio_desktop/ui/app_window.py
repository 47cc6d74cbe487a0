"""Building the window and running it on one fixed library: ``build_window(...)``,
and ``run_window(...)`` (``--screenshot``).

``run_window``'s caller decides which library and assistant to use (an account,
or the demo) and passes factories; the window calls them in its worker threads.
:func:`~.accounts.account_switcher.run_accounts` shows the window with its Account
menu, on one account after another as the user switches.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from . import collector, qt_log
from .app_identity import APP_TITLE, install_app_icon
from .workers.answer_worker import AssistantFactory
from .workers.client import DEFAULT_HISTORY_LIMIT, WorkerClient
from .workers.library_worker import LibraryFactory
from .workers.sync_worker import DEFAULT_SYNC_INTERVAL_MS

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .main_window import MainWindow

log = logging.getLogger(__name__)

#: Requests the window's sync runs at once (the command line runs 16). Each answer is
#: parsed by Python code that holds the interpreter lock; with fewer of them at once the
#: window keeps answering within 50 ms while a big chat is deleted in the background,
#: which then takes a little longer (the chat is already gone from the list by then).
WINDOW_NETWORK_THREADS = 4
SCREENSHOT_DEADLINE_MS = 60_000
#: How often a thread waiting for the interpreter lock gets it from the one holding it,
#: in a window's process (see ensure_application).
GIL_SWITCH_INTERVAL_S = 0.001
#: After the last part arrived, let a few paints happen before grabbing.
SCREENSHOT_SETTLE_MS = 300


def window_library_factory(workspace: Workspace) -> LibraryFactory:
    """The workspace's library, with the window's network pool (WINDOW_NETWORK_THREADS)."""
    return functools.partial(workspace.make_library, network_threads=WINDOW_NETWORK_THREADS)


def ensure_application(*, icon: bool = True) -> QApplication:
    """The running QApplication, or a new one named for the app.

    ``icon=False`` leaves the app icon to the window, which sets it once its chat list is
    painted (the window's start-up path); dialogs shown first want it at once.
    """
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    # From here on the collector runs in this thread only, on a timer; none runs while
    # the window's modules are imported and its widgets built (a few milliseconds of
    # start-up), nor in a worker thread.
    collector.collect_in_gui_thread()
    # The GUI thread shares the interpreter lock with the workers parsing and storing
    # pages: asked for every 1 ms instead of Python's 5, it waits less for its turn (the
    # long gaps of a first sync spent waiting for the lock: ~100 ms -> ~15 ms in all, for
    # a sync a few percent slower at most).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app.setApplicationName(APP_TITLE)
    app.setApplicationDisplayName(APP_TITLE)
    app.setDesktopFileName("galileio-desktop")
    if icon:
        install_app_icon()
    return app


def build_window(
    library_factory: LibraryFactory,
    assistant_factory: AssistantFactory | None,
    account_label: str,
    settings_dir: Path,
    *,
    history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
    restore_layout: bool = True,
    start: bool = False,
) -> MainWindow:
    """The window with its worker client; started with ``start``, else the caller starts it.

    With ``start`` the library worker is started, and the first screen of chats asked
    for, before the window's modules are imported and its widgets built: the worker
    opens the mirror and reads the list (SQLite runs without the GIL) while this thread
    builds, so the list is there soon after the window shows.
    """
    collector.collect_in_gui_thread()
    client = WorkerClient(
        library_factory,
        assistant_factory,
        history_limit=history_limit,
        sync_interval_ms=sync_interval_ms,
    )
    first_list = None
    if start:
        from .sidebar.chat_ops import first_screen_op

        client.start(defer_background=True)
        first_list = first_screen_op().run_in(client.local)
    from .conversation.drafts import FILE_NAME as DRAFTS_FILE
    from .conversation.drafts import DraftStore
    from .main_window import MainWindow
    from .window_settings import open_settings

    try:
        settings = open_settings(Path(settings_dir))
        drafts = DraftStore(Path(settings_dir) / DRAFTS_FILE)
        window = MainWindow(client, account_label, settings, drafts)
        client.setParent(window)
        if restore_layout:
            window.restore_layout()
        if start:
            window.start(first_list)
    except BaseException:
        client.shutdown()  # its library worker runs: stopped now, not whenever it is collected
        raise
    return window


def run_window(
    library_factory: LibraryFactory,
    assistant_factory: AssistantFactory | None,
    account_label: str,
    settings_dir: Path,
    screenshot: Path | None = None,
    size: tuple[int, int] = (1280, 800),
    *,
    history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    on_window: Callable[[MainWindow], object] | None = None,
) -> int:
    """Show the window until it is closed; with ``screenshot``, save a PNG of it once loaded and exit.

    ``on_window`` is given the window before it shows (and before the screenshot waits
    on it). Returns the exit code: 0, or 1 when the screenshot could not be made.
    """
    app = ensure_application(icon=False)
    qt_log.install()
    window = build_window(
        library_factory,
        assistant_factory,
        account_label,
        settings_dir,
        history_limit=history_limit,
        restore_layout=screenshot is None,
        start=True,
    )
    if on_window is not None:
        on_window(window)
    taker: ScreenshotTaker | None = None
    if screenshot is not None:
        window.resize(*size)
        taker = ScreenshotTaker(window, Path(screenshot))
    window.show()
    code = app.exec()
    window.close()
    if taker is not None and not (taker.saved and taker.complete):
        return 1
    return int(code)


class ScreenshotTaker(QObject):
    """Grabs the window once it shows real content, then ends the event loop.

    Ready means: the chat list has been read after the first sync attempt (a fresh
    mirror fills from the server), the current chat's messages are in (including
    the ones fetched for it), and an answer with sources is selected with its
    sources in the drawer. Parts that cannot appear (no chats, no cited answer)
    are not waited for.
    """

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self._window = window
        self._path = path
        self._synced = False
        self._chats_after_sync = False
        self._ready_chat = ""
        self._answer_id = ""
        self._sources_for = ""
        self.saved = False
        self.complete = False
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SCREENSHOT_SETTLE_MS)
        self._deadline.timeout.connect(self._on_deadline_timeout)
        self._settle.timeout.connect(self._on_settle_timeout)
        events = window.client.events
        events.sig_sync_done.connect(self._on_client_sync_done)
        events.sig_status_changed.connect(self._on_client_status_changed)
        window.sidebar.sig_list_loaded.connect(self._on_sidebar_list_loaded)
        window.pane.sig_chat_ready.connect(self._on_pane_chat_ready)
        window.drawer.sig_sources_shown.connect(self._on_drawer_sources_shown)
        self._deadline.start(SCREENSHOT_DEADLINE_MS)

    @Slot(object)
    def _on_client_sync_done(self, result: object) -> None:
        if not self._synced:
            self._synced = True
            self._window.sidebar.reload()  # read the list again, whatever the pull brought
        self._check()

    @Slot(object)
    def _on_client_status_changed(self, status: object) -> None:
        if getattr(status, "networked", True) is False and not self._synced:
            self._synced = True  # a library without a server: nothing to wait for
            self._window.sidebar.reload()

    @Slot()
    def _on_sidebar_list_loaded(self) -> None:
        if self._synced:
            self._chats_after_sync = True
        self._check()

    @Slot(str)
    def _on_pane_chat_ready(self, chat_id: str) -> None:
        self._ready_chat = chat_id
        self._answer_id = self._window.pane.select_latest_answer_with_sources()
        self._check()

    @Slot(str, int)
    def _on_drawer_sources_shown(self, message_id: str, count: int) -> None:
        self._sources_for = message_id
        self._check()

    def _check(self) -> None:
        window = self._window
        if not (self._chats_after_sync and window.sidebar.loaded):
            return
        if window.sidebar.model.chat_count() > 0:
            current = window.sidebar.current_chat_id
            if not current or self._ready_chat != current:
                return
            if self._answer_id and self._sources_for != self._answer_id:
                return
        self.complete = True
        self._settle.start()

    @Slot()
    def _on_settle_timeout(self) -> None:
        self._grab()

    @Slot()
    def _on_deadline_timeout(self) -> None:
        log.error("the window did not finish loading in time; saving what it shows")
        self._grab()

    def _grab(self) -> None:
        if self.saved:
            return
        self._deadline.stop()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        pixmap = self._window.grab()
        self.saved = bool(pixmap.save(str(self._path), "PNG"))
        if not self.saved:
            log.error("could not write the screenshot to %s", self._path)
        app = QApplication.instance()
        if app is not None:
            app.exit(0 if self.saved and self.complete else 1)
