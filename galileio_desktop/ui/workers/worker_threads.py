"""The worker client's three threads: made, started, and stopped in order within a bound.

Qt aborts the process when a running ``QThread`` is destroyed, and the threads are Qt
children of the client, itself a child of its window. A Quit or an account switch closes
the window, which shuts the client down first; but a window can also go without a close:
one whose build failed after its library worker started, one dropped by the last Python
reference to it (shiboken then deletes the widget, its children and their threads at
once). So the stop lives here, in a plain Python object (no Qt wrapper to lose), and the
client's ``destroyed`` signal calls it too, before Qt deletes the client's children: a
client that goes without a shutdown still ends its threads first, the same way.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread

from .events import LibraryEvents
from .op_worker import OpWorker
from .thread_stop import wait_or_let_go


class WorkerThreads:
    """One thread per worker, the first one the library's; see the module docstring.

    ``owner`` is the client: the threads are its Qt children, and its destruction stops
    them (at most ``wait_ms``) if :meth:`stop` was not called before.
    """

    def __init__(
        self,
        owner: QObject,
        workers: Sequence[tuple[str, OpWorker]],
        events: LibraryEvents,
        *,
        wait_ms: int,
    ) -> None:
        self._events = events
        self._wait_ms = wait_ms
        self._stopped = False
        self._pairs: list[tuple[QThread, OpWorker]] = []
        for name, worker in workers:
            thread = QThread(owner)
            thread.setObjectName(name)
            worker.moveToThread(thread)
            thread.started.connect(worker.start)
            self._pairs.append((thread, worker))
        # A partial, not a bound method: PySide keeps it (and so this object) for as long
        # as the client lives, and the client's wrapper is not needed when it is called.
        owner.destroyed.connect(functools.partial(WorkerThreads._on_owner_destroyed, self))

    def start_library(self) -> None:
        self._pairs[0][0].start()

    def start_background(self, library: object) -> None:
        """Hand ``library`` to the other workers and start their threads (once)."""
        if self._stopped:
            return
        for thread, worker in self._pairs[1:]:
            if not thread.isRunning() and not thread.isFinished():
                worker.attach(library)  # type: ignore[arg-type]
                thread.start()

    @property
    def background_started(self) -> bool:
        background = self._pairs[1:]
        return bool(background) and all(t.isRunning() or t.isFinished() for t, _ in background)

    def stop(self, wait_ms: int | None = None) -> None:
        """Stop the network, end the other workers, then the library after the operations
        already queued for it (a rename made just before quitting is still stored),
        waiting ``wait_ms`` in all; a thread still busy then is let go (see
        :mod:`.thread_stop`). Once only; nothing is handed on to the window afterwards."""
        if self._stopped:
            return
        self._stopped = True
        library_pair, *background = self._pairs
        deadline = time.monotonic() + (self._wait_ms if wait_ms is None else wait_ms) / 1000
        library_pair[1].interrupt()  # requests in flight end at once (the library is shared)
        for thread, worker in background:
            if thread.isRunning():
                _call_shutdown(worker)
        for thread, worker in background:
            if thread.isRunning():
                wait_or_let_go(thread, _left_ms(deadline), worker)
        thread, worker = library_pair
        if thread.isRunning():
            _call_shutdown(worker)
            wait_or_let_go(thread, _left_ms(deadline), worker)
        # A thread let go carries on after its window is gone: what it says from now on
        # goes nowhere, rather than to Qt objects deleted with the window.
        self._events.close()

    def _on_owner_destroyed(self, *_: object) -> None:
        """The client is being destroyed without a shutdown (see the module docstring):
        its children, these threads among them, are deleted right after this returns."""
        self.stop()


def _call_shutdown(worker: OpWorker) -> None:
    """The worker's ``shutdown`` slot, in its thread, after the work queued before it."""
    QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)


def _left_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))
