"""A loopback HTTP proxy that adds a round-trip delay and counts DynamoDB requests.

Every network scenario of the benchmark talks to moto's server through this proxy, so
each request pays the delay a desktop pays to reach its AWS region (20 ms by default),
and the benchmark can say exactly how many requests of each operation a piece of code
made. The delay is applied once per request, before it is forwarded; concurrent
requests wait concurrently, as they do on a real network. Transfer time of large
responses (bandwidth) is not modelled.

Keep-alive works both ways: botocore pools its connections to the proxy, and each
client connection keeps one connection to the upstream server.

Counts and settings are read and changed over the proxy's own control paths
(``/__proxy__/stats``, ``/__proxy__/reset``, ``/__proxy__/delay``), so the proxy can
run in its own process (``python bench/latency_proxy.py --upstream URL``), away from
the GIL of the code being measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_DELAY_MS = 20.0
CONTROL_PREFIX = "/__proxy__/"
TARGET_HEADER = "X-Amz-Target"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


def operation_of(target: str | None) -> str:
    """``DynamoDB_20120810.Query`` -> ``Query``; requests without the header -> ``other``."""
    if not target:
        return "other"
    return target.rsplit(".", 1)[-1]


def detail_of(operation: str, body: bytes) -> str:
    """A finer label for reads: ``Query(GSI1)`` for an index, ``Query(table)`` otherwise."""
    if operation not in ("Query", "Scan"):
        return operation
    try:
        index = json.loads(body or b"{}").get("IndexName")
    except ValueError:
        index = None
    return f"{operation}({index})" if index else f"{operation}(table)"


@dataclass
class ProxyStats:
    """What went through the proxy since the last reset."""

    requests: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_detail: Counter[str] = field(default_factory=Counter)
    #: Seconds the upstream server spent answering, summed over requests (its own CPU time
    #: when it serves one request at a time).
    upstream_seconds: float = 0.0
    upstream_by_detail: dict[str, float] = field(default_factory=dict)
    response_bytes: int = 0
    errors: int = 0
    #: TCP connections clients opened (fewer than requests: keep-alive works).
    connections: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_operation": dict(self.by_operation),
            "by_detail": dict(self.by_detail),
            "upstream_seconds": round(self.upstream_seconds, 6),
            "upstream_by_detail": {k: round(v, 6) for k, v in self.upstream_by_detail.items()},
            "response_bytes": self.response_bytes,
            "errors": self.errors,
            "connections": self.connections,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyStats:
        return cls(
            requests=int(data["requests"]),
            by_operation=Counter(data.get("by_operation", {})),
            by_detail=Counter(data.get("by_detail", {})),
            upstream_seconds=float(data.get("upstream_seconds", 0.0)),
            upstream_by_detail={k: float(v) for k, v in data.get("upstream_by_detail", {}).items()},
            response_bytes=int(data.get("response_bytes", 0)),
            errors=int(data.get("errors", 0)),
            connections=int(data.get("connections", 0)),
        )


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # botocore opens up to max_pool_connections at once; the default backlog of 5 is small.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], upstream: str, delay_ms: float) -> None:
        super().__init__(address, _Handler)
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the upstream must be an http:// URL, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.delay_s = delay_ms / 1000.0
        self.lock = threading.Lock()
        self.stats = ProxyStats()

    def record(self, operation: str, detail: str, seconds: float, size: int, ok: bool) -> None:
        with self.lock:
            self.stats.requests += 1
            self.stats.by_operation[operation] += 1
            self.stats.by_detail[detail] += 1
            self.stats.upstream_seconds += seconds
            by_detail = self.stats.upstream_by_detail
            by_detail[detail] = by_detail.get(detail, 0.0) + seconds
            self.stats.response_bytes += size
            if not ok:
                self.stats.errors += 1

    def count_connection(self) -> None:
        with self.lock:
            self.stats.connections += 1

    def snapshot(self) -> ProxyStats:
        with self.lock:
            return ProxyStats.from_json(self.stats.as_json())

    def reset(self) -> None:
        with self.lock:
            self.stats = ProxyStats()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK would add ~40 ms to every response.
    disable_nagle_algorithm = True
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None
        self._counted = False

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self._upstream is not None:
                self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            self._control(body)
            return
        if not self._counted:  # control calls are not client connections
            self._counted = True
            self.server.count_connection()
        operation = operation_of(self.headers.get(TARGET_HEADER))
        detail = detail_of(operation, body)
        if self.server.delay_s > 0:
            time.sleep(self.server.delay_s)
        started = time.perf_counter()
        try:
            status, reason, headers, payload = self._forward(body)
        except OSError as exc:
            self.server.record(operation, detail, time.perf_counter() - started, 0, False)
            self._reply(502, {"error": f"upstream unreachable: {exc}"})
            return
        self.server.record(operation, detail, time.perf_counter() - started, len(payload), status < 500)
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            reused = self._upstream is not None
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(
                    self.server.upstream_host, self.server.upstream_port, timeout=120
                )
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                payload = response.read()
                if response.will_close:
                    self._upstream.close()
                    self._upstream = None
                return response.status, response.reason, response.getheaders(), payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A pooled upstream connection the server had closed: open a new one once.
                self._upstream.close()
                self._upstream = None
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _control(self, body: bytes) -> None:
        name = self.path[len(CONTROL_PREFIX) :].split("?", 1)[0]
        if name == "stats":
            self._reply(200, self.server.snapshot().as_json())
        elif name == "reset" and self.command == "POST":
            self.server.reset()
            self._reply(200, {"ok": True})
        elif name == "delay" and self.command == "POST":
            self.server.delay_s = float(json.loads(body or b"{}")["delay_ms"]) / 1000.0
            self._reply(200, {"delay_ms": self.server.delay_s * 1000.0})
        else:
            self._reply(404, {"error": f"unknown control path {self.path}"})

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LatencyProxy:
    """The proxy in a thread of this process (tests; the benchmark runs it in its own process)."""

    def __init__(self, upstream: str, delay_ms: float = DEFAULT_DELAY_MS, port: int = 0) -> None:
        self._server = _ProxyServer((LOOPBACK, port), upstream, delay_ms)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LatencyProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="latency-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ProxyControl:
    """Reads and resets a proxy's counts, in this process or another, over its control paths."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = None if data is None else json.dumps(data).encode("utf-8")
        method = "GET" if name == "stats" else "POST"
        request = urllib.request.Request(
            f"{self.url}{CONTROL_PREFIX}{name}",
            data=payload or (b"" if method == "POST" else None),
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def stats(self) -> ProxyStats:
        return ProxyStats.from_json(self._call("stats"))

    def reset(self) -> None:
        self._call("reset", {})

    def set_delay(self, delay_ms: float) -> None:
        self._call("delay", {"delay_ms": delay_ms})


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes (the parent process ended) or the process is terminated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="http://host:port of the DynamoDB server")
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = LatencyProxy(args.upstream, args.delay_ms, args.port).start()
    print(json.dumps({"url": proxy.url}), flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
