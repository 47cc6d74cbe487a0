"""The window's start-up: the chat list first, everything else right after it.

Speed is measured by ``bench/run.py``; these tests hold the order of events that
makes the start quick, which a regression would silently undo.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from ui_helpers import offline_factory, seed_big_mirror

from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sidebar.chat_ops import FIRST_SCREEN_CHATS

pytestmark = pytest.mark.gui

CHATS = FIRST_SCREEN_CHATS + 30


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("start") / "mirror.sqlite3"
    return path, seed_big_mirror(path, CHATS, 120)


class PaintWatch(QObject):
    """Calls ``seen`` at the first paint of the chat list with chats in it."""

    def __init__(self, window: MainWindow, seen: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._seen = seen
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and not self._done and self._window.sidebar.model.chat_count():
            self._done = True
            self._seen()
        return False


def _window(qtbot, tmp_path: Path, mirror: Path) -> MainWindow:
    window = build_window(offline_factory(mirror), None, "start", tmp_path / "settings", start=True)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    return window


def test_the_list_paints_before_the_rest_is_built_or_the_background_starts(
    qtbot, tmp_path: Path, mirror: tuple[Path, str]
) -> None:
    path, newest = mirror
    QApplication.setWindowIcon(QIcon())  # as at a start (the test application is shared)
    lists: list[int] = []
    window = _window(qtbot, tmp_path, path)
    client = window.client
    window.sidebar.sig_list_loaded.connect(lambda: lists.append(window.sidebar.model.chat_count()))
    # Started while being built: the library worker runs, nothing else does yet.
    assert client.running and not client.background_started
    states: list[tuple[bool, bool, bool, bool]] = []
    watch = PaintWatch(
        window,
        lambda: states.append(
            (
                window.parts_built,
                client.background_started,
                not QApplication.windowIcon().isNull(),
                window.sidebar._rest_wanted,
            )
        ),
    )
    window.sidebar.list_view.viewport().installEventFilter(watch)
    window.show()
    with qtbot.waitSignal(window.sidebar.sig_first_list_shown, timeout=10_000):
        pass
    # When the chat list was first painted with chats in it, the rest of the window was
    # not built yet, the sync worker and the answer thread had not started, the icon
    # (its SVG engine) was not loaded, and the rest of the list was still to be asked for
    # (decoding it would have competed with the paint).
    assert states[:1] == [(False, False, False, True)]
    qtbot.waitUntil(lambda: window.parts_built and client.background_started, timeout=10_000)
    assert not window.windowIcon().isNull()
    qtbot.waitUntil(lambda: window.sidebar.model.chat_count() == CHATS, timeout=10_000)
    assert lists[:2] == [FIRST_SCREEN_CHATS, CHATS]
    # The chat chosen before the pane existed is the one it shows.
    assert window.sidebar.current_chat_id == newest
    qtbot.waitUntil(
        lambda: window.pane.chat_id == newest and window.pane.model.rowCount() > 0, timeout=10_000
    )
    assert window.composer.isEnabled() and window.export_menu.isEnabled()
    assert window.pane.isVisible() and window.drawer.isVisible()
    window.start()  # started already: nothing happens twice
    qtbot.wait(50)
    assert lists[:2] == [FIRST_SCREEN_CHATS, CHATS] and len(lists) == 2


def test_a_list_that_cannot_paint_yet_still_gets_the_rest_of_its_chats(
    qtbot, tmp_path: Path, mirror: tuple[Path, str]
) -> None:
    window = _window(qtbot, tmp_path, mirror[0])
    viewport = window.sidebar.list_view.viewport()
    viewport.setUpdatesEnabled(False)  # no paint comes, as for a window covered by another
    with qtbot.waitSignal(window.sidebar.sig_first_list_shown, timeout=10_000):
        window.show()
    qtbot.waitUntil(lambda: window.sidebar.model.chat_count() == CHATS, timeout=10_000)
    viewport.setUpdatesEnabled(True)
    window.close()  # its threads stopped while the window is still referenced here


def test_asking_for_a_part_builds_it_at_once_with_the_remembered_layout(
    qtbot, tmp_path: Path, mirror: tuple[Path, str]
) -> None:
    path, _ = mirror
    hidden = build_window(offline_factory(path), None, "start", tmp_path / "hidden")
    qtbot.addWidget(hidden)
    hidden.resize(1400, 800)  # wide enough for the drawer to dock (narrower, it floats)
    hidden.set_drawer_visible(False)
    assert not hidden.parts_built and not hidden.drawer_action.isChecked()
    assert hidden.drawer.isHidden() and hidden.parts_built  # built as the layout said
    hidden.set_drawer_visible(True)
    assert not hidden.drawer.isHidden() and hidden.drawer_action.isChecked()

    window = build_window(offline_factory(path), None, "start", tmp_path / "settings")
    qtbot.addWidget(window)
    window.resize(1200, 700)
    window.show()
    window.splitter.setSizes([200, 700, 300])
    sizes = window.splitter.sizes()
    assert not window.parts_built
    # The first use builds the parts in the places the layout already gave them.
    drawer = window.drawer
    assert window.splitter.widget(2) is drawer and window.splitter.count() == 3
    assert window.splitter.sizes() == sizes
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    assert window.pane.isVisible() and window.composer.isVisible() and window.drawer.isVisible()
    window.close()


def test_the_window_module_does_not_load_what_the_first_paint_does_not_need() -> None:
    """The message pane, the composer, the drawer, the search dialog, the Undo toast and
    the assistant backends are imported after the chat list is on screen, not on the way
    to it."""
    code = (
        "import sys\n"
        "import galileio_desktop.ui.app_window, galileio_desktop.ui.main_window\n"
        "late = ['galileio_desktop.ui.conversation.message_pane', 'galileio_desktop.ui.conversation.composer',\n"
        "        'galileio_desktop.ui.conversation.source_drawer', 'galileio_desktop.ui.search.search_dialog',\n"
        "        'galileio_desktop.ui.toast', 'galileio_desktop.data.assistants', 'galileio_desktop.data.ask']\n"
        "print([name for name in late if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_window_sends_as_much_history_as_the_command_line() -> None:
    from galileio_desktop.data import ask
    from galileio_desktop.ui.workers import client

    assert client.DEFAULT_HISTORY_LIMIT == ask.DEFAULT_HISTORY_LIMIT


def test_the_library_can_be_imported_before_qt() -> None:
    """The window's entry point imports the data layer before Qt (PySide6's import hook
    reads the source of every module imported after it): that import brings no Qt."""
    code = (
        "import sys\n"
        "from galileio_desktop.ui.qt_free_first import import_library\n"
        "import_library()\n"
        "assert 'galileio_desktop.data.sync.library' in sys.modules\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))], 'Qt came in'\n"
        "assert 'galileio_desktop.data.sync.results' not in sys.modules, 'a first list needs no results'\n"
        "assert 'galileio_desktop.data.mirror.recovery' not in sys.modules, 'only a damaged file needs it'\n"
        "assert '_hashlib' not in sys.modules, 'OpenSSL only when a mirror path is made'\n"
        "import gc\n"
        "assert not gc.isenabled(), 'imports run with the collector off'\n"
        "from galileio_desktop.ui.app_window import ensure_application\n"
        "ensure_application(icon=False)\n"
        "assert gc.get_freeze_count() > 10_000, 'what the start made is frozen, not walked'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_queue_status_read_defines_no_sync_results(tmp_path: Path) -> None:
    """The sync worker reads the queue's status as it starts (just after the first
    paint): that read defines the status and not a push's, a pull's or a sync's results
    (frozen dataclasses, each compiled as it is defined: about 2 ms)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from galileio_desktop.data.sync.library import ChatLibrary\n"
        f"library = ChatLibrary(Path({str(tmp_path / 'm.sqlite3')!r}), 'user-1')\n"
        "status = library.status()\n"
        "assert (status.pending, status.parked, status.operations) == (0, 0, []), status\n"
        "assert 'galileio_desktop.data.sync.results' not in sys.modules, 'the status needs no results'\n"
        "library.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_data_layer_a_start_imports_defines_only_the_dataclasses_it_needs(tmp_path: Path) -> None:
    """Python compiles six methods for each frozen dataclass it defines (about 0.7 ms
    each): the modules a start imports, and its first status read, define only the
    records whose dataclass features are used (``replace``, ``asdict``, a list default);
    the plain ones (an outbox row, an item's key, a chat's sync state, a pin, a queued
    operation's report, the app's folders, the views of a chat and a message) are named
    tuples."""
    code = (
        "import dataclasses, sys\n"
        "from pathlib import Path\n"
        "from galileio_desktop.ui.qt_free_first import import_library\n"
        "import_library()\n"
        "from galileio_desktop.data.sync.library import ChatLibrary\n"
        f"library = ChatLibrary(Path({str(tmp_path / 'm.sqlite3')!r}), 'user-1')\n"
        "library.status()\n"
        "library.close()\n"
        "found = sorted(\n"
        "    f'{name}.{value.__name__}'\n"
        "    for name, module in list(sys.modules.items()) if name.startswith('galileio_desktop')\n"
        "    for value in vars(module).values()\n"
        "    if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value)\n"
        ")\n"
        "print(' '.join(found))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == [
        "galileio_desktop.data.preferences.Preferences",
        "galileio_desktop.data.schema.Chat",
        "galileio_desktop.data.schema.Message",
        "galileio_desktop.data.schema.Source",
        "galileio_desktop.data.sync.queue_status.LibraryStatus",
    ]


def test_a_window_process_hands_the_interpreter_lock_over_often() -> None:
    """The GUI thread waits at most about a millisecond for a worker to give up the lock."""
    code = (
        "import sys\n"
        "from galileio_desktop.ui.app_window import GIL_SWITCH_INTERVAL_S, ensure_application\n"
        "assert sys.getswitchinterval() == 0.005\n"
        "ensure_application(icon=False)\n"
        "assert sys.getswitchinterval() == GIL_SWITCH_INTERVAL_S == 0.001, sys.getswitchinterval()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
