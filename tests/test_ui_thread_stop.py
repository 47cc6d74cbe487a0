"""A worker thread still busy when the app ends is waited for, or the process ends
without tearing it down: never the abort Qt gives a thread destroyed while running."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.gui

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot
    from galileio_desktop.ui.workers.thread_stop import end_process_if_stuck, wait_or_let_go

    class Busy(QObject):
        def __init__(self, seconds):
            super().__init__()
            self.seconds = seconds

        @Slot()
        def run(self):
            time.sleep(self.seconds)  # a long read of the mirror, say
            QThread.currentThread().quit()  # then the shutdown queued behind it ends the loop

    app = QCoreApplication(sys.argv[:1])
    busy_s, exit_wait_ms = float(sys.argv[1]), int(sys.argv[2])
    thread = QThread()
    worker = Busy(busy_s)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    time.sleep(0.1)
    assert not wait_or_let_go(thread, 50)  # Quit does not wait long: the thread is let go
    del thread, worker
    print("let go", flush=True)
    end_process_if_stuck(7, exit_wait_ms)
    print("ended cleanly", flush=True)
    """
)


def _run(busy_s: float, exit_wait_ms: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(busy_s), str(exit_wait_ms)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_a_thread_let_go_at_quit_is_waited_for_as_the_process_ends() -> None:
    done = _run(busy_s=1.0, exit_wait_ms=10_000)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["let", "go", "ended", "cleanly"]
    assert "Destroyed while thread" not in done.stderr


def test_a_thread_stuck_past_the_wait_ends_the_process_without_an_abort() -> None:
    started = time.monotonic()
    done = _run(busy_s=30.0, exit_wait_ms=300)
    assert done.returncode == 7, done.stderr  # the app's own exit code, not SIGABRT's
    assert "ended cleanly" not in done.stdout
    assert "Destroyed while thread" not in done.stderr
    assert time.monotonic() - started < 20  # it did not wait for the 30 s thread


KEPT_WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, QThread, Slot
    from galileio_desktop.ui.workers.thread_stop import end_process_if_stuck, wait_or_let_go

    class Worker(QObject):
        @Slot()
        def run(self):
            time.sleep(1.0)  # a long read of the mirror, say

        @Slot()
        def shutdown(self):
            QThread.currentThread().quit()

    app = QCoreApplication(sys.argv[:1])
    thread = QThread()
    worker = Worker()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    time.sleep(0.1)
    QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)  # as at Quit
    assert not wait_or_let_go(thread, 50, worker)
    del thread, worker  # the window and its client go; the busy worker must not
    print("let go", flush=True)
    end_process_if_stuck(7, 5_000)
    print("ended cleanly", flush=True)
    """
)


def test_the_worker_of_a_thread_let_go_is_kept_so_its_queued_shutdown_still_ends_it() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", KEPT_WORKER_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["let", "go", "ended", "cleanly"]
    assert time.monotonic() - started < 4.5  # not the 5 s wait for a thread that never ends
