"""The long-lived worker that owns the chat library: every SQLite write and every boto3 call.

It lives on its own ``QThread``. The library is created inside that thread (in
:meth:`Worker.start`, run when the thread starts), so the mirror's writer
connection and the boto3 clients never cross threads. Requests arrive through
signals connected to the bound slots below; every result leaves as a signal
carrying the request id, and the GUI drops results it no longer waits for.

The same class also serves as a read-only twin on a second thread (no periodic
sync, only the read slots are used), so reading what is already on disk never
waits behind a slow network call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..data.errors import EndpointUnreachable, GalileioError
from . import ask_flow

if TYPE_CHECKING:
    from ..data.assistants.base import Answer
    from ..data.sync.library import ChatLibrary, LibraryStatus

log = logging.getLogger(__name__)

LibraryFactory = Callable[[], "ChatLibrary"]

DEFAULT_SYNC_INTERVAL_MS = 60_000
#: Messages per page of the message pane.
PAGE_SIZE = 50
#: A write is pushed this long after it was made (several quick writes go in one push).
PUSH_DELAY_MS = 1_500
OFFLINE_RETRY_MS = (5_000, 10_000, 20_000, 40_000, 60_000)


@dataclass(frozen=True)
class WorkerStatus:
    """What the status bar shows: connectivity, sync activity and the library's queue."""

    #: None until the first sync attempt; then whether the endpoint answered.
    online: bool | None
    syncing: bool
    library: LibraryStatus | None
    #: The last network error in words, when offline.
    error: str | None = None
    #: False when the library runs without a gateway (offline only by configuration).
    networked: bool = True


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    """(message for the user, is_bug): expected failures keep their words, the rest are bugs."""
    if isinstance(exc, GalileioError):
        return (exc.message, False)
    log.error("unexpected error in the worker", exc_info=exc)
    return (f"Unexpected error ({type(exc).__name__}: {exc}). This is a bug; details are in the log.", True)


