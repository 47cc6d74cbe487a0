"""What the worker threads tell the window, from whichever thread they run in.

One object living in the GUI thread: a worker hands a signal and its arguments to
:meth:`LibraryEvents.send` in its own thread, and the signal is emitted in the GUI
thread, every worker's in the order they were sent, a few milliseconds of handlers a
turn of the event loop (see :mod:`.paced_delivery`). Nothing is relayed by name; views
connect here directly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

from .paced_delivery import PacedDelivery


class LibraryEvents(QObject):
    """Signals:
    sig_op_updated, sig_op_finished (the operation plumbing of :class:`~.client.WorkerClient`),
    sig_chat_changed, sig_queue_changed, sig_data_changed, sig_push_wanted,
    sig_status_changed, sig_sync_progress, sig_sync_done, sig_sync_failed.
    """

    sig_op_updated = Signal(object, object)
    """(LibraryOp, value) a running operation reported progress or a piece of its result."""
    sig_op_finished = Signal(object, object, object)
    """(LibraryOp, result, OpFailure or None) an operation ended."""
    sig_chat_changed = Signal(str, object)
    """(chat id, its ChatView, or None when it is gone) after a write touched it."""
    sig_queue_changed = Signal(object)
    """A LibraryStatus after a local write changed the outbox."""
    sig_data_changed = Signal()
    """Data changed behind the lists on screen (a pull, a discard): read them again."""
    sig_push_wanted = Signal(int)
    """A write wants pushing in this many milliseconds (for the sync worker)."""
    sig_status_changed = Signal(object)
    """A new WorkerStatus: connectivity, syncing, the outbox."""
    sig_sync_progress = Signal(str, int, int)
    """(what, done, total) during long network work."""
    sig_sync_done = Signal(object)
    """The SyncResult of a sync, or None when it failed."""
    sig_sync_failed = Signal(str, bool)
    """(message, is a bug) a sync failed for a reason other than the network."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: The queue the workers' signals wait in for the GUI thread.
        self.delivery = PacedDelivery(self)

    def send(self, signal: SignalInstance, *args: Any) -> None:
        """Emit ``signal`` (one of this object's) with ``args`` in the GUI thread, after
        everything sent before it; from any thread."""
        self.delivery.post(signal.emit, *args)

    def want_push(self, delay_ms: int) -> None:
        """Emit :attr:`sig_push_wanted` (worker to worker, queued) unless closed; from any thread."""
        self.delivery.call_unless_closed(self.sig_push_wanted.emit, delay_ms)

    def close(self) -> None:
        """Send nothing more: the workers are stopped or let go (see :class:`.PacedDelivery`)."""
        self.delivery.close()
