"""Every access pattern of the Galileo chat table, on one boto3 client.

This is the only module that talks to DynamoDB. It keeps the web app's item shapes and
avoids its known failures: every query reads all pages, source lookups run concurrently
on a bounded pool, batch writes are chunked and their unprocessed items retried, and an
answer becomes visible only after all its sources are written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .batch_writer import delete_request, put_request, write_all
from .dynamo_client import dynamo_errors, error_code
from .errors import NotFound, RemoteRejected
from .schema import (
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

log = logging.getLogger(__name__)

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
        max_workers: int = 16,
    ) -> None:
        from .auth.partition_guard import install_partition_guard

        install_partition_guard(client, user_id, index=index)
        self.client = client
        self.table = table
        self.user_id = user_id
        self.index = index
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="ddb")
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _query_pages(self, what: str, **params: Any) -> Iterator[list[TypedItem]]:
        """Every page of a Query, following ``LastEvaluatedKey``."""
        params = {"TableName": self.table, **params}
        while True:
            with dynamo_errors(what):
                response = self.client.query(**params)
            yield response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def _query(self, what: str, **params: Any) -> list[TypedItem]:
        return [item for page in self._query_pages(what, **params) for item in page]

    def _gsi_query(self, what: str, pk: str, since_ms: int | None, forward: bool) -> list[TypedItem]:
        """A GSI1 query, keeping only the user's own items: anyone can write a GSI1PK
        that names another user on an item of their own, and IAM cannot stop that."""
        condition = "GSI1PK = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if since_ms is not None:
            condition += " AND GSI1SK > :since"
            values[":since"] = {"S": str(since_ms)}
        found = self._query(
            what,
            IndexName=self.index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=forward,
        )
        own = [item for item in found if item.get("PK", {}).get("S") == self.user_id]
        if len(own) != len(found):
            log.warning("ignored %d index entries planted by another user", len(found) - len(own))
        return own

    # -- reads ------------------------------------------------------------------------

    def list_chat_items(self, since_ms: int | None = None) -> list[TypedItem]:
        """The user's chat items, newest first (GSI1)."""
        return self._gsi_query("Listing chats", chats_gsi1pk(self.user_id), since_ms, forward=False)

    def list_chats(self) -> list[Chat]:
        return [c for c in map(decode, self.list_chat_items()) if isinstance(c, Chat)]

    def list_message_items(self, chat_id: str, since_ms: int | None = None) -> list[TypedItem]:
        """A chat's message items, oldest first (GSI1, all pages)."""
        return self._gsi_query("Opening chat", messages_gsi1pk(self.user_id, chat_id), since_ms, forward=True)

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
        attributes: TypedItem = response.get("Attributes", {})
        return attributes

    def put_message(self, message: Message, *, check_size: bool = True) -> TypedItem:
        """Write a message and its sources; the message last, so no reader sees an
        answer whose sources are missing. Replays are safe."""
        item = message.to_item()
        source_items = [s.to_item() for s in message.sources]
        if check_size:
            check_item_size(item, "The message")
            for index, source_item in enumerate(source_items):
                check_item_size(source_item, f"Source {index}")
        if source_items:
            write_all(self.client, self.table, [put_request(i) for i in source_items], self.pool)
        return self._put_new(item, "Saving message")

    def _source_keys_of(self, message_ids: list[str], progress: Callable[[], None] | None) -> list[TypedItem]:
        def keys(message_id: str) -> list[TypedItem]:
            found = [key_of(i) for i in self.list_source_items(message_id)]
            if progress:
                progress()
            return found

        if len(message_ids) <= 1:
            return [k for mid in message_ids for k in keys(mid)]
        return [k for found in self.pool.map(keys, message_ids) for k in found]

    def delete_message(self, message_id: str) -> int:
        """Delete a message and its sources (sources first); idempotent."""
        source_keys = self._source_keys_of([message_id], None)
        write_all(self.client, self.table, [delete_request(k) for k in source_keys], self.pool)
        with dynamo_errors("Deleting message"):
            self.client.delete_item(TableName=self.table, Key=message_key(self.user_id, message_id))
        return len(source_keys)

    def delete_chat(self, chat_id: str, progress: Progress | None = None) -> DeleteResult:
        """Delete a chat, every message and every source; the chat item last.

        The chat stays listed until everything under it is gone, so an interrupted
        delete is visible and simply run again (every step is idempotent).
        """
        message_items = self.list_message_items(chat_id)
        message_ids = [
            str(i.get("messageId", {}).get("S") or i["SK"]["S"].split("#", 1)[1]) for i in message_items
        ]
        total = len(message_ids) * 2 + 1
        done = 0
        lock = threading.Lock()

        def step(count: int = 1) -> None:
            nonlocal done
            with lock:
                done += count
                current = done
            if progress:
                progress(min(current, total), total)

        source_keys = self._source_keys_of(message_ids, step)
        requests = [delete_request(k) for k in source_keys]
        requests += [delete_request(key_of(i)) for i in message_items]
        message_total = len(message_items)
        write_all(
            self.client,
            self.table,
            requests,
            self.pool,
            on_batch=lambda n: step(max(1, n * message_total // max(1, len(requests)))),
        )
        with dynamo_errors("Deleting chat"):
            self.client.delete_item(TableName=self.table, Key=chat_key(self.user_id, chat_id))
        if progress:
            progress(total, total)
        return DeleteResult(chat_id, len(message_items), len(source_keys))


def is_conditional_failure(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"
