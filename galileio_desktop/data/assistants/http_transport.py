"""One HTTP request to an assistant endpoint that the user can stop at any moment.

Standard library only (``http.client``), with connect and read timeouts, the
system's proxy settings, and a watcher that closes the socket as soon as ``cancel``
is set, so a read blocked on a slow server returns at once instead of at the timeout.
Failures become the project's error types: unreachable, credentials, or an
:class:`AssistantError` carrying the status and a short excerpt of the body.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ..errors import CredentialsError, EndpointUnreachable, GalileioError
from .base import AssistantError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
#: Generous: a RAG endpoint may think for a minute before its first byte.
READ_TIMEOUT_S = 180.0
_WATCH_INTERVAL_S = 0.05
_EXCERPT_CHARS = 300
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Endpoint:
    """A parsed URL: what to connect to and what to put on the request line."""

    scheme: str
    host: str
    port: int
    target: str  # path and query

    @property
    def netloc(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AssistantError(f"The assistant URL {url!r} is not an http(s) URL.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        return cls(parts.scheme, parts.hostname, port, target)


def excerpt(body: bytes | str, limit: int = _EXCERPT_CHARS) -> str:
    """A short, single-line excerpt of a response body for an error message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def http_error(status: int, reason: str, body: bytes, what: str) -> GalileioError:
    """The error for an HTTP failure status, with the status and a body excerpt."""
    detail = excerpt(body)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        return CredentialsError(
            f"{what} refused the credentials (HTTP {status} {reason}){suffix}. Sign in again or check access."
        )
    return AssistantError(
        f"{what} failed with HTTP {status} {reason}{suffix}",
        status=status,
        transient=status in _TRANSIENT_STATUSES,
    )


class RequestStopped(Exception):
    """The user stopped the request before its response arrived."""


class CancelWatcher:
    """Runs ``abort`` once if ``cancel`` is set before the watcher is stopped."""

    def __init__(self, cancel: threading.Event, abort: Callable[[], None]) -> None:
        self._cancel = cancel
        self._abort = abort
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._run, name="assistant-cancel-watch", daemon=True)

    def __enter__(self) -> CancelWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            if self._cancel.wait(_WATCH_INTERVAL_S):
                if not self._done.is_set():
                    self.fired = True
                    try:
                        self._abort()
                    except Exception:  # aborting a dying socket may fail; that is fine
                        log.debug("abort after cancel raised", exc_info=True)
                return


def _proxy_for(endpoint: Endpoint) -> Endpoint | None:
    """The proxy the system settings name for this endpoint, if any (never for loopback:
    a local model server is reached directly)."""
    if endpoint.host in _LOOPBACK or urllib.request.proxy_bypass(endpoint.host):
        return None
    proxy = urllib.request.getproxies().get(endpoint.scheme)
    if not proxy:
        return None
    if "://" not in proxy:
        proxy = f"http://{proxy}"
    parsed = Endpoint.parse(proxy)
    return parsed


def _connection(endpoint: Endpoint, timeout: float) -> http.client.HTTPConnection:
    proxy = _proxy_for(endpoint)
    if endpoint.scheme == "https":
        context = ssl.create_default_context()
        if proxy is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy.host, proxy.port, timeout=timeout, context=context
            )
            conn.set_tunnel(endpoint.host, endpoint.port)
            return conn
        return http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout, context=context)
    if proxy is not None:
        return http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
    return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)


class _Aborter:
    """Shuts the connection's socket down from another thread.

    The socket is remembered when it connects: ``http.client`` hands it over to the
    response (and forgets it on the connection) when the server will close it after
    the response, and a blocked read only returns when that very socket is shut down.
    """

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self._conn = conn
        self.sock: socket.socket | None = None

    def __call__(self) -> None:
        sock = self.sock or self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Exchange:
    """An open response: the status is known, the body may still be streaming."""

    def __init__(self, response: http.client.HTTPResponse, watcher: CancelWatcher) -> None:
        self.response = response
        self._watcher = watcher

    @property
    def cancelled(self) -> bool:
        """True when the user's cancel closed the connection."""
        return self._watcher.fired


@contextlib.contextmanager
def send(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    cancel: threading.Event,
    *,
    what: str = "The assistant endpoint",
    connect_timeout: float = CONNECT_TIMEOUT_S,
    read_timeout: float = READ_TIMEOUT_S,
) -> Iterator[Exchange]:
    """Send the request; yield the open response when its status is 2xx.

    Raises :class:`EndpointUnreachable` when the server cannot be reached,
    :class:`CredentialsError` on 401/403, :class:`AssistantError` on other statuses.
    If ``cancel`` is set before the response arrives, :class:`RequestStopped` is
    raised; once the body is streaming, the connection is closed and reads raise
    :class:`OSError` or return nothing, with ``Exchange.cancelled`` True.
    """
    endpoint = Endpoint.parse(url)
    conn = _connection(endpoint, connect_timeout)
    aborter = _Aborter(conn)
    watcher = CancelWatcher(cancel, aborter)
    proxied = _proxy_for(endpoint) is not None and endpoint.scheme == "http"
    target = url if proxied else endpoint.target
    response: http.client.HTTPResponse | None = None
    with watcher:
        try:
            try:
                conn.connect()
            except (OSError, http.client.HTTPException) as exc:
                if cancel.is_set():
                    raise RequestStopped from exc
                raise EndpointUnreachable(
                    f"{what} at {endpoint.netloc} cannot be reached: {_reason(exc)}."
                ) from exc
            aborter.sock = conn.sock
            if conn.sock is not None:
                conn.sock.settimeout(read_timeout)
            if cancel.is_set():
                raise RequestStopped
            try:
                conn.request(method, target, body=body, headers=dict(headers))
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                if cancel.is_set():
                    raise RequestStopped from exc
                raise EndpointUnreachable(
                    f"{what} at {endpoint.netloc} did not answer: {_reason(exc)}."
                ) from exc
            if not 200 <= response.status < 300:
                try:
                    data = response.read(4096)
                except (OSError, http.client.HTTPException):
                    data = b""
                raise http_error(response.status, response.reason, data, what)
            yield Exchange(response, watcher)
        finally:
            if response is not None:
                response.close()
            conn.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve (offline?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(exc) or type(exc).__name__
