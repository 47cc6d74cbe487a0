"""Every access pattern of the Galileo chat table, on one boto3 client.

This is the only module that talks to DynamoDB. It keeps the web app's item shapes and
avoids its known failures: every query reads all pages, source lookups run concurrently
on a bounded pool, batch writes are chunked and their unprocessed items retried, and an
answer becomes visible only after all its sources are written: in one transaction where
the server has transactions, else sources first and the message last.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

from ..aws_errors import dynamo_errors
from ..errors import NotDynamoDB, NotFound, RemoteRejected
from ..pins import PinChange
from ..schema import (
    Chat,
    Message,
    Source,
    TypedItem,
    chat_key,
    chats_gsi1pk,
    check_item_size,
    decode,
    key_of,
    message_key,
    messages_gsi1pk,
    source_order,
    source_sk_prefix,
    validate_title,
)
from . import transact_writer as tx
from .batch_writer import BATCH_LIMIT, delete_request, put_request, write_all, write_batch
from .cancellation import CancelToken, make_interruptible
from .chat_delete import ChatDelete, DeleteRequests, DeleteResult, KnownSources
from .response_check import install_response_check

log = logging.getLogger(__name__)
#: Requests a gateway runs at once on its pool (source lookups, batch writes of a big delete).
DEFAULT_NETWORK_THREADS = 16
_T = TypeVar("_T")
_R = TypeVar("_R")

Progress = Callable[[int, int], None]


class Page(list):  # type: ignore[type-arg]
    """One page of a Query's items; ``more``: another page follows."""

    def __init__(self, items: Iterable[TypedItem] = (), more: bool = False) -> None:
        super().__init__(items)
        self.more = more


_pool_thread = threading.local()


def _mark_pool_thread() -> None:
    _pool_thread.marked = True


def _start_threads(pool: ThreadPoolExecutor, count: int, patience: float = 0.05) -> None:
    """Have ``count`` of the pool's threads running before work is submitted to it.

    An executor starts a thread at each submit, and ``Thread.start`` waits for the new
    thread to run: behind requests that hold the interpreter lock, submitting the 16
    requests of a delete's first round took tens of milliseconds. Tasks that hold their
    thread until all have started need ``count`` threads at once; started while nothing
    else runs, that costs about a millisecond. Threads busy with other work are not
    waited for beyond ``patience``.
    """
    running = threading.Semaphore(0)
    go = threading.Event()

    def arrive() -> None:
        running.release()
        go.wait(patience)

    for _ in range(count):
        pool.submit(arrive)
    for _ in range(count):
        if not running.acquire(timeout=patience):
            break
    go.set()


class ChatGone(NotFound):
    """The chat a message was written to is not on the server (deleted elsewhere).

    ``message_written``: the message itself is there all the same (an earlier attempt
    wrote it before the chat was deleted); the caller removes it so nothing is orphaned.
    """

    def __init__(self, chat_id: str, *, message_written: bool = False) -> None:
        super().__init__(f"Chat {chat_id} does not exist (it may have been deleted).")
        self.chat_id = chat_id
        self.message_written = message_written


