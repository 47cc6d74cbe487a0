"""The worker that owns a chat library on its own thread: reads, local writes, asking, export.

The library is created inside the worker's thread (in :meth:`Worker.start`, run
when the thread starts), so its SQLite connection is made there. Requests
arrive through signals connected to the bound slots below; every result
leaves as a signal carrying the request id, and the GUI drops results it no
longer waits for. Nothing here touches the network: :class:`~.sync_worker.SyncWorker`
adds that, on a thread of its own, so reading and writing what is on disk never
waits behind a slow or dead connection.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..data.errors import GalileioError, NotFound
from ..data.schema import now_ms
from . import ask_flow

if TYPE_CHECKING:
    from ..data.assistants.base import Answer
    from ..data.mirror.recovery import MirrorRecovery
    from ..data.sync import ChatLibrary, LibraryStatus, MessageView

log = logging.getLogger(__name__)

LibraryFactory = Callable[[], "ChatLibrary"]

#: Messages per page of the message pane.
PAGE_SIZE = 50
#: Chats read for the sidebar's first screen (more than a screen holds); the rest follow.
FIRST_SCREEN_CHATS = 100
#: A write is pushed this long after it was made (several quick writes go in one push).
PUSH_DELAY_MS = 1_500
#: Qt timers take a 32-bit interval; a push planned further out is re-planned by the periodic sync.
MAX_TIMER_MS = 86_400_000


class WorkerStatus(NamedTuple):
    """What the status bar shows: connectivity, sync activity and the library's queue.

    (A named tuple: quicker to define than a dataclass, on the way to the first paint.)
    """

    #: None until the first sync attempt; then whether the endpoint answered.
    online: bool | None
    syncing: bool
    library: LibraryStatus | None
    #: The last network error in words, when offline.
    error: str | None = None
    #: False when the library has no DynamoDB connection configured at all.
    networked: bool = True


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    """(message for the user, is_bug): expected failures keep their words, the rest are bugs."""
    if isinstance(exc, GalileioError):
        return (exc.message, False)
    log.error("unexpected error in a worker", exc_info=exc)
    return (f"Unexpected error ({type(exc).__name__}: {exc}). This is a bug; details are in the log.", True)


class Worker(QObject):
    """Runs library calls on its thread; see the module docstring.

    Signals (the request id first where there is one):
        sig_started, sig_chats_loaded, sig_chat_updated, sig_chat_removed,
        sig_messages_loaded, sig_sources_loaded, sig_search_done, sig_message_added,
        sig_answer_requested, sig_answer_done, sig_delete_scheduled, sig_op_cancelled,
        sig_queue_changed, sig_push_wanted, sig_data_changed, sig_exported, sig_done,
        sig_failed, sig_stopped.
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
    sig_queue_changed = Signal(object)
    """A LibraryStatus after a local write changed the outbox."""
    sig_push_wanted = Signal(int)
    """A write wants pushing in this many milliseconds (for the sync worker)."""
    sig_data_changed = Signal()
    """Data changed behind the lists on screen (a pull, a discard): read them again."""
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
        history_limit: int | None = ask_flow.DEFAULT_HISTORY_LIMIT,
        name: str = "worker",
    ) -> None:
        super().__init__()
        self._factory = library_factory
        self._history_limit = history_limit
        self._name = name
        self._library: ChatLibrary | None = None
        #: The thread the library was created in (tests compare it with the GUI thread).
        self.thread_ident: int | None = None
        #: Set before ``sig_started`` when the mirror was found damaged and replaced as it
        #: opened: the window tells the user once the workers are up.
        self.recovery: MirrorRecovery | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Open the library in this thread."""
        self.thread_ident = threading.get_ident()
        try:
            self._library = self._factory()
        except Exception as exc:  # noqa: BLE001 - reported to the window, which stays up
            message, _ = describe_failure(exc)
            self.sig_started.emit(False, message)
            return
        self.recovery = getattr(self._library, "recovery", None)
        self.sig_started.emit(True, "")
        self._after_start()

    def _after_start(self) -> None:
        self._emit_queue()

    @Slot()
    def shutdown(self) -> None:
        """Close the library and end the thread's loop; requests queued before this have run."""
        self._before_close()
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

    def _before_close(self) -> None:
        """Subclasses stop their timers here."""

    def interrupt(self) -> None:
        """Stop the library's network work now; safe to call from any thread (the GUI's,
        at Quit or an account switch), unlike the slots, which run in the worker's."""
        library = self._library
        if library is not None:
            library.interrupt()

    @property
    def library(self) -> ChatLibrary:
        if self._library is None:
            raise GalileioError("The chat library is not open.")
        return self._library

    # -- reads --------------------------------------------------------------------------

    @Slot(int, object)
    def load_chats(self, request_id: int, limit: object = None) -> None:
        """The chat list; with ``limit``, only the most recently active chats (a first screen)."""
        try:
            count = int(limit) if isinstance(limit, int) else None
            self.sig_chats_loaded.emit(request_id, self.library.list_chats(limit=count))
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, str, object, object)
    def load_messages(self, request_id: int, chat_id: str, limit: object, before: object) -> None:
        """A page: the newest ``limit`` messages (``before`` None) or the ``limit`` before ``before``."""
        try:
            library = self.library
            views = library.list_messages(
                chat_id,
                limit=int(limit) if isinstance(limit, int) else None,
                before=int(before) if isinstance(before, int) else None,
            )
            views = [self._with_sources(view) for view in views]
            total = library.count_messages(chat_id)
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
        self._emit_queue()

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
            self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
        self._emit_chat(request_id, chat_id)  # the title really stored, after success or failure

    @Slot(int, str, object)
    def delete_chat(self, request_id: int, chat_id: str, not_before_ms: object) -> None:
        """Queue the delete; it is sent no sooner than ``not_before_ms`` so Undo can cancel it."""
        try:
            when = int(not_before_ms) if isinstance(not_before_ms, int) else None
            op_id = self.library.delete_chat(chat_id, not_before_ms=when)
            self.sig_delete_scheduled.emit(request_id, chat_id, int(op_id))
            self._after_write(max(0, when - now_ms()) + 250 if when is not None else PUSH_DELAY_MS)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def cancel_op(self, request_id: int, op_id: int) -> None:
        try:
            cancelled = bool(self.library.cancel(op_id))
            self.sig_op_cancelled.emit(request_id, op_id, cancelled)
            self._emit_queue()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def retry_op(self, request_id: int, op_id: int) -> None:
        try:
            self.library.retry(op_id)
            self.sig_done.emit(request_id)
            self._after_write(0)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    @Slot(int, int)
    def discard_op(self, request_id: int, op_id: int) -> None:
        try:
            self.library.discard(op_id)
            self.sig_done.emit(request_id)
            self._emit_queue()
            self.sig_data_changed.emit()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    # -- asking -------------------------------------------------------------------------

    @Slot(int, str, str, str, object)
    def ask(self, request_id: int, chat_id: str, question: str, retry_of: str, cancel: object) -> None:
        """Store the question (unless retrying a stored one), then hand it to the answer thread."""
        try:
            library = self.library
            if retry_of:
                question_id = retry_of
            else:
                message = library.add_message(chat_id, "human", question)
                question_id = message.message_id
                self.sig_message_added.emit(request_id, self._message_view(chat_id, question_id))
                self._name_chat_from_prompt(request_id, chat_id, question)
            limit = self._history_limit
            recent = library.list_messages(chat_id, limit=None if limit is None else limit * 2 + 2)
            history = ask_flow.history_turns(recent, question_id, limit)
            self._after_write()
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
            return
        self.sig_answer_requested.emit(request_id, chat_id, question, history, cancel, question_id)

    @Slot(int, str, object, str)
    def store_answer(self, request_id: int, chat_id: str, answer: Answer, question_id: str) -> None:
        """Keep the answer: written by us, or put in the mirror as the server wrote it."""
        try:
            library = self.library
            stored_id: str | None = None
            if answer.stored_remotely:
                stored_id = self._store_remote_answer(chat_id, answer, question_id)
            elif answer.text or answer.sources:
                extra = dict(ask_flow.STOPPED_EXTRA) if answer.stopped else None
                message = library.add_message(chat_id, "ai", answer.text, list(answer.sources), extra=extra)
                stored_id = message.message_id
                self._after_write()
            view = self._message_view(chat_id, stored_id) if stored_id else None
            self.sig_answer_done.emit(request_id, chat_id, view)
            self._emit_chat(request_id, chat_id)
        except NotFound as exc:
            # The chat was deleted while the answer was being written: nothing to keep it in.
            self.sig_answer_done.emit(request_id, chat_id, None)
            self._fail(request_id, exc)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)

    def _store_remote_answer(self, chat_id: str, answer: Answer, question_id: str) -> str | None:
        """The server stored question and answer itself: drop our copy of the question, mirror theirs."""
        remote = answer.remote_messages()
        if not remote:
            self.sig_push_wanted.emit(0)  # the next pull brings the server's items in
            return None
        try:
            self.library.delete_message(chat_id, question_id)
        except NotFound:
            pass
        for message in remote:
            self.library.store_remote_message(message)
        self._after_write()
        self.sig_data_changed.emit()
        answers = [m for m in remote if m.type == "ai"]
        return answers[-1].message_id if answers else None

    def _name_chat_from_prompt(self, request_id: int, chat_id: str, question: str) -> None:
        """The first prompt in a chat still called "New chat" gives it a title."""
        view = self.library.get_chat(chat_id)
        if view is None:
            return
        if ask_flow.is_default_title(view.chat.title) and self.library.count_messages(chat_id) <= 1:
            title = ask_flow.title_from_prompt(question)
            if not ask_flow.is_default_title(title):
                self.library.rename_chat(chat_id, title)
        self._emit_chat(request_id, chat_id)

    def _message_view(self, chat_id: str, message_id: str) -> MessageView | None:
        for view in reversed(self.library.list_messages(chat_id, limit=20)):
            if view.message.message_id == message_id:
                return self._with_sources(view)
        for view in self.library.list_messages(chat_id):
            if view.message.message_id == message_id:
                return self._with_sources(view)
        return None

    def _with_sources(self, view: MessageView) -> MessageView:
        """An answer with its sources attached, so the pane can show how many it cites."""
        message = view.message
        if message.type != "ai" or message.sources:
            return view
        sources = self.library.list_sources(message.message_id)
        if not sources:
            return view
        return dataclasses.replace(view, message=message.with_sources(tuple(sources)))

    # -- export -------------------------------------------------------------------------

    @Slot(int, str, str, str)
    def export_chat(self, request_id: int, chat_id: str, fmt: str, path: str) -> None:
        """Write the chat with every answer's sources to ``path`` in ``fmt`` (md, json, csv)."""
        from ..data.export import export_chat

        try:
            library = self.library
            view = library.get_chat(chat_id)
            if view is None:
                raise NotFound("This chat no longer exists.")
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

    def _after_write(self, push_in_ms: int = PUSH_DELAY_MS) -> None:
        self._emit_queue()
        self.sig_push_wanted.emit(min(max(0, push_in_ms), MAX_TIMER_MS))

    def _emit_chat(self, request_id: int, chat_id: str) -> None:
        try:
            view = self.library.get_chat(chat_id)
        except Exception:  # noqa: BLE001 - the write itself succeeded; the list refreshes later
            log.exception("reading a chat after a write failed")
            return
        if view is None:
            self.sig_chat_removed.emit(request_id, chat_id)
        else:
            self.sig_chat_updated.emit(request_id, view)

    def _library_status(self) -> LibraryStatus | None:
        if self._library is None:
            return None
        try:
            return self._library.status()
        except Exception:  # noqa: BLE001 - a status read must not break the caller
            log.exception("reading the library status failed")
            return None

    def _emit_queue(self) -> None:
        status = self._library_status()
        if status is not None:
            self.sig_queue_changed.emit(status)

    def _fail(self, request_id: int, exc: BaseException) -> None:
        message, is_bug = describe_failure(exc)
        if not is_bug:
            log.info("%s: request %s failed: %s", self._name, request_id, message)
        self.sig_failed.emit(request_id, message, is_bug)
