"""Waiting for a worker thread to end, for a bounded time: Quit never hangs on one.

A thread still busy when the wait is over (a disk or a sign-in server that does not
answer) is let go: kept alive, out of its parent's reach, until it ends by itself, so
it is never destroyed while running (Qt aborts the process when that happens).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QThread

log = logging.getLogger(__name__)

#: Threads that did not end in time, kept until they do.
_finishing: set[QThread] = set()


def wait_or_let_go(thread: QThread, wait_ms: int) -> bool:
    """Wait up to ``wait_ms`` for ``thread`` to end; True when it did."""
    if not thread.isRunning() or thread.wait(max(0, wait_ms)):
        return True
    log.warning("thread %s still busy after the shutdown wait; left to finish", thread.objectName())
    thread.setParent(None)
    _finishing.add(thread)
    thread.finished.connect(lambda: _finishing.discard(thread))
    return False


def still_finishing() -> int:
    """How many let-go threads are still running."""
    return sum(1 for thread in _finishing if thread.isRunning())