class ChatGateway:
    """The eight access patterns of the chat table, within one user's partition.

    The client is bound to the user's partition by the partition guard: any request
    outside it is refused before it is sent, wherever it was built.

    The gateway owns a bounded thread pool for the work the web app does one request
    after another (source lookups and batch deletes of a big chat). The boto3 client is
    thread-safe for such use; it is still created and owned by one worker thread.
    """

    def __init__(
        self,
        client: Any,
        table: str,
        user_id: str,
        index: str = "GSI1",
        *,
        max_workers: int = DEFAULT_NETWORK_THREADS,
    ) -> None:
        from ..auth.partition_guard import install_partition_guard

        install_partition_guard(client, user_id, index=index)
        install_response_check(client)
        self.client = client
        self.table = table
        self.user_id = user_id
        self.index = index
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._threads_started = 0
        #: None until the server was asked; False once it answered UnknownOperationException.
        self.transactions: bool | None = None
        #: Stops this gateway's requests (see :meth:`interrupt_with`).
        self.cancel_token = CancelToken()
        make_interruptible(client, self.cancel_token)

    def interrupt_with(self, token: CancelToken) -> None:
        """Let ``token`` (the owner's, shared by everything it runs) stop this gateway too."""
        token.on_cancel(lambda: self.cancel_token.cancel(token.error()))

    def _backoff_sleep(self, seconds: float) -> None:
        if self.cancel_token.wait(seconds):
            raise self.cancel_token.error()

    # -- plumbing ---------------------------------------------------------------------

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.max_workers, thread_name_prefix="ddb", initializer=_mark_pool_thread
                )
            return self._pool

    def _pool_for(self, tasks: int) -> ThreadPoolExecutor:
        """The pool, with the threads ``tasks`` concurrent tasks will use already running."""
        pool = self.pool
        wanted = min(tasks, self.max_workers)
        if wanted <= 1 or getattr(_pool_thread, "marked", False):
            return pool
        with self._pool_lock:
            missing = wanted > self._threads_started
            self._threads_started = max(wanted, self._threads_started)
        if missing:
            _start_threads(pool, wanted)
        return pool

    def each(self, fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """``fn`` of every item, concurrently on the pool, in order. Every call has
        finished when this returns or raises (the first error, after all are done), so
        no request of a failed step is still running when the caller retries it."""
        if len(items) <= 1:
            return [fn(i) for i in items]
        pool = self._pool_for(len(items))
        futures = [pool.submit(fn, i) for i in items]
        wait(futures)
        return [f.result() for f in futures]

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
                self._threads_started = 0

    def _write_all(
        self, requests: list[dict[str, Any]], on_batch: Callable[[int], None] | None = None
    ) -> None:
        """Every request in batches of 25, the batches side by side on the pool."""
        pool = self._pool_for(-(-len(requests) // BATCH_LIMIT))
        write_all(self.client, self.table, requests, pool, on_batch=on_batch, sleep=self._backoff_sleep)

    def _query_pages(self, what: str, *, first_limit: int | None = None, **params: Any) -> Iterator[Page]:
        """Every page of a Query, following ``LastEvaluatedKey``; ``first_limit``: the first
        page holds at most this many items, the next ones up to 1 MB each."""
        params = {"TableName": self.table, **params}
        limit = {"Limit": first_limit} if first_limit else {}
        while True:
            self.cancel_token.check()
            with dynamo_errors(what):
                response = self.client.query(**params, **limit)
            limit = {}
            if not isinstance(response.get("Items"), list):
                raise NotDynamoDB(f"{what}: the answer has no list of items; nothing was concluded from it.")
            last = response.get("LastEvaluatedKey")
            yield Page(response["Items"], more=bool(last))
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def _query(self, what: str, **params: Any) -> list[TypedItem]:
        return [item for page in self._query_pages(what, **params) for item in page]

    def _gsi_pages(
        self,
        what: str,
        pk: str,
        since_ms: int | None,
        forward: bool,
        first_limit: int | None = None,
        attributes: Sequence[str] = (),
    ) -> Iterator[Page]:
        """A GSI1 query, page by page, keeping only the user's own items: anyone can write
        a GSI1PK that names another user on an item of their own, and IAM cannot stop that.

        ``attributes``: only these of each item (``PK`` always, for that check)."""
        condition = "GSI1PK = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if since_ms is not None:
            condition += " AND GSI1SK > :since"
            values[":since"] = {"S": str(since_ms)}
        projection = (
            {"ProjectionExpression": ", ".join(dict.fromkeys(["PK", *attributes]))} if attributes else {}
        )
        pages = self._query_pages(
            what,
            IndexName=self.index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=forward,
            first_limit=first_limit,
            **projection,
        )
        for found in pages:
            own = Page((item for item in found if item.get("PK", {}).get("S") == self.user_id), found.more)
            if len(own) != len(found):
                log.warning("ignored %d index entries planted by another user", len(found) - len(own))
            yield own

    def _gsi_query(self, what: str, pk: str, since_ms: int | None, forward: bool) -> list[TypedItem]:
        return [item for page in self._gsi_pages(what, pk, since_ms, forward) for item in page]

    # -- reads ------------------------------------------------------------------------

    def list_chat_items(self, since_ms: int | None = None) -> list[TypedItem]:
        """The user's chat items, newest first (GSI1)."""
        return self._gsi_query("Listing chats", chats_gsi1pk(self.user_id), since_ms, forward=False)

    def list_chats(self) -> list[Chat]:
        return [c for c in map(decode, self.list_chat_items()) if isinstance(c, Chat)]

    def list_message_items(self, chat_id: str, since_ms: int | None = None) -> list[TypedItem]:
        """A chat's message items, oldest first (GSI1, all pages)."""
        return [item for page in self.iter_message_pages(chat_id, since_ms) for item in page]

    def iter_message_pages(
        self,
        chat_id: str,
        since_ms: int | None = None,
        *,
        newest_first: bool = False,
        first_page: int | None = None,
    ) -> Iterator[Page]:
        """A chat's message items, oldest first (or newest first), a page of up to 1 MB at
        a time; ``first_page``: the first page holds at most this many messages (what a
        window shows first arrives in one round trip of a few kilobytes, not behind a
        1 MB page to read and store)."""
        pk = messages_gsi1pk(self.user_id, chat_id)
        return self._gsi_pages("Opening chat", pk, since_ms, forward=not newest_first, first_limit=first_page)

    def list_message_keys(self, chat_id: str) -> list[TypedItem]:
        """A chat's messages as their keys only (GSI1, all pages): what a delete needs,
        without reading every message's text into this process."""
        pk = messages_gsi1pk(self.user_id, chat_id)
        pages = self._gsi_pages("Listing messages", pk, None, forward=True, attributes=("PK", "SK"))
        return [item for page in pages for item in page]

    def list_messages(self, chat_id: str) -> list[Message]:
        return [m for m in map(decode, self.list_message_items(chat_id)) if isinstance(m, Message)]

    def list_source_items(self, message_id: str) -> list[TypedItem]:
        return self._query(
            "Loading sources",
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": self.user_id},
                ":prefix": {"S": source_sk_prefix(message_id)},
            },
            ConsistentRead=True,
        )

    def list_sources(self, message_id: str) -> list[Source]:
        sources = [s for s in map(decode, self.list_source_items(message_id)) if isinstance(s, Source)]
        return sorted(sources, key=source_order)

    def get_item(self, key: TypedItem, consistent: bool = True) -> TypedItem | None:
        with dynamo_errors("Reading an item"):
            response = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=consistent)
        item: TypedItem | None = response.get("Item")
        return item

    def get_chat(self, chat_id: str) -> Chat | None:
        item = self.get_item(chat_key(self.user_id, chat_id))
        chat = decode(item) if item else None
        return chat if isinstance(chat, Chat) else None

    def iter_partition(self) -> Iterator[list[TypedItem]]:
        """The user's whole partition, one list a page (consistent: for reconcile)."""
        return self._query_pages(
            "Reconciling",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": self.user_id}},
            ConsistentRead=True,
        )

    # -- writes -----------------------------------------------------------------------

    def _put_new(self, item: TypedItem, what: str) -> TypedItem:
        """Conditional put; on replay (item already there) the existing item is returned.

        A retry after a response lost in transit meets its own earlier write; that is
        success, not a conflict, when the stored item carries the same id.
        """
        try:
            with dynamo_errors(what):
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(PK)",
                )
            return item
        except NotFound as exc:  # the condition failed: something is there already
            existing = self.get_item(key_of(item))
            if existing is None:  # deleted meanwhile: try once more
                raise RemoteRejected(f"{what}: the item changed while it was written; try again.") from exc
            return existing

    def create_chat(self, chat: Chat) -> TypedItem:
        validate_title(chat.title)
        item = chat.to_item()
        check_item_size(item, "The chat")
        return self._put_new(item, "Creating chat")

    def rename_chat(self, chat_id: str, title: str, updated_at: int) -> TypedItem:
        """Update the title only; a deleted chat is never recreated by a rename."""
        validate_title(title)
        try:
            with dynamo_errors("Renaming chat"):
                response = self.client.update_item(
                    TableName=self.table,
                    Key=chat_key(self.user_id, chat_id),
                    UpdateExpression="SET #title = :title, updatedAt = :updated",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames={"#title": "title"},
                    ExpressionAttributeValues={
                        ":title": {"S": title},
                        ":updated": {"N": str(updated_at)},
                    },
                    ReturnValues="ALL_NEW",
                )
        except NotFound as exc:
            raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).") from exc
        attributes = response.get("Attributes")
        if not isinstance(attributes, dict) or "PK" not in attributes:
            raise NotDynamoDB("Renaming chat: the answer does not hold the renamed chat.")
        return attributes

    def pin_chat(self, chat_id: str, change: PinChange) -> TypedItem:
        """Set or remove the chat's ``pinnedAt`` only; returns the chat as stored.

        Raises NotFound (a condition failure) when the chat is gone or holds a later pin:
        the caller reads the chat to tell which (see :mod:`..pins`).
        """
        with dynamo_errors("Pinning chat" if change.pinned else "Unpinning chat"):
            response = self.client.update_item(
                TableName=self.table,
                Key=chat_key(self.user_id, chat_id),
                ReturnValues="ALL_NEW",
                **change.update_request(),
            )
        attributes = response.get("Attributes")
        if not isinstance(attributes, dict) or "PK" not in attributes:
            raise NotDynamoDB("Pinning chat: the answer does not hold the chat.")
        return attributes

    def put_message(
        self,
        message: Message,
        *,
        check_size: bool = True,
        chat_must_exist: bool = False,
        chat_seen: bool = False,
        attempt: int = 0,
        source_items: Sequence[TypedItem] | None = None,
    ) -> TypedItem:
        """Write a message and its sources so that no reader sees an answer whose sources
        are missing; returns the message item as stored. Replays are safe.

        ``source_items``: the sources as typed items, when the caller has them so (the
        outbox does); else built from ``message.sources``.

        ``chat_must_exist``: raise :class:`ChatGone` when the chat is not on the server
        (delete beats new messages). The message, its sources and that condition then go
        in one TransactWriteItems when the server has transactions and the write fits in
        one (100 actions, 4 MB): one request instead of a read and two or three writes,
        all or nothing. Otherwise (and for writes without the condition: a transaction
        costs twice the write capacity of plain writes) the sources go in batches, then
        the message; the chat is checked by a consistent read first, skipped when
        ``chat_seen`` (the caller read it moments ago).

        The transaction's idempotency token is derived from the message id and
        ``attempt`` (the caller's count of its tries): botocore's own retries of one call
        repeat the token, so DynamoDB applies the write at most once; a later try gets a
        new one, so a write the user sends again (after it was deleted elsewhere) is
        written again, not answered from DynamoDB's 10-minute memory of the first.
        """
        item = message.to_item()
        source_items = (
            list(source_items) if source_items is not None else [s.to_item() for s in message.sources]
        )
        if check_size:
            check_item_size(item, "The message")
            for index, source_item in enumerate(source_items):
                check_item_size(source_item, f"Source {index}")
        if chat_must_exist and self.transactions is not False and tx.fits([item, *source_items], 1):
            try:
                return self._put_message_transaction(message, item, source_items, attempt)
            except tx.TransactionsUnsupported:
                log.info("the server has no TransactWriteItems: writing items one batch at a time")
                self.transactions = False
        if (
            chat_must_exist
            and not chat_seen
            and self.get_item(chat_key(self.user_id, message.chat_id)) is None
        ):
            raise ChatGone(message.chat_id)
        if source_items:
            self._write_all([put_request(i) for i in source_items])
        return self._put_new(item, "Saving message")

    def _put_message_transaction(
        self, message: Message, item: TypedItem, source_items: list[TypedItem], attempt: int
    ) -> TypedItem:
        key = chat_key(self.user_id, message.chat_id)
        actions = [
            tx.condition_check(self.table, key, "attribute_exists(PK)"),
            tx.put(self.table, item, "attribute_not_exists(PK)"),
        ]
        actions += [tx.put(self.table, s) for s in source_items]
        token = tx.request_token("put-message", f"{message.message_id}#{attempt}")
        cancelled = tx.transact_write(self.client, actions, token, "Saving message")
        self.transactions = True
        if cancelled is None:
            return item
        message_there = cancelled.condition_failed(1)
        if cancelled.condition_failed(0):
            raise ChatGone(message.chat_id, message_written=message_there)
        if not message_there:  # pragma: no cover - no other condition in this transaction
            raise RemoteRejected("Saving message: DynamoDB cancelled the write without a reason.")
        # A replay: an earlier attempt wrote the message (and, in the same transaction or
        # before it, its sources). The stored item is the answer.
        existing = self.get_item(key_of(item))
        if existing is None:
            raise RemoteRejected("Saving message: the item changed while it was written; try again.")
        return existing

    def _source_keys_of(self, message_ids: list[str], progress: Callable[[], None] | None) -> list[TypedItem]:
        def keys(message_id: str) -> list[TypedItem]:
            found = [key_of(i) for i in self.list_source_items(message_id)]
            if progress:
                progress()
            return found

        return [k for found in self.each(keys, message_ids) for k in found]

    def delete_message(self, message_id: str, known_sources: Sequence[TypedItem] | None = None) -> int:
        """Delete a message and its sources (sources first); idempotent.

        ``known_sources``: the keys of every source of the message, when the caller knows
        them for sure (see :meth:`delete_chat`); None queries them.
        """
        if known_sources is None:
            source_keys = self._source_keys_of([message_id], None)
        else:
            source_keys = [key_of(k) for k in known_sources]
        self._write_all([delete_request(k) for k in source_keys])
        with dynamo_errors("Deleting message"):
            self.client.delete_item(TableName=self.table, Key=message_key(self.user_id, message_id))
        return len(source_keys)

    def delete_chat(
        self,
        chat_id: str,
        progress: Progress | None = None,
        known_sources: KnownSources | None = None,
        *,
        once_sent: Callable[[], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> DeleteResult:
        """Delete a chat, every message and every source: each message once its sources
        are gone, the chat item last (see :mod:`.chat_delete` for the order and why).

        The chat stays listed until everything under it is gone, so an interrupted
        delete is visible and simply run again (every step is idempotent).

        Which sources are deleted: a message found in ``known_sources`` loses exactly the
        source keys given there, without a query, and before the chat's messages are
        listed; the caller vouches that these are all of them (its mirror read them in a
        complete reconcile, queried them, or wrote them itself). Every other message
        listed in GSI1 has its sources queried, questions too: the web app never writes
        sources for a question, but another writer of the table could. Messages of
        ``known_sources`` that GSI1 does not list (yet: the index lags) are deleted all
        the same.

        ``once_sent``: called on this thread as soon as the first requests are on their
        way (to start the caller's own work beside them: it must return at once);
        ``meanwhile``: the caller's own work, run on this thread once everything under the
        chat is gone, while the chat item's delete is on its way.
        """
        requests = DeleteRequests(
            list_messages=lambda: self.list_message_keys(chat_id),
            list_sources=self.list_source_items,
            write_batch=lambda batch: write_batch(self.client, self.table, batch, sleep=self._backoff_sleep),
            delete_chat_item=lambda: self._delete_item(chat_key(self.user_id, chat_id), "Deleting chat"),
            message_key=lambda message_id: message_key(self.user_id, message_id),
        )
        token = self.cancel_token
        run = ChatDelete(
            chat_id,
            requests,
            known_sources,
            width=self.max_workers,
            progress=progress,
            cancelled=lambda: token.error() if token.cancelled else None,
        )
        return run.run(self._pool_for(self.max_workers), once_sent=once_sent, meanwhile=meanwhile)

    def _delete_item(self, key: TypedItem, what: str) -> None:
        with dynamo_errors(what):
            self.client.delete_item(TableName=self.table, Key=key)
