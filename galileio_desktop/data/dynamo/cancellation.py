"""Stopping network work on purpose: Quit, an account switch, a command's deadline.

A :class:`CancelToken` is shared by every thread working for one library. Cancelling it
stops the work within moments whatever the network does:

- no new request starts (botocore's ``before-send``);
- requests in flight end at once: their sockets are shut down, so a silent server or
  one that drips a byte a second cannot hold a thread (a per-read timeout cannot stop
  a drip: each byte resets it);
- botocore's retry backoff waits on the token instead of sleeping, and a failed
  attempt raises the token's error instead of being retried;
- loops that wait (batch backoff, the push and pull loops) check the token.

The token's error (:class:`~.errors.Cancelled`, or :class:`~.errors.DeadlineExceeded`)
is transient: queued changes stay queued, in doubt where a write may have landed, and
the next sync settles them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Cancelled, DeadlineExceeded

if TYPE_CHECKING:
    import socket

log = logging.getLogger(__name__)

_HOOK_PREFIX = "galileio-cancel"


class CancelToken:
    """A stop signal for the network work of one library or command."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._error: Cancelled | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._timer: threading.Timer | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, error: Cancelled | None = None) -> None:
        """Stop: every waiting or sending thread ends with ``error`` (idempotent)."""
        with self._lock:
            if self._event.is_set():
                return
            self._error = error or Cancelled("Stopped before DynamoDB answered; nothing queued was lost.")
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - one listener must not keep the others from stopping
                log.exception("a cancellation listener failed")

    def error(self) -> Cancelled:
        """A new instance of the error cancelled with (each raise gets its own traceback)."""
        error = self._error or Cancelled("Stopped.")
        return type(error)(error.message)

    def check(self) -> None:
        """Raise the token's error once it is cancelled."""
        if self._event.is_set():
            raise self.error()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (at once) when cancelled meanwhile."""
        return self._event.wait(max(0.0, seconds))

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancelled (at once if already)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def start_deadline(self, seconds: float) -> None:
        """Cancel with :class:`DeadlineExceeded` after ``seconds``."""
        error = DeadlineExceeded(
            f"DynamoDB did not finish answering within {seconds:g} s (see --timeout); "
            "stopped. Queued changes are kept and sent at the next sync."
        )
        timer = threading.Timer(seconds, self.cancel, args=(error,))
        timer.daemon = True
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = timer
        timer.start()

    def close(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


class _Sockets:
    """The live sockets of one client's connection pools, to shut down on cancel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def add(self, sock: Any) -> None:
        import socket  # with the network (a library opens without it, before a first paint)

        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.add(sock)

    def shut_down(self) -> int:
        """Shut every open socket down (reads and writes in other threads end at once)."""
        import socket

        with self._lock:
            sockets = list(self._sockets)
        count = 0
        for sock in sockets:
            try:
                # The plain socket's shutdown, also for TLS sockets: shutdown(2) on the
                # descriptor, without touching the TLS object another thread is reading.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
                count += 1
            except OSError:
                pass  # closed already
        return count


def make_interruptible(client: Any, token: CancelToken) -> None:
    """Let ``token`` stop every request of a boto3 ``client`` (see the module docstring)."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        return
    suffix = f"{id(token)}"
    events.register(
        "before-send.dynamodb", _refuse_when_cancelled(token), unique_id=f"{_HOOK_PREFIX}-{suffix}"
    )
    _wrap_retries(events, token, suffix)
    sockets = _track_sockets(client)
    if sockets is not None:
        token.on_cancel(sockets.shut_down)


def _refuse_when_cancelled(token: CancelToken) -> Callable[..., None]:
    def before_send(**_: Any) -> None:
        token.check()

    return before_send


def _wrap_retries(events: Any, token: CancelToken, suffix: str) -> None:
    """botocore's standard retry handler, with its backoff spent waiting on the token.

    botocore sleeps after its ``needs-retry`` handlers answered a delay; the wrapper
    waits that delay itself (ending early on cancel) and answers 0. Where the handler
    cannot be found (another retry mode), cancelled attempts still end the call.
    """
    from botocore.retries.standard import RetryHandler

    standard = None
    handlers = getattr(getattr(events, "_emitter", events), "_handlers", None)
    if handlers is not None and hasattr(handlers, "prefix_search"):
        for handler in handlers.prefix_search("needs-retry.dynamodb.Query"):
            if isinstance(getattr(handler, "__self__", None), RetryHandler):
                standard = handler
                break
    if standard is not None:
        events.unregister("needs-retry.dynamodb", standard)

    def needs_retry(
        response: Any = None, caught_exception: BaseException | None = None, **kwargs: Any
    ) -> Any:
        failed = caught_exception is not None or _status(response) >= 300
        if failed and token.cancelled:
            raise token.error() from caught_exception
        if standard is None:
            return None
        delay = standard(response=response, caught_exception=caught_exception, **kwargs)
        if not delay:
            return delay
        if token.wait(float(delay)):
            raise token.error() from caught_exception
        return 0

    events.register_first("needs-retry.dynamodb", needs_retry, unique_id=f"{_HOOK_PREFIX}-retry-{suffix}")


def _status(response: Any) -> int:
    if isinstance(response, tuple) and response and response[0] is not None:
        return int(getattr(response[0], "status_code", 0) or 0)
    return 0


def _track_sockets(client: Any) -> _Sockets | None:
    """Make the client's connection pools record their sockets (None where the client's
    HTTP session is not botocore's usual one)."""
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    manager = getattr(session, "_manager", None)
    if session is None or manager is None or not hasattr(session, "_pool_classes_by_scheme"):
        return None
    from botocore.awsrequest import (
        AWSHTTPConnection,
        AWSHTTPConnectionPool,
        AWSHTTPSConnection,
        AWSHTTPSConnectionPool,
    )

    sockets = _Sockets()

    class TrackedHTTPConnection(AWSHTTPConnection):  # type: ignore[misc]
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class TrackedHTTPSConnection(AWSHTTPSConnection):  # type: ignore[misc]
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class TrackedHTTPPool(AWSHTTPConnectionPool):  # type: ignore[misc]
        ConnectionCls = TrackedHTTPConnection

    class TrackedHTTPSPool(AWSHTTPSConnectionPool):  # type: ignore[misc]
        ConnectionCls = TrackedHTTPSConnection

    classes = {"http": TrackedHTTPPool, "https": TrackedHTTPSPool}
    session._pool_classes_by_scheme = classes
    manager.pool_classes_by_scheme = classes
    for proxy_manager in getattr(session, "_proxy_managers", {}).values():
        proxy_manager.pool_classes_by_scheme = classes
    return sockets
