"""A loopback HTTP proxy in front of a DynamoDB server that breaks answers the way
networks do: a captive portal's sign-in page, an empty ``{}``, a body cut short, a
damaged checksum, a server that never answers or drips a byte a second, a connection
reset mid-body, a load balancer's 500 or 503.

Faults that *replace* the answer (``html``, ``empty``, ``http500``, ``http503``,
``silent``) never forward the request: nothing reaches DynamoDB, as behind a portal.
Faults that *damage* the answer (``truncated``, ``bad_crc``, ``drip``, ``reset``)
forward it first, so DynamoDB applies a write whose answer the client then cannot
trust: the lost-response case.

``only``: the operations (``X-Amz-Target``'s last part; for the deployment's REST API,
``METHOD /path``) the fault applies to; others pass through untouched. Used by the
fault-matrix tests through the real client stack, in front of DynamoDB or of the API.
"""

from __future__ import annotations

import http.client
import logging
import socket
import struct
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
REPLACING = ("html", "empty", "http500", "http503", "silent")
DAMAGING = ("truncated", "bad_crc", "drip", "reset")
FAULTS = REPLACING + DAMAGING
PORTAL_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome to Hotel Wi-Fi</title></head>"
    b"<body><h1>Please sign in</h1><form action='/login'><input name='room'></form></body></html>"
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailers", "transfer-encoding", "upgrade"}
)


class FaultProxy:
    """The proxy; ``fault`` None passes everything through."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or LOOPBACK
        self.upstream_port = parts.port or 80
        self.fault: str | None = None
        self.only: frozenset[str] = frozenset()
        self.seen: Counter[str] = Counter()
        self.faulted: Counter[str] = Counter()
        self._release = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                log.debug("fault proxy: " + format, *args)

            def do_POST(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_DELETE = do_POST  # the deployment's REST API

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def set(self, fault: str | None, only: tuple[str, ...] = ()) -> None:
        """Break answers with ``fault`` from now on (None: heal); ``only`` these operations."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self.fault = fault
            self.only = frozenset(only)
            if fault is None:
                self._release.set()  # silent and dripping answers give up
            else:
                self._release = threading.Event()

    # -- one request -------------------------------------------------------------------

    def _fault_for(self, operation: str) -> tuple[str | None, threading.Event]:
        with self._lock:
            self.seen[operation] += 1
            fault = self.fault if (not self.only or operation in self.only) else None
            if fault is not None:
                self.faulted[operation] += 1
            return fault, self._release

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target")
        operation = (
            target.rsplit(".", 1)[-1] if target else f"{handler.command} {urlsplit(handler.path).path}"
        )
        fault, release = self._fault_for(operation)
        if fault == "silent":
            release.wait(120)
            handler.close_connection = True
            return
        if fault in ("html", "http500", "http503"):
            status = {"html": 200, "http500": 500, "http503": 503}[fault]
            self._answer(handler, status, [("Content-Type", "text/html; charset=utf-8")], PORTAL_PAGE)
            return
        if fault == "empty":
            self._answer(handler, 200, [("Content-Type", "application/x-amz-json-1.0")], b"{}")
            return
        status, headers, payload = self._forward(handler, body)
        if fault is None:
            self._answer(handler, status, headers, payload)
        elif fault == "bad_crc":
            headers = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
            self._answer(handler, status, [*headers, ("x-amz-crc32", "12345")], payload)
        elif fault == "truncated":
            # No length given: the body ends where the connection does, so the client
            # cannot tell from the framing that half of it is missing.
            self._head(handler, status, headers, None)
            handler.wfile.write(payload[: max(1, len(payload) // 2)])
            handler.wfile.flush()
            handler.close_connection = True
        elif fault == "reset":
            self._head(handler, status, headers, len(payload))
            handler.wfile.write(payload[: max(1, len(payload) // 2)])
            handler.wfile.flush()
            # SO_LINGER 0: close sends RST instead of FIN
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
        elif fault == "drip":
            self._head(handler, status, headers, len(payload))
            try:
                for byte in payload:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    if release.wait(1.0):
                        break
            except OSError:
                pass  # the client gave up
            handler.close_connection = True

    def _forward(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(handler.command, handler.path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            ]
            return response.status, kept, payload
        finally:
            connection.close()

    @staticmethod
    def _head(
        handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], length: int | None
    ) -> None:
        handler.send_response_only(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "date", "server"):
                handler.send_header(name, value)
        if length is None:
            handler.send_header("Connection", "close")
        else:
            handler.send_header("Content-Length", str(length))
        handler.end_headers()

    def _answer(
        self, handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], payload: bytes
    ) -> None:
        self._head(handler, status, headers, len(payload))
        handler.wfile.write(payload)
        handler.wfile.flush()
