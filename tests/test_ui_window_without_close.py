"""A window that goes without being closed ends its worker threads first, and loses
nothing queued: never the abort Qt gives a thread destroyed while running.

A Quit or an account switch closes the window, which stops the threads. A window whose
last reference is dropped unclosed (shiboken then deletes it with its children), or
whose build fails after its library worker started, used to take the running threads
with it. Each case runs in a child process, since the failure is the process's abort;
the last one runs the app itself and closes its window as it opens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ui_helpers import USER, seed_big_mirror

from galileio_desktop.data.mirror.database import mirror_path_for
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.sync import ChatLibrary

pytestmark = pytest.mark.gui

TESTS = Path(__file__).resolve().parent
QUEUED_TITLE = "Queued as the window went"
#: Nothing listens here: the first sync fails offline, as on a train.
DEAD_ENDPOINT = "http://127.0.0.1:9"

WINDOW_SCRIPT = textwrap.dedent(
    """
    import gc, sys, time
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from ui_helpers import networked_factory
    from galileio_desktop.ui.app_window import build_window
    from galileio_desktop.ui.workers.operation import LibraryOp

    mode, mirror, settings = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    app = QApplication(sys.argv[:1])
    factory = networked_factory(mirror, sys.argv[5], "galileo-test", None)
    if mode == "build fails":
        settings.write_text("a file where the settings folder goes")
        try:
            build_window(factory, None, "unclosed", settings, start=True)
        except OSError:
            print("raised", flush=True)
        gc.collect()
        sys.exit(0)
    window = build_window(factory, None, "unclosed", settings, start=True)
    window.show()
    deadline = time.monotonic() + 20
    while not (window.parts_built and window.client.background_started):
        assert time.monotonic() < deadline, "the window never finished starting"
        app.processEvents()
        time.sleep(0.002)
    LibraryOp(lambda lib: lib.create_chat(sys.argv[6])).after_write().run_in(window.client.local)
    del window  # the last reference, without a close
    gc.collect()
    print("gone", flush=True)
    """
)


def _run(script_args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *script_args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def _window_run(mode: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    mirror = tmp_path / "mirror.sqlite3"
    seed_big_mirror(mirror, 30, 5)
    args = ["-c", WINDOW_SCRIPT, str(TESTS), mode, str(mirror), str(tmp_path / "settings")]
    return _run([*args, DEAD_ENDPOINT, QUEUED_TITLE])


def _queued(mirror: Path, user_id: str = USER) -> tuple[list[str], int]:
    with ChatLibrary(mirror, user_id, None) as library:
        titles = [view.chat.title for view in library.list_chats()]
        return titles, library.status().pending


def test_a_started_window_dropped_without_a_close_stops_its_threads_and_keeps_the_queued_write(
    tmp_path: Path,
) -> None:
    done = _window_run("dropped", tmp_path)
    assert "Destroyed while thread" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["gone"]
    titles, pending = _queued(tmp_path / "mirror.sqlite3")
    assert QUEUED_TITLE in titles and pending == 1  # stored, and still to be sent


def test_a_window_whose_build_fails_after_its_library_started_raises_without_an_abort(
    tmp_path: Path,
) -> None:
    done = _window_run("build fails", tmp_path)
    assert "Destroyed while thread" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["raised"]


APP_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QEvent, QObject, QTimer
    from galileio_desktop.ui.app_window import ensure_application
    from galileio_desktop.ui.workers.operation import LibraryOp

    delay_ms, title, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    app = ensure_application(icon=False)

    class CloseSoon(QObject):
        \"\"\"Queues a new chat and closes the window ``delay_ms`` after it first shows.\"\"\"

        shown = False

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Show and type(watched).__name__ == "MainWindow":
                if not self.shown:
                    self.shown = True
                    QTimer.singleShot(delay_ms, lambda: self.close(watched))
            return False

        def close(self, window):
            LibraryOp(lambda lib: lib.create_chat(title)).after_write().run_in(window.client.local)
            window.close()  # the user's click on the window's close button
            print("closed", flush=True)

    closer = CloseSoon()
    app.installEventFilter(closer)
    from galileio_desktop.app import main

    sys.exit(main(args))
    """
)


@pytest.mark.parametrize("delay_ms", [0, 300])
def test_the_app_closed_as_it_opens_during_a_failing_first_sync_exits_cleanly_with_the_write_kept(
    tmp_path: Path, delay_ms: int
) -> None:
    paths = AppPaths.resolve(tmp_path / "data")
    table, region = "galileo-test", "us-east-1"
    mirror = mirror_path_for(paths.data_dir, USER, table, DEAD_ENDPOINT, region=region)
    mirror.parent.mkdir(parents=True)
    seed_big_mirror(mirror, 2_000, 20)
    account = ["--endpoint-url", DEAD_ENDPOINT, "--region", region, "--table", table, "--user-id", USER]
    done = _run(
        ["-c", APP_SCRIPT, str(delay_ms), QUEUED_TITLE, "--data-dir", str(tmp_path / "data"), *account]
    )
    assert "Destroyed while thread" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["closed"]
    titles, pending = _queued(mirror)
    assert QUEUED_TITLE in titles and pending == 1
