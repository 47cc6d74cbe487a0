"""A Galileo website stand-in on 127.0.0.1: it serves ``/runtime-config.json``, or misbehaves.

Tests set :attr:`WebsiteServer.answer` to what the next requests get: a JSON body,
raw bytes with a status and headers, or a behaviour of a bad network (silence, a
byte at a time, a reset in the middle of the body).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass
class Answer:
    """What the server sends for ``/runtime-config.json``."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    #: "silent" (never answers), "drip" (one byte a second), "reset" (closes mid-body).
    behaviour: str = ""


def runtime_config(
    region: str, user_pool_id: str, client_id: str, identity_pool_id: str, **more: Any
) -> dict[str, Any]:
    """A runtime config in the web app's shape (with its own extra keys)."""
    return {
        "apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
        "region": region,
        "identityPoolId": identity_pool_id,
        "userPoolId": user_pool_id,
        "userPoolWebClientId": client_id,
        "dataSovereigntyRisk": False,
        "inferenceBufferedFunctionUrl": "https://xyz.lambda-url.us-east-1.on.aws/",
        **more,
    }


class WebsiteServer:
    """See the module docstring; :attr:`url` is the website's address."""

    def __init__(self) -> None:
        self.answer = Answer(status=404, body=b"not found")
        self.requests: list[str] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                server.requests.append(self.path)
                answer = server.answer if self.path == "/runtime-config.json" else Answer(status=404)
                if answer.behaviour == "silent":
                    server._stop.wait(30)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.behaviour == "drip":
                    for byte in answer.body:
                        if server._stop.wait(1.0):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                if answer.behaviour == "reset":
                    self.wfile.write(answer.body[: len(answer.body) // 2])
                    self.wfile.flush()
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.connection.close()
                    return
                self.wfile.write(answer.body)

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="website", daemon=True)
        self._thread.start()
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def serve_json(self, data: Any) -> None:
        self.answer = Answer(body=json.dumps(data).encode())

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
