"""The benchmark's DynamoDB: moto's server behind the latency proxy, each in its own process.

Both run as child processes by default, so neither shares the GIL with the code being
measured (moto's request handling is pure Python and would otherwise steal the
measured code's CPU, and the other way round). ``mode="thread"`` runs both in this
process instead, for comparison and for quick tests.

Data sets are loaded through ``direct_url`` (moto itself, no delay, not counted);
the code under test uses ``url`` (the proxy).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from latency_proxy import DEFAULT_DELAY_MS, LOOPBACK, LatencyProxy, ProxyControl, ProxyStats

log = logging.getLogger(__name__)

BENCH_DIR = Path(__file__).resolve().parent
REGION = "us-east-1"
ACCESS_KEY = "bench"
SECRET_KEY = "bench"  # moto accepts any credentials; these are not secrets
START_TIMEOUT_S = 60

_MOTO_CHILD = """
import json, logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address=%r, port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(json.dumps({"url": f"http://{host}:{port}"}), flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()
"""


class _Child:
    """A server in a child process that prints ``{"url": ...}`` and serves until stdin closes."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=BENCH_DIR,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=START_TIMEOUT_S)
            raise RuntimeError(f"server process {args[:2]} exited with code {code} before listening")
        self.url = str(json.loads(line)["url"])

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=15)


class Endpoint:
    """moto plus the latency proxy; a context manager."""

    def __init__(self, delay_ms: float = DEFAULT_DELAY_MS, mode: str = "process") -> None:
        if mode not in ("process", "thread"):
            raise ValueError("mode is 'process' or 'thread'")
        self.mode = mode
        self.delay_ms = delay_ms
        self.direct_url = ""
        self.url = ""
        self._children: list[_Child] = []
        self._moto: Any = None
        self._proxy: LatencyProxy | None = None
        self.control: ProxyControl | None = None

    def start(self) -> Endpoint:
        try:
            if self.mode == "process":
                moto = _Child(["-c", _MOTO_CHILD % LOOPBACK])
                self._children.append(moto)
                self.direct_url = moto.url
                proxy = _Child(
                    ["latency_proxy.py", "--upstream", self.direct_url, "--delay-ms", str(self.delay_ms)]
                )
                self._children.append(proxy)
                self.url = proxy.url
            else:
                from moto.server import ThreadedMotoServer

                logging.getLogger("werkzeug").setLevel(logging.ERROR)
                self._moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
                self._moto.start()
                host, port = self._moto.get_host_and_port()
                self.direct_url = f"http://{host}:{port}"
                self._proxy = LatencyProxy(self.direct_url, self.delay_ms).start()
                self.url = self._proxy.url
        except BaseException:
            self.stop()
            raise
        self.control = ProxyControl(self.url)
        return self

    def stop(self) -> None:
        for child in reversed(self._children):
            child.stop()
        self._children.clear()
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- counting ---------------------------------------------------------------------

    def reset(self) -> None:
        assert self.control is not None
        self.control.reset()

    def stats(self) -> ProxyStats:
        assert self.control is not None
        return self.control.stats()

    def set_delay(self, delay_ms: float) -> None:
        assert self.control is not None
        self.control.set_delay(delay_ms)
        self.delay_ms = delay_ms

    # -- clients ----------------------------------------------------------------------

    def session(self) -> Any:
        import boto3

        return boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def client(self, direct: bool = False) -> Any:
        """A DynamoDB client built as the app builds it (retries, timeouts, pool size)."""
        from galileio_desktop.data.dynamo_client import make_dynamodb_client

        return make_dynamodb_client(REGION, self.direct_url if direct else self.url, self.session())
