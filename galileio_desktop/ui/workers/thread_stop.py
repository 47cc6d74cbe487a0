"""Waiting for a worker thread to end, for a bounded time: Quit never hangs on one.

A thread still busy when the wait is over (a disk or a sign-in server that does not
answer) is let go: kept alive, out of its parent's reach, until it ends by itself, so
it is never destroyed while running (Qt aborts the process when that happens).
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QCoreApplication, QObject, QThread

log = logging.getLogger(__name__)

#: How long the process waits, as it ends, for threads let go at a Quit (a long read of
#: the mirror, say) before it ends without them: Qt would abort the process if one were
#: destroyed while running, and an aborted process looks like a crash to the user.
EXIT_WAIT_MS = 10_000

#: Threads that did not end in time, each with the worker it runs, kept until they end.
_finishing: dict[QThread, QObject | None] = {}


def wait_or_let_go(thread: QThread, wait_ms: int, worker: QObject | None = None) -> bool:
    """Wait up to ``wait_ms`` for ``thread`` to end; True when it did.

    ``worker``, the object the thread runs, is kept with a thread let go: its shutdown is
    queued behind the work that holds the thread up, and a worker deleted meanwhile (its
    client gone with the window) would take that shutdown with it, so the thread would
    never end.
    """
    if not thread.isRunning() or thread.wait(max(0, wait_ms)):
        return True
    log.warning("thread %s still busy after the shutdown wait; left to finish", thread.objectName())
    thread.setParent(None)
    _forget_ended()
    _finishing[thread] = worker
    return False


def _forget_ended() -> None:
    """Let go of the let-go threads that have ended (and only those), and their workers."""
    for thread in list(_finishing):
        if thread.isFinished():
            del _finishing[thread]


def still_finishing() -> int:
    """How many let-go threads are still running."""
    _forget_ended()
    return sum(1 for thread in _finishing if thread.isRunning())


def wait_for_let_go(wait_ms: int = EXIT_WAIT_MS) -> bool:
    """As the process ends: wait up to ``wait_ms`` for the let-go threads; True when
    none is left running. A thread still running then is never destroyed: the caller
    ends the process without tearing Qt down (see :func:`end_process_if_stuck`)."""
    deadline = time.monotonic() + wait_ms / 1000
    for thread in list(_finishing):
        left = max(0, int((deadline - time.monotonic()) * 1000))
        if thread.isRunning():
            thread.wait(left)
    return still_finishing() == 0


def end_process_if_stuck(code: int, wait_ms: int = EXIT_WAIT_MS) -> None:
    """Call as the app ends: when a let-go thread is still running after ``wait_ms``,
    end the process at once with ``code`` (what was to be saved is saved: the window
    saved its layout and drafts when it closed, and the mirror commits each write)."""
    if wait_for_let_go(wait_ms):
        return
    log.warning("a worker thread is still busy as the app ends; ending without it")
    logging.shutdown()
    QCoreApplication.processEvents()
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
