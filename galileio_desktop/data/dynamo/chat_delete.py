"""A chat's delete as one pipeline on the gateway's pool: each message goes as soon as its
own sources are gone, the chat item once everything under it is.

The order is per message, not per phase: a source, then its message (a message is what a
later retry finds, or queries, its sources by), and the chat last (it stays listed until
everything under it is gone, so an interrupted delete is visible and simply run again;
every step is idempotent). Nothing else waits for anything:

- the sources the caller knows for sure (its mirror read them whole) go at once, beside
  the GSI1 listing of the chat's messages, which is needed only for the messages the
  caller does not know;
- a listed message the caller does not know has its sources queried, then deleted;
- a message is deleted in a batch of 25 once every one of its sources was confirmed
  deleted, while other messages' sources are still on their way; the last messages go
  in one smaller batch once no source is left.

At most ``width`` requests are in flight (the pool's threads); when a slot frees, work that
unlocks more work goes first (the listing, source queries), then full batches of
messages, then sources, so messages do not queue behind sources they do not depend on.
A failed request stops new ones; the first error is raised once every request in flight
has finished, so no request of the failed attempt still runs when the caller retries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ..schema import MESSAGE_SK_PREFIX, TypedItem, key_of
from .batch_writer import BATCH_LIMIT, delete_request

#: Source keys of messages, by message id, as the caller's mirror knows them.
KnownSources = Mapping[str, Sequence[TypedItem]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DeleteResult:
    chat_id: str
    deleted_messages: int
    deleted_sources: int

    def as_json(self) -> dict[str, Any]:
        return {
            "chatId": self.chat_id,
            "deletedMessages": self.deleted_messages,
            "deletedSources": self.deleted_sources,
        }


@dataclass(frozen=True)
class DeleteRequests:
    """What a chat delete sends, as callables run on the pool's threads."""

    #: The keys of the chat's messages as GSI1 lists them (all pages).
    list_messages: Callable[[], list[TypedItem]]
    #: The source items of one message (a consistent query).
    list_sources: Callable[[str], list[TypedItem]]
    #: One BatchWriteItem of at most 25 requests, unprocessed items retried.
    write_batch: Callable[[list[dict[str, Any]]], None]
    #: The chat item's own delete.
    delete_chat_item: Callable[[], None]
    #: The message key of a message id.
    message_key: Callable[[str], TypedItem]


def listed_message_id(item: TypedItem) -> str:
    """The id a chat delete takes a listed item for: its sort key's, as the mirror files
    messages; "" for an item that is not a message (the chat's index key is anyone's to
    write). Another writer's ``messageId`` could name a message of another chat, whose
    sources the delete would then take, and a chat item filed under the index would go."""
    sk = item.get("SK")
    text = sk.get("S") if type(sk) is dict else None
    if isinstance(text, str) and text.startswith(MESSAGE_SK_PREFIX):
        return text[len(MESSAGE_SK_PREFIX) :]
    return ""


