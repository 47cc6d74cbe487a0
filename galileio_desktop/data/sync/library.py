"""ChatLibrary: the local-first face of one account's chats, for the CLI and the window.

Reads come from the mirror only and never wait for the network: the confirmed remote
state overlaid with the user's pending operations. Writes commit the change and its
outbox row in one SQLite transaction and return at once; :meth:`push`, :meth:`pull`
and :meth:`sync` do the network work (on the caller's worker thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..dynamo.cancellation import CancelToken
from ..errors import Cancelled, EndpointUnreachable, InvalidInput, NotFound, SyncBusy
from ..mirror import items, outbox, overlay, search, sync_state
from ..mirror.codec import encode
from ..mirror.database import Mirror
from ..mirror.search import SearchHit
from ..pins import PinChange
from ..schema import (
    DEFAULT_CHAT_TITLE,
    Chat,
    Message,
    Source,
    TypedItem,
    check_item_size,
    decode,
    make_sources,
    new_id,
    now_ms,
    source_order,
    to_typed,
    validate_message_type,
    validate_title,
)
from . import known_sources, server_ids
from .views import ChatView, MessageView, chat_view, is_ghost

if TYPE_CHECKING:  # the network side is imported when first used: not before a first paint
    from ..dynamo.gateway import ChatGateway
    from ..mirror import chat_find
    from ..mirror.recovery import MirrorRecovery
    from .outcome import WriteObserver
    from .puller import Puller
    from .queue_status import LibraryStatus
    from .results import PullResult, PushResult, SyncResult

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

#: A sync reconciles the whole partition when the last reconcile is older than this (a day).
RECONCILE_EVERY_MS = 24 * 3600 * 1000
#: A chat read whole this recently (just fetched, or flipped back to) is not read again
#: when it is opened again; the next sync reads it.
FRESH_FOR_MS = 10 * 1000
#: How long :meth:`ChatLibrary.chat_on_server` waits for another pass sending changes.
CREATE_WAIT_TRIES = 50
CREATE_WAIT_S = 0.2
GONE_CHAT_REASON = "This chat was deleted on another device or in the web app."
_RESERVED_MESSAGE_ATTRS = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "chatId", "messageId", "createdAt", "userId", "type", "data", "entity"}
)


class ChatLibrary:
    """One account's chats: mirror, outbox and sync engine behind one facade.

    Thread-safe: reads and local writes may come from any thread; network work
    (push, pull, sync, open_chat, fetch_sources) runs one at a time.
    """

    def __init__(
        self,
        mirror_path: Path,
        user_id: str,
        gateway_factory: Callable[[], ChatGateway] | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._mirror = Mirror(Path(mirror_path), user_id)
        self.user_id = user_id
        self._factory = gateway_factory
        self._clock = clock
        self._gateway: ChatGateway | None = None
        self._observer: WriteObserver | None = None
        self._net_lock = threading.Lock()
        #: When each chat was last read whole from the server (opened or revalidated).
        self._read_whole: dict[str, int] = {}
        #: Stops the network work of this library from any thread (see :meth:`interrupt`).
        self.cancel_token = CancelToken()

    @property
    def mirror_path(self) -> Path:
        return self._mirror.path

    @property
    def recovery(self) -> MirrorRecovery | None:
        """Set when the mirror file was found damaged at opening and replaced: tell the user."""
        return self._mirror.recovery

    def __enter__(self) -> ChatLibrary:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reads ------------------------------------------------------------------------------

    def list_chats(self, limit: int | None = None, offset: int = 0) -> list[ChatView]:
        """Chats as the user sees them: pinned ones first, then the rest, each part by
        most recent activity.

        With ``limit``, only that many from ``offset``: only those rows (and the pinned
        chats) are read and decoded, so the first screen of a long list comes quickly.
        """
        with self._mirror.read() as conn:
            ops_by_chat: dict[str, list[outbox.Op]] = {}
            for op in outbox.light_ops(conn):
                ops_by_chat.setdefault(op.chat_id, []).append(op)
            views = []
            for row in items.visible_chats(conn, None if limit is None else offset + limit):
                chat = decode(row.item)
                if isinstance(chat, Chat):
                    views.append(chat_view(chat, row.last_message_at, ops_by_chat.get(chat.chat_id, [])))
            shown = {v.chat.chat_id for v in views}
            for chat_id, ops in ops_by_chat.items():
                if chat_id not in shown and is_ghost(ops):
                    if limit is not None and items.visible_chat(conn, chat_id) is not None:
                        continue  # shown, beyond the rows read
                    ghost = self._ghost_view(conn, chat_id)
                    if ghost is not None:
                        views.append(ghost)
        views.sort(key=lambda v: (v.pinned, v.last_activity, v.chat.chat_id), reverse=True)
        return views[offset:] if limit is None else views[offset : offset + limit]

    def list_chats_page(
        self, after: items.ChatCursor | None, limit: int
    ) -> tuple[list[ChatView], items.ChatCursor | None]:
        """A page of the chat list and where the next starts: up to ``limit`` chats, most
        recently active first, after ``after`` (the cursor the page before returned; None:
        from the newest). A plain pair, not a class: this module loads before a first paint.

        Pinned chats come where their activity puts them, not first. The last page (its
        cursor None) also holds the chats deleted elsewhere that keep unsent messages.
        A long list read this way holds the library for one page at a time.
        """
        with self._mirror.read() as conn:
            rows = items.chats_after(conn, after, limit)
            ops_by_chat: dict[str, list[outbox.Op]] = {}
            for op in outbox.light_ops(conn):
                ops_by_chat.setdefault(op.chat_id, []).append(op)
            views = []
            for row, _cursor in rows:
                chat = decode(row.item)
                if isinstance(chat, Chat):
                    views.append(chat_view(chat, row.last_message_at, ops_by_chat.get(chat.chat_id, [])))
            cursor = rows[-1][1] if rows and len(rows) >= limit else None
            if cursor is None:
                for chat_id, ops in ops_by_chat.items():
                    if is_ghost(ops) and items.visible_chat(conn, chat_id) is None:
                        ghost = self._ghost_view(conn, chat_id)
                        if ghost is not None:
                            views.append(ghost)
        return views, cursor

    def current_chat_id(self, chat_id: str) -> str:
        """The id the chat has now: the server's, once a chat created here under
        ``chat_id`` was created through the deployment's API (which makes its own ids)."""
        with self._mirror.read() as conn:
            return server_ids.current_chat_id(conn, chat_id)

    def get_chat(self, chat_id: str) -> ChatView | None:
        with self._mirror.read() as conn:
            ops = outbox.light_ops(conn, chat_id)
            row = items.visible_chat(conn, chat_id)
            if row is not None:
                chat = decode(row.item)
                return chat_view(chat, row.last_message_at, ops) if isinstance(chat, Chat) else None
            return self._ghost_view(conn, chat_id) if is_ghost(ops) else None

    def _ghost_view(self, conn: Any, chat_id: str) -> ChatView | None:
        """A chat deleted elsewhere that still holds messages written here and not sent:
        shown (never silently dropped), never written back to the server."""
        ops = outbox.ops_of_chat(conn, chat_id)
        snapshot = next((op.payload.get("chat") for op in ops if op.kind == outbox.PUT_MESSAGE), None)
        if not snapshot:
            return None
        chat = Chat(chat_id, self.user_id, str(snapshot["title"]), int(snapshot["createdAt"]))
        view = chat_view(chat, items.last_message_at(conn, chat_id), ops)
        return ChatView(
            view.chat, view.last_activity, True, view.unsent, view.parked_error or GONE_CHAT_REASON
        )

    def list_messages(
        self,
        chat_id: str,
        limit: int | None = None,
        before: int | None = None,
        *,
        after: int | None = None,
        with_sources: bool = False,
    ) -> list[MessageView]:
        """Messages oldest first; with ``limit``, the newest ``limit`` older than ``before``
        (or, with ``after``, the oldest ``limit`` newer than it); ``with_sources``: answers
        carry their sources (so a view can say how many)."""
        with self._mirror.read() as conn:
            page = items.message_page(conn, chat_id, limit, before, after)
            puts = {
                op.message_id: op for op in outbox.light_ops(conn, chat_id) if op.kind == outbox.PUT_MESSAGE
            }
        views = []
        for item in page:
            message = decode(item)
            if not isinstance(message, Message):
                continue
            op = puts.get(message.message_id)
            views.append(
                MessageView(
                    message,
                    pending=op is not None,
                    unsent_reason=op.error if op is not None and op.parked else None,
                    stopped=message.extra.get("stopped") == {"BOOL": True},
                )
            )
        if with_sources:
            views = [self._with_sources(view) for view in views]
        return views

    def message_view(self, chat_id: str, message_id: str) -> MessageView | None:
        """One message of a chat as the user sees it, with its sources; None when gone."""
        for views in (self.list_messages(chat_id, limit=20), self.list_messages(chat_id)):
            for view in reversed(views):
                if view.message.message_id == message_id:
                    return self._with_sources(view)
        return None

    def message_time(self, chat_id: str, message_id: str) -> int | None:
        """When a visible message of ``chat_id`` was written (its ``createdAt``); None when gone."""
        with self._mirror.read() as conn:
            found = items.visible_message(conn, message_id)
        if found is None or found.get("chatId", {}).get("S", chat_id) != chat_id:
            return None
        message = decode(found)
        return message.created_at if isinstance(message, Message) else None

    def _with_sources(self, view: MessageView) -> MessageView:
        message = view.message
        if message.type != "ai" or message.sources:
            return view
        sources = self.list_sources(message.message_id)
        if not sources:
            return view
        return view._replace(message=message.with_sources(tuple(sources)))

    def count_messages(self, chat_id: str) -> int:
        with self._mirror.read() as conn:
            return items.count_messages(conn, chat_id)

    def list_sources(self, message_id: str) -> list[Source]:
        with self._mirror.read() as conn:
            if items.visible_message(conn, message_id) is None:
                return []
            found = items.source_items(conn, message_id)
        sources = [s for s in map(decode, found) if isinstance(s, Source)]
        return sorted(sources, key=source_order)

    def remote_snapshot(self) -> list[TypedItem]:
        """Every item as the server last confirmed it (typed form): for checks and export."""
        with self._mirror.read() as conn:
            return items.remote_items(conn)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        with self._mirror.read() as conn:
            return search.search(conn, query, limit)

    def find_in_chat(self, chat_id: str, term: str) -> list[chat_find.FindHit]:
        """The messages of ``chat_id`` holding ``term``, oldest first, each with how many
        times it does (see :mod:`..mirror.chat_find` for what counts as an occurrence).

        The mirror is locked only while the texts are read; the counting follows.
        """
        from ..mirror import chat_find  # with unicodedata: only when the window finds

        if not chat_find.fold(term):
            return []
        with self._mirror.read() as conn:
            texts = chat_find.message_texts(conn, chat_id)
        return chat_find.find(texts, term)

    # -- local writes ---------------------------------------------------------------------------

    def create_chat(self, title: str = DEFAULT_CHAT_TITLE) -> Chat:
        validate_title(title)
        now = self._clock()
        chat = Chat(new_id(), self.user_id, title, now)
        item = chat.to_item()
        check_item_size(item, "The chat")
        with self._mirror.write() as conn:
            op_id = outbox.enqueue(conn, outbox.CREATE_CHAT, chat.chat_id, {"item": encode(item)}, now)
            self._refresh(conn, op_id)
            sync_state.mark_cached(conn, chat.chat_id, 0)
            sync_state.mark_opened(conn, chat.chat_id, now)
        return chat

    def rename_chat(self, chat_id: str, title: str) -> None:
        validate_title(title)
        now = self._clock()
        with self._mirror.write() as conn:
            if items.visible_chat(conn, chat_id) is None:
                raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).")
            payload = {"title": title, "updatedAt": now}
            ops = outbox.light_ops(conn, chat_id)
            last = ops[-1] if ops else None
            if (
                last is not None
                and last.kind == outbox.RENAME_CHAT
                and last.cancellable
                and last.attempts == 0
            ):
                outbox.replace_payload(conn, last.op_id, payload)  # nothing sent yet: one rename
                self._refresh(conn, last.op_id)
            else:
                self._refresh(conn, outbox.enqueue(conn, outbox.RENAME_CHAT, chat_id, payload, now))

    def pin_chat(self, chat_id: str, pinned: bool) -> None:
        """Pin (or unpin) a chat: shown at once, sent to DynamoDB as an update of the
        chat's ``pinnedAt`` only (see :mod:`..pins`). Pinning a pinned chat changes nothing."""
        if not isinstance(pinned, bool):
            raise InvalidInput("Say whether the chat is to be pinned (true) or unpinned (false).")
        now = self._clock()
        with self._mirror.write() as conn:
            row = items.visible_chat(conn, chat_id)
            chat = decode(row.item) if row is not None else None
            if not isinstance(chat, Chat):
                raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).")
            if (chat.pinned_at is not None) == pinned:
                return
            payload = PinChange(pinned, now).payload()
            ops = outbox.light_ops(conn, chat_id)
            last = ops[-1] if ops else None
            if last is not None and last.kind == outbox.PIN_CHAT and last.cancellable and last.attempts == 0:
                outbox.replace_payload(conn, last.op_id, payload)  # nothing sent yet: one change
                self._refresh(conn, last.op_id)
            else:
                self._refresh(conn, outbox.enqueue(conn, outbox.PIN_CHAT, chat_id, payload, now))

    def delete_chat(self, chat_id: str, not_before_ms: int | None = None) -> int:
        """Hide the chat now, delete it on the server later; returns the op id (Undo: cancel)."""
        now = self._clock()
        with self._mirror.write() as conn:
            shown = items.visible_chat(conn, chat_id) is not None
            if not shown and not is_ghost(outbox.light_ops(conn, chat_id)):
                raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).")
            op_id = outbox.enqueue(conn, outbox.DELETE_CHAT, chat_id, {}, now, not_before=not_before_ms or 0)
            # The chat and its messages are hidden; their full-text entries, and those of
            # their sources, stay until the delete is sent (Undo adds none back): the
            # search leaves them out before it ranks (see overlay.refresh_chat).
            overlay.refresh_chat(conn, chat_id)
        return op_id

    def add_message(
        self,
        chat_id: str,
        type: str,
        content: str,
        sources: Sequence[Mapping[str, Any]] = (),
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> Message:
        """Append a message (with its sources); ``extra``: more attributes, plain values."""
        validate_message_type(type)
        if not isinstance(content, str):
            raise InvalidInput("A message must be text.")
        extra_typed: dict[str, Any] = {}
        for name, value in (extra or {}).items():
            if name in _RESERVED_MESSAGE_ATTRS:
                raise InvalidInput(f"{name!r} cannot be set as an extra message attribute.")
            extra_typed[name] = to_typed(value)
        now = self._clock()
        with self._mirror.write() as conn:
            row = items.visible_chat(conn, chat_id)
            chat = decode(row.item) if row is not None else None
            if not isinstance(chat, Chat):
                raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).")
            created = max(now, (items.last_message_at(conn, chat_id) or 0) + 1)
            message_id = new_id()
            drafts = make_sources(self.user_id, chat_id, message_id, list(sources), created)
            message = Message(message_id, chat_id, self.user_id, type, content, created, extra_typed)
            message = message.with_sources(drafts)
            item = message.to_item()
            check_item_size(item, "The message")
            source_items = [s.to_item() for s in message.sources]
            for index, source_item in enumerate(source_items):
                check_item_size(source_item, f"Source {index}")
            payload = {
                "item": encode(item),
                "sources": [encode(s) for s in source_items],
                "chat": {"title": chat.title, "createdAt": chat.created_at},
            }
            op_id = outbox.enqueue(conn, outbox.PUT_MESSAGE, chat_id, payload, now, message_id=message_id)
            self._refresh(conn, op_id)
        return message

    def store_remote_message(self, message: Message) -> None:
        """A message the server already wrote (the Galileo endpoint does): mirror it, queue nothing."""
        self.store_remote_items([message.to_item(), *(s.to_item() for s in message.sources)])

    def store_remote_items(self, remote_items: Sequence[TypedItem]) -> None:
        """Items known to be on the server exactly like this (typed form)."""
        with self._mirror.write() as conn:
            seq = self._mirror.next_seq(conn)
            op_chats = outbox.chats_with_ops(conn)
            for item in remote_items:
                if item.get("PK", {}).get("S") != self.user_id:
                    raise InvalidInput("An item outside this account's partition cannot be stored.")
                items.put_remote(conn, item, seq, op_chats)

    def delete_message(self, chat_id: str, message_id: str, not_before_ms: int | None = None) -> int:
        """Hide the message (and its sources) now, delete it on the server later; returns the
        op id (Undo: :meth:`cancel`). ``not_before_ms``: not sent before then."""
        now = self._clock()
        with self._mirror.write() as conn:
            found = items.visible_message(conn, message_id)
            if found is None or found.get("chatId", {}).get("S", chat_id) != chat_id:
                raise NotFound(f"Message {message_id} does not exist in chat {chat_id}.")
            op_id = outbox.enqueue(
                conn,
                outbox.DELETE_MESSAGE,
                chat_id,
                {},
                now,
                message_id=message_id,
                not_before=not_before_ms or 0,
            )
            self._refresh(conn, op_id)
        return op_id

    def cancel(self, op_id: int) -> bool:
        """Take back an operation nothing of which has reached DynamoDB (Undo)."""
        with self._mirror.write() as conn:
            op = outbox.get(conn, op_id)
            if op is None or not op.cancellable:
                return False
            self._remove(conn, [op, *outbox.dependents(conn, op, cancelling=True)])
        return True

    def retry(self, op_id: int) -> None:
        """Send a parked operation again (or a backed-off one now)."""
        with self._mirror.write() as conn:
            op = outbox.get(conn, op_id)
            if op is None:
                raise NotFound(f"There is no queued operation {op_id}.")
            if op.parked:
                outbox.unpark(conn, op_id)
                self._refresh(conn, op_id)
            else:
                conn.execute("UPDATE outbox SET next_attempt = 0 WHERE op_id = ?", (op_id,))

    def discard(self, op_id: int) -> None:
        """Give up an operation (and what cannot happen without it); the view follows the server."""
        with self._mirror.write() as conn:
            op = outbox.get(conn, op_id)
            if op is None:
                raise NotFound(f"There is no queued operation {op_id}.")
            if op.sending:
                raise InvalidInput("This operation is being sent right now; try again in a moment.")
            self._remove(conn, [op, *outbox.dependents(conn, op, cancelling=False)])

    def _refresh(self, conn: Any, op_id: int) -> None:
        op = outbox.get(conn, op_id)
        if op is not None:
            overlay.refresh_for_op(conn, op)

    def _remove(self, conn: Any, ops: list[outbox.Op]) -> None:
        for op in ops:
            outbox.remove(conn, op.op_id)
        for op in ops:
            overlay.refresh_for_op(conn, op)

    def status(self) -> LibraryStatus:
        from .queue_status import LibraryStatus, OpInfo

        with self._mirror.read() as conn:
            pending, parked = outbox.counts(conn)
            operations = []
            blockers: list[outbox.Op] = []
            for op in outbox.light_ops(conn):
                operations.append(OpInfo.of(op, held=any(b.blocks(op) for b in blockers)))
                if op.parked:
                    blockers.append(op)
            return LibraryStatus(
                pending=pending,
                parked=parked,
                operations=operations,
                last_sync=sync_state.get_time(conn, sync_state.LAST_SYNC),
                last_reconcile=sync_state.get_time(conn, sync_state.LAST_RECONCILE),
            )

    # -- network --------------------------------------------------------------------------------

    def _connect(self) -> tuple[ChatGateway, WriteObserver]:
        from .outcome import WriteObserver

        if self._factory is None:
            raise EndpointUnreachable("Working offline: no DynamoDB connection is set up for this library.")
        self.cancel_token.check()
        if self._gateway is None or self._observer is None:
            self._gateway = self._factory()
            self._gateway.interrupt_with(self.cancel_token)
            self._observer = WriteObserver(self._gateway.client)
        return self._gateway, self._observer

    def interrupt(self, error: Cancelled | None = None) -> None:
        """Stop the network work running or to come, from any thread, within moments
        (Quit, an account switch, a deadline). Queued changes stay queued."""
        self.cancel_token.cancel(error)

    def _puller(self, gateway: ChatGateway, observer: WriteObserver) -> Puller:
        from .puller import Puller

        return Puller(self._mirror, gateway, observer, clock=self._clock)

    def push(self, progress: Progress | None = None, *, retry_now: bool = False) -> PushResult:
        """Send what is queued and due, in order. Network errors end the pass with
        ``result.error`` set and a backoff stored; ``retry_now`` ignores earlier backoffs."""
        with self._net_lock:
            gateway, observer = self._connect()
            from .pusher import Pusher

            pusher = Pusher(self._mirror, gateway, observer, clock=self._clock)
            return pusher.run(retry_now=retry_now, progress=progress)

    def chat_on_server(self, chat_id: str) -> str:
        """The chat's id on the server, its create sent first while it is still queued.

        The deployment's API makes a chat's id when the chat is created, and its ask
        route stores question and answer under whatever id it is given: a chat made
        here must exist there, under the server's id, before a question is asked in
        it. Another pass sending this account's changes is waited for. Over DynamoDB,
        and offline, a chat keeps its id: nothing is sent.
        """
        if self._factory is None:
            return chat_id
        with self._net_lock:
            gateway, _ = self._connect()
        if not getattr(gateway, "makes_chat_ids", False):
            return chat_id
        for _ in range(CREATE_WAIT_TRIES):
            with self._mirror.read() as conn:
                chat_id = server_ids.current_chat_id(conn, chat_id)
                creates = [op for op in outbox.ops_of_chat(conn, chat_id) if op.kind == outbox.CREATE_CHAT]
            if not creates:
                return chat_id
            if any(op.parked for op in creates):
                raise InvalidInput(
                    "This chat could not be created on the server "
                    f"({creates[0].error or 'refused'}), so nothing can be asked in it there."
                )
            result = self.push(retry_now=True)
            if result.failure is not None:
                raise result.failure
            if result.busy and self.cancel_token.wait(CREATE_WAIT_S):
                self.cancel_token.check()
        raise SyncBusy("The new chat is still being created on the server; ask again in a moment.")

    def pull(self, reconcile: bool = False, progress: Progress | None = None) -> PullResult:
        """Bring in the server's changes; a mirror never reconciled is reconciled."""
        with self._net_lock:
            gateway, observer = self._connect()
            puller = self._puller(gateway, observer)
            with self._mirror.read() as conn:
                never = sync_state.get_time(conn, sync_state.LAST_RECONCILE) is None
            if reconcile or never:
                return puller.reconcile(progress)
            return puller.incremental(progress)

    def sync(self, progress: Progress | None = None) -> SyncResult:
        """Push (now, whatever the backoff), then pull; a daily reconcile is included.

        Raises EndpointUnreachable (or Throttled) when the server cannot be reached.
        """
        pushed = self.push(progress, retry_now=True)
        if pushed.failure is not None:
            raise pushed.failure
        if pushed.busy:
            raise SyncBusy(
                "Another Galileio Desktop window or command is sending this account's changes "
                "right now; try again in a moment."
            )
        with self._mirror.read() as conn:
            last = sync_state.get_time(conn, sync_state.LAST_RECONCILE)
        due = last is None or self._clock() - last >= RECONCILE_EVERY_MS
        pulled = self.pull(reconcile=due, progress=progress)
        with self._mirror.write() as conn:
            sync_state.set_time(conn, sync_state.LAST_SYNC, self._clock())
            pending, parked = outbox.counts(conn)
        from .results import SyncResult

        return SyncResult(pushed, pulled, pending, parked)

    def open_chat(self, chat_id: str, on_first_page: Callable[[], None] | None = None) -> None:
        """The user opened a chat: remember it (it is kept fresh by every sync for 7 days)
        and fetch its messages if the mirror does not have them all yet.

        Messages only, newest first: the window's page of the newest messages, then 1 MB
        pages (a chat of thousands of messages is a few requests); ``on_first_page`` is
        called once the newest page is stored, when older pages follow, so it can be shown
        meanwhile. Call :meth:`fetch_sources` next.
        """
        with self._mirror.write() as conn:
            sync_state.mark_opened(conn, chat_id, self._clock())
            state = sync_state.chat_sync(conn, chat_id)
            on_server = items.has_remote(conn, overlay.chat_sk(chat_id))
        if (state is not None and state.cached) or not on_server:
            return
        started = self._clock()
        with self._net_lock:
            gateway, observer = self._connect()
            self._puller(gateway, observer).fetch_chat(chat_id, on_first_page)
        self._read_whole[chat_id] = started

    def revalidate_chat(self, chat_id: str, fresh_for_ms: int = 0) -> PullResult:
        """Read an opened chat's messages again, once it is shown from the mirror: what
        another device or the web app added or deleted shows or goes (see
        :meth:`Puller.revalidate_chat`). One request per 1 MB page over DynamoDB, one per
        page of messages over the deployment's API.

        Nothing is sent for a chat not on the server (yet), by a library without a
        connection, or when the chat was read whole less than ``fresh_for_ms`` ago.
        """
        with self._mirror.read() as conn:
            on_server = items.has_remote(conn, overlay.chat_sk(chat_id))
        last = self._read_whole.get(chat_id)
        started = self._clock()
        if self._factory is None or not on_server or (last is not None and started - last < fresh_for_ms):
            from .results import PullResult

            return PullResult()
        with self._net_lock:
            gateway, observer = self._connect()
            result = self._puller(gateway, observer).revalidate_chat(chat_id)
        self._read_whole[chat_id] = started
        return result

    def fetch_sources(self, chat_id: str) -> int:
        """Bring in the sources of the chat's answers the mirror does not hold yet (after
        :meth:`open_chat`); returns how many items changed. Without a request (and so
        offline too) when it has them all, as after a reconcile. Concurrent queries on
        the gateway's bounded pool, one per answer; saved as they arrive, so an
        interrupted fetch is taken up where it stopped."""
        with self._mirror.read() as conn:
            if not known_sources.any_to_fetch(conn, chat_id):
                return 0
        with self._net_lock:
            gateway, observer = self._connect()
            return self._puller(gateway, observer).fetch_sources(chat_id)

    def close(self) -> None:
        self.cancel_token.close()
        with self._net_lock:
            if self._observer is not None:
                self._observer.close()
                self._observer = None
            if self._gateway is not None:
                self._gateway.close()
                self._gateway = None
        self._mirror.close()
