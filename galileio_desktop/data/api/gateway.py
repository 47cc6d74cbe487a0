"""The chat gateway over the deployment's REST API, for accounts without table rights.

It offers what the mirror, the outbox and the sync use of
:class:`~..dynamo.gateway.ChatGateway`, mapped to the routes of the deployment's chat
API (SigV4-signed for ``execute-api`` with the identity pool's credentials, the id token
in ``X-Cognito-IdToken``). Items come back in the table's typed shape, rebuilt from
the API's objects, so everything above the gateway works unchanged.

Bounds, where the API cannot do what the table can:

- **Chat ids.** ``PUT /chat`` makes its own id. A chat created here is adopted under
  the server's id once it is created (:mod:`..sync.server_ids`); until then it exists
  on this device only. A create whose answer was lost is looked for (a chat of that
  title, created since) before it is sent again, so a lost answer does not double it.
- **Messages.** Only the server's ask route (``PUT /chat/{id}/message``) stores
  messages: a question with the deployment's assistant is stored once, by the server.
  Answers of other backends (local documents, Bedrock, ...) and their questions cannot
  be stored over the API: they are kept on this device, marked "not stored on the
  server", and never sent twice. Pins likewise stay on this device.
- **Changes since.** There is no "changed since": an incremental pull reads a chat's
  newest page first and stops at the first message older than the last one seen.
- **Deletions.** A reconcile lists every chat, every message of every chat and the
  sources of every answer (one request each: the API has no partition query). Absence
  from the API's lists (built on the eventually consistent index) is taken as deletion:
  there is no consistent read to confirm it.
- **Extra attributes.** The API shows only its own members: attributes other writers
  keep on items (``updatedAt``, ``stopped``) are not seen through it.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from botocore.hooks import HierarchicalEmitter

from ..dynamo.cancellation import CancelToken
from ..dynamo.gateway import DEFAULT_NETWORK_THREADS, DeleteResult, KnownSources, Page, Progress
from ..errors import CredentialsError, EndpointUnreachable, NotFound, RemoteRejected, Throttled
from ..schema import Chat, Message, Source, TypedItem
from . import http

log = logging.getLogger(__name__)

ID_TOKEN_HEADER = "X-Cognito-IdToken"
SERVICE = "execute-api"
#: Messages a page: the API's default is 20; larger pages cost fewer requests.
PAGE_SIZE = 100
#: What a message that cannot be stored over the API says in the window and the CLI.
NOT_STORED_REASON = (
    "Kept on this device only: the deployment's API stores only questions asked to its own "
    "assistant (with their answers). Copy it elsewhere, or discard it."
)
PIN_NOT_STORED_REASON = "Kept on this device only: the deployment's API has no way to store pins."
_T = TypeVar("_T")
_R = TypeVar("_R")


class CannotStore(RemoteRejected):
    """The API has no route for this write; the change stays on this device."""


class _Events:
    """Stands in for a boto3 client's ``meta``: the gateway announces each request as
    the DynamoDB operation it stands for (a listing is a Query, a create a PutItem), so
    the write observer counts requests and follows writes exactly as over DynamoDB."""

    def __init__(self) -> None:
        self.events = HierarchicalEmitter()


class _Client:
    def __init__(self) -> None:
        self.meta = _Events()


def _condition_failed(message: str) -> NotFound:
    error = NotFound(message)
    error.__cause__ = ClientError(
        {"Error": {"Code": "ConditionalCheckFailedException", "Message": message}}, "UpdateItem"
    )
    return error


class ApiGateway:
    """The chat API of one deployment, for one signed-in user."""

    #: ``PUT /chat`` makes the chat's id: the pusher adopts it (see :mod:`..sync.server_ids`).
    makes_chat_ids = True
    #: No consistent read: the API's lists (on the eventually consistent index) are all there is.
    consistent_reads = False

    def __init__(
        self,
        api_url: str,
        region: str,
        session: Any,
        user_id: str,
        id_token: Callable[[], str | None] | None = None,
        *,
        max_workers: int = DEFAULT_NETWORK_THREADS,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.region = region
        self.session = session
        self.user_id = user_id
        self.id_token = id_token
        self.max_workers = max_workers
        self.client = _Client()
        self.cancel_token = CancelToken()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        #: The chat of each message met, for the routes that name both.
        self._chat_of: dict[str, str] = {}
        #: When each message met was written (its sources carry the same time).
        self._created_of: dict[str, int] = {}

    # -- plumbing (as ChatGateway) ----------------------------------------------------------

    def interrupt_with(self, token: CancelToken) -> None:
        token.on_cancel(lambda: self.cancel_token.cancel(token.error()))

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="api")
            return self._pool

    def each(self, fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        if len(items) <= 1:
            return [fn(i) for i in items]
        futures = [self.pool.submit(fn, i) for i in items]
        wait(futures)
        return [f.result() for f in futures]

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    # -- requests ----------------------------------------------------------------------------

    def _credentials(self) -> Any:
        try:
            credentials = self.session.get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        except BotoCoreError as exc:
            raise CredentialsError(f"The AWS credentials could not be renewed: {exc}") from exc
        if frozen is None or not frozen.access_key:
            raise CredentialsError(
                "No AWS credentials to sign requests to the deployment's API: sign in first."
            )
        return frozen

    def _signed(self, method: str, url: str, body: bytes) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        token = self.id_token() if self.id_token is not None else None
        if token:
            headers[ID_TOKEN_HEADER] = token
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(self._credentials(), SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        operation: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """One API call with its retries; the JSON object it answered (HTTP 200).

        ``idempotent`` False: not sent again once it may have reached the handler (see
        :mod:`.http`). The write observer hears whether each attempt may have left, as
        from botocore (a connection never made is botocore's EndpointConnectionError).
        """
        url = self.api_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        events = self.client.meta.events
        for attempt in range(http.MAX_ATTEMPTS):
            self.cancel_token.check()
            events.emit(f"before-call.dynamodb.{operation}")
            sending = http.Attempt()
            try:
                reply = http.exchange(
                    method, url, data, self._signed(method, url, data), self.cancel_token, what, sending
                )
            except EndpointUnreachable as exc:
                # Stopped or broken after it left (a deadline too): it may have been applied.
                told: Exception = (
                    EndpointUnreachable(exc.message)
                    if sending.sent
                    else EndpointConnectionError(endpoint_url=url)
                )
                events.emit(f"response-received.dynamodb.{operation}", exception=told)
                last = attempt + 1 == http.MAX_ATTEMPTS
                if last or isinstance(exc, http.NotTheApi) or (sending.sent and not idempotent):
                    raise
                self._wait(attempt)
                continue
            events.emit(
                f"response-received.dynamodb.{operation}", response_dict={"status_code": reply.status}
            )
            if reply.status == 200:
                document: dict[str, Any] = reply.document
                return document
            retried = http.RETRIED_STATUSES if idempotent else http.REFUSED_UNHANDLED
            if reply.status in retried and attempt + 1 < http.MAX_ATTEMPTS:
                self._wait(attempt)
                continue
            raise self._error(reply, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int) -> None:
        if self.cancel_token.wait(http.delay_s(attempt)):
            raise self.cancel_token.error()

    def _error(self, reply: http.Reply, what: str) -> Exception:
        document = reply.document
        detail = str(
            document.get("message")
            or document.get("errorMessage")
            or reply.headers.get("x-amzn-errortype")
            or ""
        )
        said = f": {detail}" if detail else ""
        if reply.status in (401, 403):
            return CredentialsError(
                f"{what}: the deployment's API refused the credentials (HTTP {reply.status}{said}). "
                "Sign in again, or ask the deployment's administrator for access."
            )
        if reply.status == 429:
            return Throttled(f"{what}: the deployment's API asks to slow down (HTTP 429); try again shortly.")
        if reply.status in (502, 503, 504):
            return EndpointUnreachable(
                f"{what}: the deployment's API is not available (HTTP {reply.status}{said})."
            )
        if reply.status == 500 and "conditional request failed" in detail.lower():
            return _condition_failed(f"{what}: the chat does not exist (it may have been deleted).")
        if reply.status == 404:
            return NotFound(f"{what}: not found{said}.")
        return RemoteRejected(f"{what}: the deployment's API refused it (HTTP {reply.status}{said}).")

    @staticmethod
    def _quote(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    # -- items from the API's objects ------------------------------------------------------

    def _chat_item(self, chat: Mapping[str, Any]) -> TypedItem | None:
        chat_id, title, created = chat.get("chatId"), chat.get("title"), chat.get("createdAt")
        if chat.get("userId") not in (None, self.user_id):
            log.warning("ignoring a chat of another user in the API's answer")
            return None
        if not isinstance(chat_id, str) or not isinstance(title, str) or not isinstance(created, int):
            log.warning("ignoring a chat the API described incompletely")
            return None
        return Chat(chat_id, self.user_id, title, created).to_item()

    def _message_item(self, message: Mapping[str, Any]) -> TypedItem | None:
        message_id, chat_id, created = (
            message.get("messageId"),
            message.get("chatId"),
            message.get("createdAt"),
        )
        if not isinstance(message_id, str) or not isinstance(chat_id, str) or not isinstance(created, int):
            log.warning("ignoring a message the API described incompletely")
            return None
        self._chat_of[message_id] = chat_id
        self._created_of[message_id] = created
        text = message.get("text")
        kind = message.get("type")
        return Message(
            message_id, chat_id, self.user_id, str(kind), text if isinstance(text, str) else "", created
        ).to_item()

    def _source_item(self, source: Mapping[str, Any], message_id: str, created: int) -> TypedItem | None:
        source_id = source.get("sourceId")
        if not isinstance(source_id, str):
            return None
        metadata = source.get("metadata")
        return Source(
            source_id,
            str(source.get("messageId") or message_id),
            str(source.get("chatId") or self._chat_of.get(message_id, "")),
            self.user_id,
            str(source.get("pageContent") or ""),
            dict(metadata) if isinstance(metadata, Mapping) else {},
            created,
        ).to_item()

    # -- reads ---------------------------------------------------------------------------------

    def list_chat_items(self, since_ms: int | None = None) -> list[TypedItem]:
        """Every chat, newest first (``GET /chat``: one unpaged answer)."""
        document = self._call("GET", "chat", "Listing chats", "Query")
        chats = document.get("chats")
        if not isinstance(chats, list):
            raise http.NotTheApi(
                "Listing chats: the answer has no list of chats; nothing was concluded from it."
            )
        found = [item for item in map(self._chat_item, (c for c in chats if isinstance(c, Mapping))) if item]
        if since_ms is not None:
            found = [i for i in found if int(i["createdAt"]["N"]) > since_ms]
        return found

    def list_chats(self) -> list[Chat]:
        return [Chat.from_item(i) for i in self.list_chat_items()]

    def iter_message_pages(
        self,
        chat_id: str,
        since_ms: int | None = None,
        *,
        newest_first: bool = False,
        first_page: int | None = None,
    ) -> Iterator[Page]:
        """A chat's messages a page at a time; with ``since_ms``, newest first until the
        first message at or before it (the API has no "newer than"). ``first_page`` is
        not needed here: every page is :data:`PAGE_SIZE` messages, small already."""
        ascending = not newest_first and since_ms is None
        token: str | None = None
        while True:
            query = {"pageSize": str(PAGE_SIZE), "ascending": "true" if ascending else "false"}
            if token:
                query["nextToken"] = token
            document = self._call("GET", f"chat/{self._quote(chat_id)}", "Opening chat", "Query", query=query)
            messages = document.get("chatMessages")
            if not isinstance(messages, list):
                raise http.NotTheApi(
                    "Opening chat: the answer has no list of messages; nothing was concluded from it."
                )
            items = [i for i in map(self._message_item, (m for m in messages if isinstance(m, Mapping))) if i]
            items = [i for i in items if i["chatId"]["S"] == chat_id]
            next_token = document.get("nextToken")
            more = isinstance(next_token, str) and bool(next_token)
            if since_ms is not None:
                newer = [i for i in items if int(i["createdAt"]["N"]) > since_ms]
                if len(newer) < len(items):
                    more = False
                items = newer
            yield Page(items, more=more)
            if not more:
                return
            token = next_token

    def list_message_items(self, chat_id: str, since_ms: int | None = None) -> list[TypedItem]:
        items = [item for page in self.iter_message_pages(chat_id, since_ms) for item in page]
        return sorted(items, key=lambda i: int(i["createdAt"]["N"]))

    def list_source_items(self, message_id: str) -> list[TypedItem]:
        """The sources of an answer (never paged). The route names the chat too; the
        handler reads the message's sources only, so an unknown chat is sent as ``-``."""
        chat_id = self._chat_of.get(message_id, "-")
        path = f"chat/{self._quote(chat_id)}/message/{self._quote(message_id)}/source"
        document = self._call("GET", path, "Loading sources", "Query")
        sources = document.get("chatMessageSources")
        if not isinstance(sources, list):
            raise http.NotTheApi(
                "Loading sources: the answer has no list of sources; nothing was concluded from it."
            )
        created = self._created_of.get(message_id, 0)
        items = [self._source_item(s, message_id, created) for s in sources if isinstance(s, Mapping)]
        return [i for i in items if i is not None and i["messageId"]["S"] == message_id]

    def list_sources(self, message_id: str) -> list[Source]:
        return [Source.from_item(i) for i in self.list_source_items(message_id)]

    def get_item(self, key: TypedItem, consistent: bool = True) -> TypedItem | None:
        """An item by key, as far as the API shows it: a chat from the list of chats, a
        message from its chat's messages (when the chat is known); else None."""
        sk = str(key.get("SK", {}).get("S", ""))
        if sk.startswith("CHAT#"):
            chat_id = sk.removeprefix("CHAT#")
            return next((i for i in self.list_chat_items() if i["chatId"]["S"] == chat_id), None)
        if sk.startswith("MESSAGE#"):
            message_id = sk.removeprefix("MESSAGE#")
            chat_id = self._chat_of.get(message_id)
            if chat_id is None:
                return None
            return next(
                (i for i in self.list_message_items(chat_id) if i["messageId"]["S"] == message_id), None
            )
        return None

    def get_chat(self, chat_id: str) -> Chat | None:
        item = self.get_item({"SK": {"S": f"CHAT#{chat_id}"}})
        return Chat.from_item(item) if item else None

    def iter_partition(self) -> Iterator[list[TypedItem]]:
        """Everything of the user the API shows: the chats, then each chat's messages
        with the sources of its answers (one page a chat)."""
        chats = self.list_chat_items()
        yield chats
        for chat in chats:
            messages = self.list_message_items(chat["chatId"]["S"])
            answers = [m["messageId"]["S"] for m in messages if m.get("type", {}).get("S") != "human"]
            sources = self.each(self.list_source_items, answers)
            yield messages + [s for found in sources for s in found]

    # -- writes -------------------------------------------------------------------------------

    def create_chat(self, chat: Chat, *, since_ms: int | None = None) -> TypedItem:
        """``PUT /chat``: the chat as the server made it, under the server's own id.

        ``since_ms``: an earlier attempt may have created it (its answer was lost): a chat
        of this title created since then, not known here, is taken instead of a new one.
        """
        if since_ms is not None:
            for item in self.list_chat_items():
                if item["title"]["S"] == chat.title and int(item["createdAt"]["N"]) >= since_ms:
                    return item
        document = self._call(
            "PUT", "chat", "Creating chat", "PutItem", body={"title": chat.title}, idempotent=False
        )
        chat_id = document.get("chatId")
        if not isinstance(chat_id, str) or not chat_id:
            raise http.NotTheApi("Creating chat: the answer has no chat id; nothing was concluded from it.")
        # The answer has no createdAt: the list has it.
        stored = self.get_item({"SK": {"S": f"CHAT#{chat_id}"}})
        if stored is None:
            return Chat(
                chat_id, self.user_id, str(document.get("title") or chat.title), chat.created_at
            ).to_item()
        return stored

    def rename_chat(self, chat_id: str, title: str, updated_at: int) -> TypedItem:
        """``POST /chat/{chatId}``: title only; a missing chat is a condition failure."""
        document = self._call(
            "POST", f"chat/{self._quote(chat_id)}", "Renaming chat", "UpdateItem", body={"title": title}
        )
        if document.get("chatId") != chat_id:
            raise http.NotTheApi(
                "Renaming chat: the answer does not name the chat; nothing was concluded from it."
            )
        stored = self.get_item({"SK": {"S": f"CHAT#{chat_id}"}})
        if stored is None:
            raise _condition_failed(f"Chat {chat_id} does not exist (it may have been deleted).")
        return stored

    def pin_chat(self, chat_id: str, change: Any) -> TypedItem:
        raise CannotStore(PIN_NOT_STORED_REASON)

    def put_message(self, message: Message, **_: Any) -> TypedItem:
        raise CannotStore(NOT_STORED_REASON)

    def delete_message(self, message_id: str, known_sources: Sequence[TypedItem] | None = None) -> int:
        """``DELETE /chat/{chatId}/message/{messageId}``: the server deletes the sources too."""
        chat_id = self._chat_of.get(message_id, "-")
        path = f"chat/{self._quote(chat_id)}/message/{self._quote(message_id)}"
        self._call("DELETE", path, "Deleting message", "DeleteItem")
        return len(known_sources or ())

    def delete_chat(
        self,
        chat_id: str,
        progress: Progress | None = None,
        known_sources: KnownSources | None = None,
        *,
        once_sent: Callable[[], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> DeleteResult:
        """``DELETE /chat/{chatId}``: the server deletes its messages and sources too, in
        the one request, so nothing is ever confirmed gone before the chat: ``once_sent``
        and ``meanwhile`` (see the DynamoDB gateway's) are not called."""
        self._call("DELETE", f"chat/{self._quote(chat_id)}", "Deleting chat", "DeleteItem")
        if progress:
            progress(1, 1)
        known = known_sources or {}
        return DeleteResult(chat_id, len(known), sum(len(v) for v in known.values()))