class ChatDelete:
    """One run of a chat's delete (see the module's docstring for the order)."""

    def __init__(
        self,
        chat_id: str,
        requests: DeleteRequests,
        known_sources: KnownSources | None,
        *,
        width: int,
        progress: Progress | None = None,
        cancelled: Callable[[], BaseException | None] = lambda: None,
    ) -> None:
        self.chat_id = chat_id
        self.requests = requests
        self.width = max(1, width)
        self.progress = progress
        self.cancelled = cancelled
        #: Every message of the chat met so far, by id: its key.
        self.messages: dict[str, TypedItem] = {}
        #: Sources not confirmed deleted yet, by message.
        self._outstanding: dict[str, int] = {}
        #: Messages waiting on each source sort key (a key is sent once).
        self._waiting: dict[str, list[str]] = {}
        self._gone: set[str] = set()
        self._sources: deque[tuple[str, TypedItem]] = deque()
        self._to_query: deque[str] = deque()
        self._ready: list[str] = []
        self._listed = False
        self._listing = False
        self._busy_sources = 0
        self._busy_queries = 0
        self._deleted_messages = 0
        self._done = 0
        for message_id, keys in (known_sources or {}).items():
            self._add_message(message_id, requests.message_key(message_id))
            self._add_sources(message_id, keys)

    # -- what is known --------------------------------------------------------------

    def _add_message(self, message_id: str, key: TypedItem) -> bool:
        if message_id in self.messages:
            return False
        self.messages[message_id] = key
        self._outstanding[message_id] = 0
        return True

    def _add_sources(self, message_id: str, keys: Iterable[TypedItem]) -> None:
        for key in keys:
            sk = str(key["SK"]["S"])
            if sk in self._gone:
                continue
            self._outstanding[message_id] += 1
            waiting = self._waiting.get(sk)
            if waiting is None:
                self._waiting[sk] = [message_id]
                self._sources.append((sk, key_of(key)))
            else:
                waiting.append(message_id)
        if self._outstanding[message_id] == 0:
            self._source_done(message_id)

    def _source_done(self, message_id: str) -> None:
        self._ready.append(message_id)
        self._step()

    def _step(self, count: int = 1) -> None:
        self._done += count
        if self.progress:
            total = 2 * len(self.messages) + 1
            self.progress(min(self._done, total), total)

    # -- answers --------------------------------------------------------------------

    def _on_listed(self, listed: list[TypedItem]) -> None:
        self._listing = False
        self._listed = True
        for item in listed:
            message_id = listed_message_id(item)
            if message_id and self._add_message(message_id, key_of(item)):
                self._to_query.append(message_id)

    def _on_queried(self, message_id: str, found: list[TypedItem]) -> None:
        self._busy_queries -= 1
        self._add_sources(message_id, found)

    def _on_sources_deleted(self, batch: list[tuple[str, TypedItem]]) -> None:
        self._busy_sources -= 1
        for sk, _ in batch:
            self._gone.add(sk)
            for message_id in self._waiting.pop(sk, ()):
                self._outstanding[message_id] -= 1
                if self._outstanding[message_id] == 0:
                    self._source_done(message_id)

    def _on_messages_deleted(self, count: int) -> None:
        self._deleted_messages += count
        self._step(count)

    # -- what to send next -------------------------------------------------------------

    def _sources_settled(self) -> bool:
        """No message can become ready any more: every source is confirmed gone."""
        return (
            self._listed
            and not self._listing
            and not self._to_query
            and not self._busy_queries
            and not self._sources
            and not self._busy_sources
        )

    def _next(self) -> tuple[Callable[[], Any], Callable[[Any], None]] | None:
        """The next request and what to do with its answer; None when nothing may go now."""
        requests = self.requests
        if not self._listed and not self._listing:
            self._listing = True
            return requests.list_messages, self._on_listed
        if self._to_query:
            message_id = self._to_query.popleft()
            self._busy_queries += 1
            return (lambda: requests.list_sources(message_id)), (
                lambda found: self._on_queried(message_id, found)
            )
        if len(self._ready) >= BATCH_LIMIT or (self._ready and self._sources_settled()):
            chosen, self._ready = self._ready[:BATCH_LIMIT], self._ready[BATCH_LIMIT:]
            batch = [delete_request(self.messages[m]) for m in chosen]
            return (lambda: requests.write_batch(batch)), (lambda _: self._on_messages_deleted(len(chosen)))
        if self._sources:
            taken = [self._sources.popleft() for _ in range(min(BATCH_LIMIT, len(self._sources)))]
            self._busy_sources += 1
            return (lambda: requests.write_batch([delete_request(k) for _, k in taken])), (
                lambda _: self._on_sources_deleted(taken)
            )
        return None

    # -- running ----------------------------------------------------------------------

    def run(
        self,
        pool: ThreadPoolExecutor,
        *,
        once_sent: Callable[[], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> DeleteResult:
        """Delete everything. ``once_sent``: called on this thread once the first requests
        are on their way (it must return at once); ``meanwhile``: the caller's own work,
        run on this thread once every message and source is gone, while the chat item's
        delete is on its way."""
        self._contents(pool, once_sent)
        sent = pool.submit(self.requests.delete_chat_item)
        try:
            if meanwhile is not None:
                meanwhile()
        finally:
            wait([sent])
        sent.result()
        if self.progress:
            total = 2 * len(self.messages) + 1
            self.progress(total, total)
        return DeleteResult(self.chat_id, self._deleted_messages, len(self._gone))

    def _contents(self, pool: ThreadPoolExecutor, once_sent: Callable[[], None] | None) -> None:
        flying: dict[Future[Any], Callable[[Any], None]] = {}
        error: BaseException | None = None
        while True:
            while error is None and len(flying) < self.width:
                error = self.cancelled()
                if error is not None:
                    break
                task = self._next()
                if task is None:
                    break
                send, handle = task
                flying[pool.submit(send)] = handle
            if not flying:
                break
            if once_sent is not None:
                started, once_sent = once_sent, None
                try:
                    started()
                except BaseException as exc:  # noqa: BLE001 - raised once nothing is in flight
                    error = error or exc
            done, _ = wait(flying, return_when=FIRST_COMPLETED)
            for future in done:
                handle = flying.pop(future)
                failure = future.exception()
                if failure is not None:
                    error = error or failure
                elif error is None:
                    try:
                        handle(future.result())  # on this thread only: no lock
                    except BaseException as exc:  # noqa: BLE001 - raised once nothing is in flight
                        error = exc
        if error is not None:
            raise error
        if self._ready or not self._sources_settled():  # pragma: no cover - a bug
            raise RuntimeError("chat delete stopped with messages left to delete")
