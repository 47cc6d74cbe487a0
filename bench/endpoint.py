"""The benchmark's DynamoDB: a local server behind the latency proxy, each in its own process.

Two servers can stand in for DynamoDB:

- **dynalite** (Node.js, the project's second test implementation): it answers a Query
  from a key range, as DynamoDB does, in a few milliseconds whatever the table size.
  The default: installed with ``npm ci`` when it is missing (see :func:`choose_server`).
- **moto** (Python): it answers a Query by sorting and sizing every item of the table,
  which costs ~0.2 s per query on a table of 2,000 items; scenarios with hundreds of
  queries then measure moto, not the client. Kept for comparison (``--server moto``).

The proxy and the server run as child processes by default, so neither shares the GIL
with the code being measured. ``moto_mode="thread"`` runs moto and the proxy in this
process instead, for comparison and for quick tests.

Data sets are loaded through ``direct_url`` (the server itself, no delay, not counted);
the code under test uses ``url`` (the proxy).
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.latency_proxy import DEFAULT_DELAY_MS, LOOPBACK, LatencyProxy, ProxyControl, ProxyStats

log = logging.getLogger(__name__)

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DYNALITE_CLI = PROJECT_ROOT / "node_modules" / "dynalite" / "cli.js"
REGION = "us-east-1"
ACCESS_KEY = "bench"
SECRET_KEY = "bench"  # local servers accept any credentials; these are not secrets
START_TIMEOUT_S = 60
SERVERS = ("dynalite", "moto")

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


#: The one command that installs dynalite (``package-lock.json`` pins it), at the project root.
INSTALL_COMMAND = "npm ci"


def dynalite_available() -> bool:
    return shutil.which("node") is not None and DYNALITE_CLI.is_file()


def default_server() -> str:
    """The stand-in when none is named: dynalite, installed if need be (never moto quietly)."""
    return choose_server(None)


def choose_server(requested: str | None, *, root: Path = PROJECT_ROOT) -> str:
    """The stand-in a run uses: dynalite unless moto is asked for by name.

    A checkout without ``node_modules`` gets dynalite installed (``npm ci``) when npm is
    here; without Node.js or npm, or when the install fails, the run stops with the one
    command to run, rather than measure moto under a report that would then be about moto
    (many times slower on the network scenarios, see above).
    """
    if requested == "moto":
        return "moto"
    if requested not in (None, "dynalite"):
        raise ValueError(f"server is one of {SERVERS}")
    cli = root / DYNALITE_CLI.relative_to(PROJECT_ROOT)
    if shutil.which("node") is None:
        raise SystemExit(
            "The benchmark's DynamoDB stand-in, dynalite, runs on Node.js, which is not installed "
            f"here. Install Node.js 20 or later with npm, then run `{INSTALL_COMMAND}` at the project "
            "root; or run with --server moto to measure against moto instead (much slower)."
        )
    if cli.is_file():
        return "dynalite"
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            f"The benchmark's DynamoDB stand-in, dynalite, is not installed and npm is not here: "
            f"run `{INSTALL_COMMAND}` at the project root (it needs npm), or run with --server moto "
            "to measure against moto instead (much slower)."
        )
    print(f"dynalite (the DynamoDB stand-in) is not installed: running `{INSTALL_COMMAND}` ...", flush=True)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=root, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not cli.is_file():
        raise SystemExit(
            f"`{INSTALL_COMMAND}` at the project root did not install dynalite (exit {done.returncode}):\n"
            f"{(done.stderr or done.stdout)[-2000:]}\nRun it yourself once it can succeed, or run "
            "with --server moto to measure against moto instead (much slower)."
        )
    return "dynalite"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listened on port {port} within {START_TIMEOUT_S} s") from None
            time.sleep(0.05)


class _Child:
    """A server in a child process, stopped by closing its stdin (or terminating it)."""

    def __init__(self, args: list[str], *, python: bool = True, port: int | None = None) -> None:
        command = [sys.executable, *args] if python else args
        self.python = python
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if port is None else subprocess.DEVNULL,
            text=True,
            cwd=BENCH_DIR if python else PROJECT_ROOT,
        )
        try:
            if port is not None:
                _wait_for_port(port, self.process)
                self.url = f"http://{LOOPBACK}:{port}"
                return
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            if not line:
                code = self.process.wait(timeout=START_TIMEOUT_S)
                raise RuntimeError(f"server process {args[:2]} exited with code {code} before listening")
            self.url = str(json.loads(line)["url"])
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            if not self.python:
                process.terminate()  # Node.js servers do not watch their stdin
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=15)


class Endpoint:
    """A DynamoDB server plus the latency proxy; a context manager."""

    def __init__(
        self, delay_ms: float = DEFAULT_DELAY_MS, server: str | None = None, moto_mode: str = "process"
    ) -> None:
        self.server = server or choose_server(None)
        if self.server not in SERVERS:
            raise ValueError(f"server is one of {SERVERS}")
        if moto_mode not in ("process", "thread"):
            raise ValueError("moto_mode is 'process' or 'thread'")
        self.moto_mode = moto_mode
        self.delay_ms = delay_ms
        self.direct_url = ""
        self.url = ""
        self._children: list[_Child] = []
        self._moto: Any = None
        self._proxy: LatencyProxy | None = None
        self.control: ProxyControl | None = None

    @property
    def description(self) -> str:
        if self.server == "dynalite":
            return "dynalite (Node.js, in memory) in a child process; proxy in a child process"
        if self.moto_mode == "process":
            return "moto's server in a child process; proxy in a child process"
        return "moto's server and the proxy in threads of the benchmark process"

    def start(self) -> Endpoint:
        try:
            threaded = self.server == "moto" and self.moto_mode == "thread"
            if self.server == "dynalite":
                port = _free_port()
                self._children.append(
                    _Child(
                        ["node", str(DYNALITE_CLI), "--host", LOOPBACK, "--port", str(port)]
                        + ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"],
                        python=False,
                        port=port,
                    )
                )
                self.direct_url = self._children[-1].url
            elif not threaded:
                self._children.append(_Child(["-c", _MOTO_CHILD % LOOPBACK]))
                self.direct_url = self._children[-1].url
            else:
                from moto.server import ThreadedMotoServer

                logging.getLogger("werkzeug").setLevel(logging.ERROR)
                self._moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
                self._moto.start()
                host, port = self._moto.get_host_and_port()
                self.direct_url = f"http://{host}:{port}"
            if threaded:
                self._proxy = LatencyProxy(self.direct_url, self.delay_ms).start()
                self.url = self._proxy.url
            else:
                proxy_args = [
                    "latency_proxy.py",
                    "--upstream",
                    self.direct_url,
                    "--delay-ms",
                    str(self.delay_ms),
                ]
                self._children.append(_Child(proxy_args))
                self.url = self._children[-1].url
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
        from galileio_desktop.data.aws_sessions import new_boto3_session

        return new_boto3_session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )

    def client(self, direct: bool = False) -> Any:
        """A DynamoDB client built as the app builds it (retries, timeouts, pool size)."""
        from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client

        return make_dynamodb_client(REGION, self.direct_url if direct else self.url, self.session())