class Worker(QObject):
    """Runs library calls on its thread; see the module docstring.

    Signals (all carry the request id first, except the unsolicited ones):
        sig_started(ok, message), sig_chats_loaded, sig_chat_updated, sig_chat_removed,
        sig_messages_loaded, sig_sources_loaded, sig_search_done, sig_message_added,
        sig_answer_requested, sig_answer_done, sig_delete_scheduled, sig_op_cancelled,
        sig_sync_progress, sig_sync_done, sig_status_changed, sig_data_changed,
        sig_exported, sig_done, sig_failed, sig_stopped.
    """

    sig_started = Signal(bool, str)
    """The library opened (True) or could not be opened (False, the reason)."""
    sig_chats_loaded = Signal(int, object)
    """(request id, list of ChatView), most recent activity first."""
    sig_chat_updated = Signal(int, object)
    """(request id, ChatView) after a write changed one chat."""
    sig_chat_removed = Signal(int, str)
    """(request id, chat id) the chat is gone from the list."""
    sig_messages_loaded = Signal(int, str, object, int, bool)
    """(request id, chat id, list of MessageView oldest first, total stored, is an older page)."""
    sig_sources_loaded = Signal(int, str, object)
    """(request id, message id, list of Source)."""
    sig_search_done = Signal(int, str, object)
    """(request id, query, list of SearchHit)."""
    sig_message_added = Signal(int, object)
    """(request id, MessageView) the question of an ask is stored."""
    sig_answer_requested = Signal(int, str, str, object, object, str)
    """(request id, chat id, question, history turns, cancel event, question id) for the answer thread."""
    sig_answer_done = Signal(int, str, object)
    """(request id, chat id, MessageView of the stored answer, or None when nothing was stored)."""
    sig_delete_scheduled = Signal(int, str, int)
    """(request id, chat id, operation id) a delete waits in the outbox and can be undone."""
    sig_op_cancelled = Signal(int, int, bool)
    """(request id, operation id, cancelled in time)."""
    sig_sync_progress = Signal(str, int, int)
    """(what, done, total) during long work."""
    sig_sync_done = Signal(int, object)
    """(request id or 0 for a timed sync, the library's result or None on failure)."""
    sig_status_changed = Signal(object)
    """A new WorkerStatus."""
    sig_data_changed = Signal()
    """A pull brought remote changes in: lists on screen should be read again."""
    sig_exported = Signal(int, str)
    """(request id, path written)."""
    sig_done = Signal(int)
    """(request id) a request without a result of its own finished (retry, discard)."""
    sig_failed = Signal(int, str, bool)
    """(request id, message for the user, is a bug)."""
    sig_stopped = Signal()
    """The library is closed and the thread is about to end."""

    def __init__(
        self,
        library_factory: LibraryFactory,
        *,
        periodic_sync: bool = True,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        history_limit: int | None = ask_flow.DEFAULT_HISTORY_LIMIT,
        name: str = "worker",
    ) -> None:
        super().__init__()
        self._factory = library_factory
        self._periodic_sync = periodic_sync
        self._sync_interval_ms = sync_interval_ms
        self._history_limit = history_limit
        self._name = name
        self._library: ChatLibrary | None = None
        self._sync_timer: QTimer | None = None
        self._push_timer: QTimer | None = None
        self._online: bool | None = None
        self._syncing = False
        self._error: str | None = None
        self._offline_attempts = 0
        self._networked = True
        #: The thread the library was created in; every call is checked against it.
        self.thread_ident: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Open the library in this thread; start the sync timers."""
        self.thread_ident = threading.get_ident()
        try:
            self._library = self._factory()
        except Exception as exc:  # noqa: BLE001 - reported to the window, which stays up
            message, _ = describe_failure(exc)
            self.sig_started.emit(False, message)
            return
        self._networked = getattr(self._library, "networked", True) is not False
        if self._periodic_sync:
            self._sync_timer = QTimer(self)
            self._sync_timer.setSingleShot(True)
            self._sync_timer.timeout.connect(self._on_sync_timer_timeout)
            self._push_timer = QTimer(self)
            self._push_timer.setSingleShot(True)
            self._push_timer.timeout.connect(self._on_sync_timer_timeout)
        self.sig_started.emit(True, "")
        self._emit_status()
        if self._periodic_sync:
            self._schedule_sync(0)

    @Slot()
    def shutdown(self) -> None:
        """Close the library and end the thread's event loop; queued requests before it have run."""
        for timer in (self._sync_timer, self._push_timer):
            if timer is not None:
                timer.stop()
        if self._library is not None:
            try:
                self._library.close()
            except Exception:  # noqa: BLE001 - closing must not keep the app from quitting
                log.exception("closing the library failed")
            self._library = None
        self.sig_stopped.emit()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()

    @property
    def library(self) -> ChatLibrary:
        if self._library is None:
            raise GalileioError("The chat library is not open.")
        return self._library

    # -- reads --------------------------------------------------------------------------

    @Slot(int)
    def load_chats(self, request_id: int) -> None:
        try:
            self.sig_chats_loaded.emit(request_id, self.library.list_chats())
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str, object, object)
    def load_messages(self, request_id: int, chat_id: str, limit: object, before: object) -> None:
        """A page of messages: the newest ``limit`` (``before`` None) or the ``limit`` before ``before``."""
        try:
            library = self.library
            total = library.count_messages(chat_id)
            views = library.list_messages(
                chat_id,
                limit=int(limit) if isinstance(limit, int) else None,
                before=int(before) if isinstance(before, int) else None,
            )
            self.sig_messages_loaded.emit(request_id, chat_id, views, total, before is not None)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str)
    def load_sources(self, request_id: int, message_id: str) -> None:
        try:
            self.sig_sources_loaded.emit(request_id, message_id, self.library.list_sources(message_id))
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str, int)
    def search(self, request_id: int, query: str, limit: int) -> None:
        try:
            hits = self.library.search(query, limit=limit) if query.strip() else []
            self.sig_search_done.emit(request_id, query, hits)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int)
    def load_status(self, request_id: int) -> None:
        self._emit_status()

    # -- writes -------------------------------------------------------------------------

    @Slot(int, str)
    def create_chat(self, request_id: int, title: str) -> None:
        try:
            chat = self.library.create_chat(title) if title else self.library.create_chat()
            self._emit_chat(request_id, chat.chat_id)
            self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str, str)
    def rename_chat(self, request_id: int, chat_id: str, title: str) -> None:
        try:
            self.library.rename_chat(chat_id, title)
            self._emit_chat(request_id, chat_id)
            self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
            self._emit_chat(request_id, chat_id)  # show the title that is really stored

    @Slot(int, str, object)
    def delete_chat(self, request_id: int, chat_id: str, not_before_ms: object) -> None:
        """Queue the delete; it is sent no sooner than ``not_before_ms`` so Undo can cancel it."""
        try:
            when = int(not_before_ms) if isinstance(not_before_ms, int) else None
            op_id = self.library.delete_chat(chat_id, not_before_ms=when)
            self.sig_delete_scheduled.emit(request_id, chat_id, int(op_id))
            self._emit_status()
            if when is not None and self._push_timer is not None:
                from ..data.schema import now_ms

                self._push_timer.start(max(0, when - now_ms()) + 250)
            else:
                self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def cancel_op(self, request_id: int, op_id: int) -> None:
        try:
            cancelled = bool(self.library.cancel(op_id))
            self.sig_op_cancelled.emit(request_id, op_id, cancelled)
            self._emit_status()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def retry_op(self, request_id: int, op_id: int) -> None:
        try:
            self.library.retry(op_id)
            self.sig_done.emit(request_id)
            self._emit_status()
            self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def discard_op(self, request_id: int, op_id: int) -> None:
        try:
            self.library.discard(op_id)
            self.sig_done.emit(request_id)
            self._emit_status()
            self.sig_data_changed.emit()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    # -- asking -------------------------------------------------------------------------

    @Slot(int, str, str, str, object)
    def ask(self, request_id: int, chat_id: str, question: str, retry_of: str, cancel: object) -> None:
        """Store the question (unless retrying one), then hand it to the answer thread."""
        try:
            library = self.library
            if retry_of:
                question_id = retry_of
            else:
                message = library.add_message(chat_id, "human", question)
                question_id = message.message_id
                view = self._message_view(chat_id, question_id)
                self.sig_message_added.emit(request_id, view)
            self._title_from_first_prompt(request_id, chat_id, question)
            recent = library.list_messages(chat_id, limit=(self._history_limit or 0) * 2 + 2)
            history = ask_flow.history_turns(recent, question_id, self._history_limit)
            self._after_write()
            self.sig_answer_requested.emit(request_id, chat_id, question, history, cancel, question_id)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str, object, str)
    def store_answer(self, request_id: int, chat_id: str, answer: Answer, question_id: str) -> None:
        """Keep the answer: written by us, or put in the mirror as the server wrote it."""
        try:
            library = self.library
            stored_id: str | None = None
            if answer.stored_remotely:
                remote = answer.remote_messages()
                if remote:
                    library.delete_message(chat_id, question_id)  # the server stored its own copy
                    for message in remote:
                        library.store_remote_message(message)
                    answers = [m for m in remote if m.type == "ai"]
                    stored_id = answers[-1].message_id if answers else None
                self.sig_data_changed.emit()
                self._schedule_sync(0 if not remote else PUSH_DELAY_MS)
            elif answer.text or answer.sources:
                extra = dict(ask_flow.STOPPED_EXTRA) if answer.stopped else None
                message = library.add_message(chat_id, "ai", answer.text, list(answer.sources), extra=extra)
                stored_id = message.message_id
                self._after_write()
            view = self._message_view(chat_id, stored_id) if stored_id else None
            self.sig_answer_done.emit(request_id, chat_id, view)
            self._emit_chat(request_id, chat_id)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    def _title_from_first_prompt(self, request_id: int, chat_id: str, question: str) -> None:
        view = self.library.get_chat(chat_id)
        if view is None:
            return
        if ask_flow.is_default_title(view.chat.title) and self.library.count_messages(chat_id) <= 1:
            title = ask_flow.title_from_prompt(question)
            if not ask_flow.is_default_title(title):
                self.library.rename_chat(chat_id, title)
        self._emit_chat(request_id, chat_id)

    def _message_view(self, chat_id: str, message_id: str) -> Any:
        # The newest few are enough: the message was just written.
        for view in reversed(self.library.list_messages(chat_id, limit=20)):
            if view.message.message_id == message_id:
                return view
        for view in self.library.list_messages(chat_id):
            if view.message.message_id == message_id:
                return view
        return None

    # -- network ------------------------------------------------------------------------

    @Slot(int, str)
    def open_chat(self, request_id: int, chat_id: str) -> None:
        """Fetch a chat's messages not yet in the mirror; a network failure leaves what is on disk."""
        try:
            self.library.open_chat(chat_id)
        except EndpointUnreachable as exc:
            self._set_offline(exc.message)
            return
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
            return
        self.load_messages(request_id, chat_id, PAGE_SIZE, None)

    @Slot(int)
    def sync_now(self, request_id: int) -> None:
        self._sync(request_id)

    @Slot()
    def _on_sync_timer_timeout(self) -> None:
        self._sync(0)

    def _sync(self, request_id: int) -> None:
        if self._library is None or not self._networked:
            self.sig_sync_done.emit(request_id, None)
            return
        self._syncing = True
        self._emit_status()
        result = None
        try:
            result = self.library.sync(progress=self._on_library_progress)
        except EndpointUnreachable as exc:
            self._set_offline(exc.message)
        except GalileioError as exc:
            self._error = exc.message
            self._fail(request_id, exc)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
        else:
            self._online = True
            self._error = None
            self._offline_attempts = 0
        finally:
            self._syncing = False
        self.sig_sync_done.emit(request_id, result)
        if result is not None:
            self.sig_data_changed.emit()
        self._emit_status()
        if self._online:
            self._schedule_sync(self._sync_interval_ms)
        else:
            delay = OFFLINE_RETRY_MS[min(self._offline_attempts, len(OFFLINE_RETRY_MS) - 1)]
            self._offline_attempts += 1
            self._schedule_sync(delay)

    def _on_library_progress(self, what: str, done: int, total: int) -> None:
        self.sig_sync_progress.emit(what, int(done), int(total))

    def _set_offline(self, message: str) -> None:
        changed = self._online is not False
        self._online = False
        self._error = message
        if changed:
            log.info("offline: %s", message)
        self._emit_status()

    def _schedule_sync(self, delay_ms: int) -> None:
        if self._sync_timer is not None:
            self._sync_timer.start(max(0, delay_ms))

    def _after_write(self) -> None:
        """Push soon after a write, unless a push is already planned sooner."""
        self._emit_status()
        timer = self._push_timer
        if timer is None:
            return
        if not timer.isActive() or timer.remainingTime() > PUSH_DELAY_MS:
            timer.start(PUSH_DELAY_MS)

    # -- export -------------------------------------------------------------------------

    @Slot(int, str, str, str)
    def export_chat(self, request_id: int, chat_id: str, fmt: str, path: str) -> None:
        """Write the chat with every answer's sources to ``path`` in ``fmt`` (md, json, csv)."""
        from ..data.export import export_chat

        try:
            library = self.library
            view = library.get_chat(chat_id)
            if view is None:
                raise GalileioError("This chat no longer exists.")
            messages = []
            for message_view in library.list_messages(chat_id):
                message = message_view.message
                sources = tuple(library.list_sources(message.message_id)) if message.type == "ai" else ()
                messages.append(message.with_sources(sources))
            text = export_chat(view.chat, messages, fmt)
            target = Path(path)
            target.write_text(text, encoding="utf-8", newline="")
            self.sig_exported.emit(request_id, str(target))
        except OSError as exc:
            self.sig_failed.emit(request_id, f"Could not write {path}: {exc.strerror or exc}", False)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    # -- helpers ------------------------------------------------------------------------

    def _emit_chat(self, request_id: int, chat_id: str) -> None:
        try:
            view = self.library.get_chat(chat_id)
        except Exception:  # noqa: BLE001 - the write itself succeeded; the list refreshes later
            log.exception("reading chat after a write failed")
            return
        if view is None:
            self.sig_chat_removed.emit(request_id, chat_id)
        else:
            self.sig_chat_updated.emit(request_id, view)

    def _emit_status(self) -> None:
        library_status = None
        if self._library is not None:
            try:
                library_status = self._library.status()
            except Exception:  # noqa: BLE001 - a status read must not break the caller
                log.exception("reading the library status failed")
        self.sig_status_changed.emit(
            WorkerStatus(self._online, self._syncing, library_status, self._error, self._networked)
        )

    def _fail(self, request_id: int, exc: BaseException) -> None:
        message, is_bug = describe_failure(exc)
        if not is_bug:
            log.info("%s request %s failed: %s", self._name, request_id, message)
        self.sig_failed.emit(request_id, message, is_bug)
