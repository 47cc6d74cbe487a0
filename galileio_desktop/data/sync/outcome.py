"""What became of a request: could a write have reached DynamoDB, and how many were sent.

A create or a new message is a conditional write with a client-generated id (a PutItem,
or for a message with its sources a TransactWriteItems), so a replay never doubles it.
The one case a replay cannot settle is "the item is missing now": never written, or
written and then deleted on another device? To tell, the pusher records *before* the
write leaves that its outcome may become unknown, and clears that mark again when every
attempt provably failed before reaching the server (connection refused, an HTTP 4xx
answer: a cancelled transaction or an unknown operation applied nothing). botocore's own
events give this per attempt, including the attempts its retry handler makes inside one
call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import EndpointConnectionError

from ..errors import Cancelled

log = logging.getLogger(__name__)

#: The writes whose outcome decides an operation: a lost answer to one of these is doubt.
WATCHED_OPERATIONS = ("PutItem", "TransactWriteItems")


class _Watch:
    def __init__(self, on_send: Callable[[], None]) -> None:
        self.on_send = on_send
        self.sent = False
        self.maybe_applied = False


class WriteObserver:
    """Follows the attempts of the watched writes made by the calling thread on one boto3 client."""

    def __init__(self, client: Any) -> None:
        self._events = getattr(getattr(client, "meta", None), "events", None)
        self._local = threading.local()
        self.requests = 0
        self._count_lock = threading.Lock()
        self._hooks: list[tuple[str, Callable[..., None]]] = []
        for operation in WATCHED_OPERATIONS:
            self._hooks.append((f"before-call.dynamodb.{operation}", self._before_call))
            self._hooks.append((f"response-received.dynamodb.{operation}", self._response))
        self._hooks.append(("before-call.dynamodb", self._count))
        if self._events is not None:
            for index, (event, handler) in enumerate(self._hooks):
                self._events.register(event, handler, unique_id=self._hook_id(index))

    @property
    def precise(self) -> bool:
        """False when the client has no botocore events (the pusher then assumes the worst)."""
        return self._events is not None

    def close(self) -> None:
        if self._events is not None:
            for index, (event, _handler) in enumerate(self._hooks):
                self._events.unregister(event, unique_id=self._hook_id(index))
            self._events = None

    def _hook_id(self, index: int) -> str:
        return f"galileio-write-observer-{id(self)}-{index}"

    @contextmanager
    def watch(self, on_send: Callable[[], None]) -> Iterator[_Watch]:
        """Watch the writes (PutItem, TransactWriteItems) made by this thread inside the block."""
        watch = _Watch(on_send)
        self._local.watch = watch
        try:
            yield watch
        finally:
            self._local.watch = None

    def _current(self) -> _Watch | None:
        return getattr(self._local, "watch", None)

    def _count(self, **_: Any) -> None:
        with self._count_lock:
            self.requests += 1

    def _before_call(self, **_: Any) -> None:
        watch = self._current()
        if watch is not None and not watch.sent:
            watch.sent = True
            watch.on_send()

    def _response(self, exception: BaseException | None = None, response_dict: Any = None, **_: Any) -> None:
        watch = self._current()
        if watch is None:
            return
        if exception is not None:
            # Refused before anything was sent (no connection, TLS failure, or stopped
            # before sending: a cancelled token refuses in botocore's before-send).
            if not isinstance(exception, (EndpointConnectionError, Cancelled)):
                watch.maybe_applied = True
            return
        status = int((response_dict or {}).get("status_code", 0))
        if status < 400 or status >= 500:
            watch.maybe_applied = True
