"""The window's handle on its worker threads: three lanes that run operations.

- :attr:`WorkerClient.local` (the library worker): reads and local writes on the mirror,
  so what is on disk shows at once whatever the network does;
- :attr:`WorkerClient.network` (the sync worker): syncing on a timer, fetching a chat,
  every boto3 call to DynamoDB;
- :attr:`WorkerClient.answers` (the answer worker): the assistant, so a minute-long
  answer holds nothing else up.

All three work on one library object (one SQLite connection writes the mirror), opened
in the library worker's thread. Work goes to a lane as a :class:`~.operation.LibraryOp`;
its outcome comes back through :attr:`WorkerClient.events` and is handed to the
operation's handlers here, in the GUI thread. A failure no handler takes goes to
:attr:`WorkerClient.sig_failed`, the window's one default error display.

Shutdown: stop the answers and the network (requests in flight end at once), let the
background workers finish, then close the library after the operations already queued
(a rename made just before quitting is still stored), waiting for the threads at most
:data:`SHUTDOWN_WAIT_MS` in all: whatever the network does, Quit and an account switch
return within a second. A client destroyed without a shutdown (its window dropped
without being closed) stops its threads the same way first (:mod:`.worker_threads`).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from .answer_worker import AnswerWorker, AssistantFactory
from .events import LibraryEvents
from .library_worker import LibraryFactory, LibraryWorker
from .op_worker import OpWorker
from .operation import LibraryOp, OpFailure
from .sync_worker import DEFAULT_SYNC_INTERVAL_MS, SyncWorker
from .worker_threads import WorkerThreads

log = logging.getLogger(__name__)

#: How long Quit or an account switch waits, in all, for the worker threads to end.
SHUTDOWN_WAIT_MS = 1000
#: Turns of history sent with a question.
DEFAULT_HISTORY_LIMIT = 10


class OpLane(QObject):
    """Sends operations to one worker's generic slot (in the worker's thread)."""

    _sig_submit = Signal(object)

    def __init__(self, worker: OpWorker, client: WorkerClient) -> None:
        super().__init__(client)
        self.worker = worker
        self._client = client
        self._sig_submit.connect(worker.run_op)

    def submit(self, op: LibraryOp[Any]) -> None:
        self._client.track(op, self)
        self._sig_submit.emit(op)


class WorkerClient(QObject):
    """The lanes, the events and the threads; see the module docstring.

    Signals: sig_started(ok, message) once the library is open (or could not be);
    sig_failed(OpFailure) for failures no operation handled.
    """

    sig_started = Signal(bool, str)
    """The library is open (True), or why it could not be opened (False, the reason)."""
    sig_failed = Signal(object)
    """An OpFailure no operation's handler took: the window shows it."""

    _sig_sync_now = Signal()
    _sig_status_wanted = Signal()
    _sig_sync_interval = Signal(int)
    _sig_reload_assistant = Signal()

    def __init__(
        self,
        library_factory: LibraryFactory,
        assistant_factory: AssistantFactory | None = None,
        *,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        periodic_sync: bool = True,
        history_limit: int | None = DEFAULT_HISTORY_LIMIT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.history_limit = history_limit
        self._running = False
        self._threads: WorkerThreads | None = None
        self._background_wanted = True
        self._in_flight: dict[LibraryOp[Any], OpLane] = {}

        self.events = LibraryEvents(self)
        self.worker = LibraryWorker(library_factory, self.events)
        self.sync_worker = SyncWorker(self.events, sync_interval_ms=sync_interval_ms, periodic=periodic_sync)
        self.answerer = AnswerWorker(assistant_factory or _no_assistant, self.events)
        self.local = OpLane(self.worker, self)
        self.network = OpLane(self.sync_worker, self)
        self.answers = OpLane(self.answerer, self)

        self.events.sig_op_updated.connect(self._on_events_op_updated)
        self.events.sig_op_finished.connect(self._on_events_op_finished)
        self.events.sig_sync_failed.connect(self._on_events_sync_failed)
        self.events.sig_push_wanted.connect(self.sync_worker.push_soon)
        self.worker.sig_started.connect(self._on_worker_started)
        self._sig_sync_now.connect(self.sync_worker.sync_now)
        self._sig_status_wanted.connect(self.sync_worker.emit_status)
        self._sig_sync_interval.connect(self.sync_worker.set_interval)
        self._sig_reload_assistant.connect(self.answerer.reload)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, *, defer_background: bool = False) -> None:
        """Start the library worker; the sync and answer workers follow once the library is
        open, or, with ``defer_background``, once :meth:`start_background` is called too
        (the window calls it once the chat list is painted: neither is needed for the
        first paint, and both would compete with it). A client runs once: after its
        shutdown its workers have closed what they own, and starting does nothing."""
        if self._running or self._threads is not None:
            return
        self._running = True
        self._background_wanted = not defer_background
        self._threads = WorkerThreads(
            self,
            (
                ("galileio-library", self.worker),
                ("galileio-sync", self.sync_worker),
                ("galileio-assistant", self.answerer),
            ),
            self.events,
            wait_ms=SHUTDOWN_WAIT_MS,
        )
        self._threads.start_library()

    def start_background(self) -> None:
        """Start the sync and answer workers (once the library is open)."""
        self._background_wanted = True
        self._start_others()

    @property
    def background_started(self) -> bool:
        """True once the sync and answer workers were started."""
        return self._threads is not None and self._threads.background_started

    def _start_others(self) -> None:
        library = self.worker._library
        if not (self._running and self._background_wanted and library is not None):
            return
        if self._threads is not None:
            self._threads.start_background(library)

    def shutdown(self) -> None:
        """Stop answers and the network, close the library after the operations already
        queued, and wait for the threads, at most :data:`SHUTDOWN_WAIT_MS` in all."""
        if not self._running:
            return
        self._running = False
        for op, lane in list(self._in_flight.items()):
            if lane is not self.local:
                op.stop()  # an answer streaming, a fetch: stopped (an answer keeps its text)
            op.release()  # nothing is delivered any more: the window's handlers go now
        self._in_flight.clear()
        if self._threads is not None:
            self._threads.stop(SHUTDOWN_WAIT_MS)

    @property
    def running(self) -> bool:
        return self._running

    @Slot(bool, str)
    def _on_worker_started(self, ok: bool, message: str) -> None:
        if ok:
            self._start_others()
        self.sig_started.emit(ok, message)

    # -- operations -----------------------------------------------------------------------

    def track(self, op: LibraryOp[Any], lane: OpLane) -> None:
        """An operation was sent to ``lane``: its outcome comes back here."""
        op.set_default_failure(self._show_failure)
        self._in_flight[op] = lane

    def sync_now(self) -> None:
        """Sync at once (the user's Sync now)."""
        self._sig_sync_now.emit()

    def set_sync_interval(self, interval_ms: int) -> None:
        """Sync every ``interval_ms`` from now on (in the sync worker's thread once it runs)."""
        self._sig_sync_interval.emit(int(interval_ms))

    def reload_assistant(self) -> None:
        """Make the assistant again (its settings changed); a question asked meanwhile
        waits for it in the answer worker's queue."""
        self._sig_reload_assistant.emit()

    def request_status(self) -> None:
        """Have the sync worker report its status (``events.sig_status_changed``)."""
        self._sig_status_wanted.emit()

    @Slot(object, object)
    def _on_events_op_updated(self, op: LibraryOp[Any], value: object) -> None:
        if self._running:
            self._call(op.deliver_update, value)

    @Slot(object, object, object)
    def _on_events_op_finished(self, op: LibraryOp[Any], result: object, failure: object) -> None:
        self._in_flight.pop(op, None)
        if self._running:
            self._call(op.deliver, result, failure)

    @Slot(str, bool)
    def _on_events_sync_failed(self, message: str, is_bug: bool) -> None:
        self._show_failure(OpFailure(message, is_bug))

    def _show_failure(self, failure: OpFailure) -> None:
        self.sig_failed.emit(failure)

    def _call(self, handler: Any, *args: object) -> None:
        """Run a handler of an operation; one that raises is a bug, shown as one."""
        try:
            handler(*args)
        except Exception as exc:  # noqa: BLE001 - a handler's bug must not end the event loop
            log.error("an operation's handler failed", exc_info=exc)
            self._show_failure(
                OpFailure(
                    f"Unexpected error ({type(exc).__name__}: {exc}). This is a bug; details are in the log.",
                    True,
                )
            )


def _no_assistant() -> None:
    return None
