"""A QObject on a QThread of its own that runs operations: the one generic slot.

Every worker of the window is one of these. It owns what it works with (the library,
the assistant), made in its own thread when the thread starts, and runs
:class:`~.operation.LibraryOp` objects one at a time in :meth:`OpWorker.run_op`: one
error path (an expected failure keeps its words, anything else is a bug, logged with
its traceback), one way back to the GUI thread (:class:`~.events.LibraryEvents`).
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...data.errors import GalileioError
from .events import LibraryEvents
from .operation import MAX_TIMER_MS, LibraryOp, OpContext, OpFailure

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary
    from ...data.sync.results import LibraryStatus

log = logging.getLogger(__name__)


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    """(message for the user, is_bug): expected failures keep their words, the rest are bugs."""
    if isinstance(exc, GalileioError):
        return (exc.message, False)
    log.error("unexpected error in a worker", exc_info=exc)
    return (f"Unexpected error ({type(exc).__name__}: {exc}). This is a bug; details are in the log.", True)


class OpWorker(QObject):
    """Runs operations on the library in its thread; see the module docstring.

    Signals: sig_started(ok, message) when its resources are made, sig_stopped() when
    the thread is about to end.
    """

    sig_started = Signal(bool, str)
    """Its resources are ready (True), or why they could not be made (False, the reason)."""
    sig_stopped = Signal()
    """Closed; the thread is about to end."""

    def __init__(self, events: LibraryEvents, *, name: str) -> None:
        super().__init__()
        self._events = events
        self._name = name
        self._library: ChatLibrary | None = None
        #: Why the library could not be opened, said again to every operation.
        self._unavailable = "The chat library is not open."
        #: The thread its resources were made in (tests compare it with the GUI thread).
        self.thread_ident: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def attach(self, library: ChatLibrary) -> None:
        """Work on ``library`` (opened by another worker; it is thread-safe). Called before
        this worker's thread starts."""
        self._library = library

    @Slot()
    def start(self) -> None:
        """Make this worker's resources in its thread, then say so."""
        self.thread_ident = threading.get_ident()
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - reported to the window, which stays up
            message, _ = describe_failure(exc)
            self._unavailable = message
            self.sig_started.emit(False, message)
            return
        self.sig_started.emit(True, "")
        self._after_start()

    def _open(self) -> None:
        """Subclasses make their resources here (in the worker's thread)."""

    def _after_start(self) -> None:
        """Subclasses start their timers here."""

    @Slot()
    def shutdown(self) -> None:
        """Close and end the thread's loop; operations queued before this have run."""
        self._before_close()
        self._close()
        self.sig_stopped.emit()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()

    def _before_close(self) -> None:
        """Subclasses stop their timers here."""

    def _close(self) -> None:
        """Subclasses close what they own."""

    def interrupt(self) -> None:
        """Stop the library's network work now; safe from any thread (the GUI's, at Quit or
        an account switch), unlike the slots, which run in the worker's."""
        library = self._library
        if library is not None:
            library.interrupt()

    @property
    def library(self) -> ChatLibrary:
        if self._library is None:
            raise GalileioError(self._unavailable)
        return self._library

    # -- operations -----------------------------------------------------------------------

    @Slot(object)
    def run_op(self, op: LibraryOp[Any]) -> None:
        """Run one operation: the only way work reaches this thread. One cancelled before
        it ran is skipped, and still reported finished (its handlers are not called)."""
        if op.cancelled:
            self._events.send(self._events.sig_op_finished, op, None, None)
            return
        result: object = None
        failure: OpFailure | None = None
        try:
            result = op.execute(self.library, self._context(op))
        except Exception as exc:  # noqa: BLE001 - the one error path of every operation
            message, is_bug = describe_failure(exc)
            if not is_bug:
                log.info("%s: %s failed: %s", self._name, op.name, message)
            failure = OpFailure(message, is_bug, None if is_bug else exc)
        if failure is None and op.push_in_ms is not None:
            self.after_write(op.push_in_ms)
        if op.chat_id is not None:
            self.emit_chat(op.chat_id)
        self._after_op(op, failure)
        self._events.send(self._events.sig_op_finished, op, result, failure)

    def _context(self, op: LibraryOp[Any]) -> OpContext:
        return OpContext(
            op, functools.partial(self._events.send, self._events.sig_op_updated), self.after_write
        )

    def _after_op(self, op: LibraryOp[Any], failure: OpFailure | None) -> None:
        """Subclasses note what an operation's outcome says (the sync worker: offline)."""

    # -- what every view is told ----------------------------------------------------------

    def after_write(self, push_in_ms: int) -> None:
        self.emit_queue()
        self._events.want_push(min(max(0, push_in_ms), MAX_TIMER_MS))

    def emit_chat(self, chat_id: str) -> None:
        try:
            view = self.library.get_chat(chat_id)
        except Exception:  # noqa: BLE001 - the work itself is done; the list refreshes later
            log.exception("reading a chat after an operation failed")
            return
        self._events.send(self._events.sig_chat_changed, chat_id, view)

    def library_status(self) -> LibraryStatus | None:
        if self._library is None:
            return None
        try:
            return self._library.status()
        except Exception:  # noqa: BLE001 - a status read must not break the caller
            log.exception("reading the library status failed")
            return None

    def emit_queue(self) -> None:
        status = self.library_status()
        if status is not None:
            self._events.send(self._events.sig_queue_changed, status)
