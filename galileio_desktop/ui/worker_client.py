"""The GUI's handle on the background threads: hands out request ids, sends requests as signals.

Three threads sit behind it, each owning what it works with:

- the library worker (:class:`~.worker.Worker`): reads and local writes on the
  mirror, so what is on disk shows at once whatever the network does;
- the sync worker (:class:`~.sync_worker.SyncWorker`): push, pull, fetching a
  chat, all boto3 calls to DynamoDB, on a timer;
- the answer thread (:class:`~.answer_worker.AnswerWorker`): the assistant,
  so a minute-long answer holds nothing else up.

Each makes its resources (library, boto3 clients, assistant) in its own thread
when the thread starts. The client's request signals are connected to the
workers' bound slots, so each request runs in its worker's thread; the
workers' result signals are connected to the client's own, so the GUI receives
every result in the GUI thread, from one object.

Shutdown: stop streaming answers and the sync's network work (requests in flight
end at once), ask each worker to close (after the requests already queued, so a
question sent just before quitting is still stored), then wait for the threads, for
at most :data:`SHUTDOWN_WAIT_MS` in all: whatever the network does, Quit and an
account switch return within a second.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from . import ask_flow
from .answer_worker import AnswerWorker, AssistantFactory
from .sync_worker import DEFAULT_SYNC_INTERVAL_MS, SyncWorker
from .thread_stop import wait_or_let_go
from .worker import LibraryFactory, Worker

log = logging.getLogger(__name__)


class WorkerClient(QObject):
    """Request methods return the request id; results arrive on the ``sig_*`` signals.

    Result signals (see the workers for their arguments): sig_started, sig_chats_loaded,
    sig_chat_updated, sig_chat_removed, sig_messages_loaded, sig_sources_loaded,
    sig_search_done, sig_message_added, sig_answer_started, sig_answer_delta,
    sig_answer_done, sig_delete_scheduled, sig_op_cancelled, sig_queue_changed,
    sig_sync_progress, sig_sync_done, sig_status_changed, sig_data_changed, sig_exported,
    sig_done, sig_failed.
    """

    # Results, re-emitted in the GUI thread.
    sig_started = Signal(bool, str)
    """Both libraries are open (True), or why one could not be opened (False, the reason)."""
    sig_chats_loaded = Signal(int, object)
    """(request id, list of ChatView)."""
    sig_chat_updated = Signal(int, object)
    """(request id, ChatView)."""
    sig_chat_removed = Signal(int, str)
    """(request id, chat id)."""
    sig_messages_loaded = Signal(int, str, object, int, bool)
    """(request id, chat id, views oldest first, total, older page)."""
    sig_sources_loaded = Signal(int, str, object)
    """(request id, message id, list of Source)."""
    sig_search_done = Signal(int, str, object)
    """(request id, query, list of SearchHit)."""
    sig_message_added = Signal(int, object)
    """(request id, MessageView of the stored question)."""
    sig_answer_started = Signal(int, str)
    """(request id, chat id)."""
    sig_answer_delta = Signal(int, str)
    """(request id, text piece)."""
    sig_answer_done = Signal(int, str, object)
    """(request id, chat id, MessageView or None)."""
    sig_delete_scheduled = Signal(int, str, int)
    """(request id, chat id, op id)."""
    sig_op_cancelled = Signal(int, int, bool)
    """(request id, op id, cancelled)."""
    sig_queue_changed = Signal(object)
    """LibraryStatus after a local write."""
    sig_sync_progress = Signal(str, int, int)
    """(what, done, total)."""
    sig_sync_done = Signal(int, object)
    """(request id, result or None)."""
    sig_status_changed = Signal(object)
    """WorkerStatus from the sync worker."""
    sig_data_changed = Signal()
    """Data changed behind the lists on screen."""
    sig_exported = Signal(int, str)
    """(request id, path)."""
    sig_done = Signal(int)
    """(request id)."""
    sig_failed = Signal(int, str, bool)
    """(request id, message, is a bug)."""

    # Requests, connected to the workers' slots.
    _sig_load_chats = Signal(int, object)
    _sig_load_messages = Signal(int, str, object, object)
    _sig_load_sources = Signal(int, str)
    _sig_search = Signal(int, str, int)
    _sig_load_status = Signal(int)
    _sig_create_chat = Signal(int, str)
    _sig_rename_chat = Signal(int, str, str)
    _sig_delete_chat = Signal(int, str, object)
    _sig_cancel_op = Signal(int, int)
    _sig_retry_op = Signal(int, int)
    _sig_discard_op = Signal(int, int)
    _sig_ask = Signal(int, str, str, str, object)
    _sig_export_chat = Signal(int, str, str, str)
    _sig_open_chat = Signal(int, str)
    _sig_sync_now = Signal(int)
    _sig_shutdown = Signal()

    def __init__(
        self,
        library_factory: LibraryFactory,
        assistant_factory: AssistantFactory | None = None,
        *,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        periodic_sync: bool = True,
        history_limit: int | None = ask_flow.DEFAULT_HISTORY_LIMIT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._cancel_events: dict[int, threading.Event] = {}
        self._running = False
        self._threads: list[QThread] = []
        self._started = 0
        self._start_failure = ""
        self._background_wanted = True

        self.worker = Worker(library_factory, history_limit=history_limit, name="library worker")
        self.sync_worker = SyncWorker(
            library_factory, sync_interval_ms=sync_interval_ms, periodic=periodic_sync
        )
        self.answerer = AnswerWorker(assistant_factory or _no_assistant)
        self._connect_worker()
        self._connect_sync_worker()
        self._connect_answerer()

    # -- wiring -------------------------------------------------------------------------

    def _connect_worker(self) -> None:
        worker = self.worker
        self._sig_load_chats.connect(worker.load_chats)
        self._sig_load_messages.connect(worker.load_messages)
        self._sig_load_sources.connect(worker.load_sources)
        self._sig_search.connect(worker.search)
        self._sig_create_chat.connect(worker.create_chat)
        self._sig_rename_chat.connect(worker.rename_chat)
        self._sig_delete_chat.connect(worker.delete_chat)
        self._sig_cancel_op.connect(worker.cancel_op)
        self._sig_retry_op.connect(worker.retry_op)
        self._sig_discard_op.connect(worker.discard_op)
        self._sig_ask.connect(worker.ask)
        self._sig_export_chat.connect(worker.export_chat)
        self._sig_shutdown.connect(worker.shutdown)
        worker.sig_started.connect(self._on_worker_started)
        for name in (
            "sig_chats_loaded",
            "sig_chat_updated",
            "sig_chat_removed",
            "sig_messages_loaded",
            "sig_sources_loaded",
            "sig_search_done",
            "sig_message_added",
            "sig_answer_done",
            "sig_delete_scheduled",
            "sig_op_cancelled",
            "sig_queue_changed",
            "sig_data_changed",
            "sig_exported",
            "sig_done",
            "sig_failed",
        ):
            getattr(worker, name).connect(getattr(self, name))
        # Library worker -> sync worker: push soon after a write.
        worker.sig_push_wanted.connect(self.sync_worker.push_soon)

    def _connect_sync_worker(self) -> None:
        sync = self.sync_worker
        self._sig_open_chat.connect(sync.open_chat)
        self._sig_sync_now.connect(sync.sync_now)
        self._sig_load_status.connect(sync.load_status)
        self._sig_shutdown.connect(sync.shutdown)
        sync.sig_started.connect(self._on_worker_started)
        for name in (
            "sig_messages_loaded",
            "sig_sync_progress",
            "sig_sync_done",
            "sig_status_changed",
            "sig_data_changed",
            "sig_failed",
        ):
            getattr(sync, name).connect(getattr(self, name))

    def _connect_answerer(self) -> None:
        answerer = self.answerer
        # Library worker -> answer thread -> library worker: the GUI is not in the loop.
        self.worker.sig_answer_requested.connect(answerer.answer)
        answerer.sig_answer_ready.connect(self.worker.store_answer)
        answerer.sig_answer_started.connect(self.sig_answer_started)
        answerer.sig_answer_delta.connect(self.sig_answer_delta)
        answerer.sig_failed.connect(self.sig_failed)
        self._sig_shutdown.connect(answerer.shutdown)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, *, defer_background: bool = False) -> None:
        """Start the threads; each opens its resources in its own thread.

        The library worker goes first: the sync worker opens the same mirror only once
        the first has created or migrated it, so two connections never race to do it.
        With ``defer_background`` the sync worker and the answer thread wait for
        :meth:`start_background` (the window calls it once the chat list is painted:
        neither is needed for the first paint, and both would compete with it).
        """
        if self._running:
            return
        self._running = True
        self._background_wanted = not defer_background
        for name, obj in (
            ("galileio-library", self.worker),
            ("galileio-sync", self.sync_worker),
            ("galileio-assistant", self.answerer),
        ):
            thread = QThread(self)
            thread.setObjectName(name)
            obj.moveToThread(thread)
            thread.started.connect(obj.start)
            self._threads.append(thread)
        self._threads[0].start()

    def start_background(self) -> None:
        """Start the sync worker and the answer thread (once the library worker is up)."""
        self._background_wanted = True
        if self._started > 0:
            self._start_others()

    @property
    def background_started(self) -> bool:
        """True once the sync worker and the answer thread were started."""
        return len(self._threads) > 1 and all(t.isRunning() or t.isFinished() for t in self._threads[1:])

    def _start_others(self) -> None:
        if self._running and self._background_wanted:
            for thread in self._threads[1:]:
                if not thread.isRunning():
                    thread.start()

    def shutdown(self) -> None:
        """Stop answers and the network, close the workers after their queued requests,
        and wait for the threads, for at most :data:`SHUTDOWN_WAIT_MS` in all."""
        if not self._running:
            return
        self._running = False
        for event in self._cancel_events.values():
            event.set()
        self.sync_worker.interrupt()
        self._sig_shutdown.emit()
        deadline = time.monotonic() + SHUTDOWN_WAIT_MS / 1000
        for thread in self._threads:
            wait_or_let_go(thread, int((deadline - time.monotonic()) * 1000))
        self._threads.clear()

    @Slot(bool, str)
    def _on_worker_started(self, ok: bool, message: str) -> None:
        self._started += 1
        if self._started == 1:
            if not ok:
                self._background_wanted = True  # no list will come to wait for
            self._start_others()
        if not ok and not self._start_failure:
            self._start_failure = message
        if self._started == 2:
            self.sig_started.emit(not self._start_failure, self._start_failure)

    @property
    def running(self) -> bool:
        return self._running

    def _next(self) -> int:
        return next(self._ids)

    # -- requests -----------------------------------------------------------------------

    def load_chats(self, limit: int | None = None) -> int:
        """The chat list, or with ``limit`` only its first ``limit`` chats."""
        request_id = self._next()
        self._sig_load_chats.emit(request_id, limit)
        return request_id

    def load_messages(self, chat_id: str, limit: int | None, before: int | None = None) -> int:
        request_id = self._next()
        self._sig_load_messages.emit(request_id, chat_id, limit, before)
        return request_id

    def load_sources(self, message_id: str) -> int:
        request_id = self._next()
        self._sig_load_sources.emit(request_id, message_id)
        return request_id

    def search(self, query: str, limit: int = 50) -> int:
        request_id = self._next()
        self._sig_search.emit(request_id, query, limit)
        return request_id

    def load_status(self) -> int:
        request_id = self._next()
        self._sig_load_status.emit(request_id)
        return request_id

    def create_chat(self, title: str = "") -> int:
        request_id = self._next()
        self._sig_create_chat.emit(request_id, title)
        return request_id

    def rename_chat(self, chat_id: str, title: str) -> int:
        request_id = self._next()
        self._sig_rename_chat.emit(request_id, chat_id, title)
        return request_id

    def delete_chat(self, chat_id: str, not_before_ms: int | None = None) -> int:
        request_id = self._next()
        self._sig_delete_chat.emit(request_id, chat_id, not_before_ms)
        return request_id

    def cancel_op(self, op_id: int) -> int:
        request_id = self._next()
        self._sig_cancel_op.emit(request_id, op_id)
        return request_id

    def retry_op(self, op_id: int) -> int:
        request_id = self._next()
        self._sig_retry_op.emit(request_id, op_id)
        return request_id

    def discard_op(self, op_id: int) -> int:
        request_id = self._next()
        self._sig_discard_op.emit(request_id, op_id)
        return request_id

    def ask(self, chat_id: str, question: str, retry_of: str = "") -> int:
        """Store ``question`` (or answer the stored ``retry_of`` again) and stream an answer."""
        request_id = self._next()
        cancel = threading.Event()
        self._cancel_events[request_id] = cancel
        self._sig_ask.emit(request_id, chat_id, question, retry_of, cancel)
        return request_id

    def stop_answer(self, request_id: int) -> None:
        """Stop a streaming answer: a plain event, read by the assistant in its thread."""
        event = self._cancel_events.get(request_id)
        if event is not None:
            event.set()

    def forget_answer(self, request_id: int) -> None:
        """The answer finished one way or another; its stop event is no longer needed."""
        self._cancel_events.pop(request_id, None)

    def open_chat(self, chat_id: str) -> int:
        request_id = self._next()
        self._sig_open_chat.emit(request_id, chat_id)
        return request_id

    def sync_now(self) -> int:
        request_id = self._next()
        self._sig_sync_now.emit(request_id)
        return request_id

    def export_chat(self, chat_id: str, fmt: str, path: str) -> int:
        request_id = self._next()
        self._sig_export_chat.emit(request_id, chat_id, fmt, path)
        return request_id


#: How long Quit or an account switch waits, in all, for the worker threads to end.
SHUTDOWN_WAIT_MS = 1000


def _no_assistant() -> None:
    return None
