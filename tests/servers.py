"""Real DynamoDB-compatible servers for the integration tests.

Two independent implementations answer over real HTTP on 127.0.0.1: moto's server
(in a thread of the test process) and dynalite (Node.js, in a subprocess). Running
the same suite against both catches code that only works because one of them is
lenient: dynalite validates requests more strictly than moto.

Both servers are session-scoped (starting them is the slow part); the
function-scoped fixtures hand each test an empty server. Loaded by
``tests/conftest.py`` as a pytest plugin; test modules import the helpers with
``from servers import dynamodb_client, create_galileo_table``.

Dynalite needs Node.js and ``npm install`` at the project root. Without them the
dynalite tests are skipped with the reason, except under CI (``CI=true``), where a
missing second implementation is a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DYNALITE_CLI = PROJECT_ROOT / "node_modules" / "dynalite" / "cli.js"
DYNALITE_WRAPPER = Path(__file__).resolve().parent / "dynalite_server.js"
LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
# How long a table stays CREATING/DELETING/UPDATING in dynalite: long enough that
# code waiting for ACTIVE is exercised, short enough to keep the suite fast.
DYNALITE_STATE_MS = 50
START_DEADLINE_S = 20.0
STOP_DEADLINE_S = 10.0
ENDPOINT_KINDS = ("moto-server", "dynalite")


@dataclass(frozen=True)
class Server:
    """A running server: which implementation it is and where it listens."""

    kind: str
    url: str


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (for servers that cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def in_ci() -> bool:
    """CI must run every implementation: a missing one fails there instead of skipping."""
    return os.environ.get("CI") == "true"


def dynamodb_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client for a test server, with dummy credentials.

    Retries are few and timeouts short so that a dead server fails a test quickly
    instead of hanging it.
    """
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


def create_galileo_table(client: Any, table: str, index: str = "GSI1") -> None:
    """Create the chat table in the web app's shape and wait until it is ACTIVE.

    The project's own ``table_admin.create_table``, so the tests run on the same
    code as ``galileio-desktop table create``.
    """
    from galileio_desktop.data.dynamo.table_admin import create_table

    create_table(client, table, index)


def _table_status(client: Any, table: str) -> str | None:
    try:
        return str(client.describe_table(TableName=table)["Table"]["TableStatus"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def wait_for_table(client: Any, table: str, status: str | None, deadline_s: float = 30.0) -> None:
    """Poll until the table has ``status`` (None: until it is gone).

    botocore's waiters sleep a whole second between checks; dynalite switches
    state after a few milliseconds, so polling briefly keeps each test fast.
    """
    deadline = time.monotonic() + deadline_s
    while (current := _table_status(client, table)) != status:
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {table} is still {current}, not {status}, after {deadline_s:.0f} s")
        time.sleep(0.02)


def wait_for_port(
    host: str, port: int, deadline_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until something accepts TCP connections on host:port.

    Raises RuntimeError when the deadline passes or ``process`` exits first.
    """
    deadline = time.monotonic() + deadline_s
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server process exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listened on {host}:{port} within {deadline_s:.0f} s") from None
            time.sleep(0.05)


# --- moto's server -----------------------------------------------------------


class MotoServer:
    """moto's server in a thread of this process, on a free loopback port."""

    kind = "moto-server"

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        # One log line per request would drown the useful output of a failing test.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        self.url = ""

    def start(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        log.info("moto server listening at %s", self.url)
        return self

    def reset(self) -> None:
        """Forget every resource of every service (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"moto reset answered HTTP {response.status}")

    def stop(self) -> None:
        self._server.stop()


# --- dynalite ----------------------------------------------------------------


def dynalite_missing_reason() -> str | None:
    """Why dynalite cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (dynalite, the second DynamoDB implementation, runs on it)"
    if not DYNALITE_CLI.is_file():
        return "the npm package dynalite is not installed: run `npm install` at the project root"
    return None


class DynaliteServer:
    """dynalite (in-memory) in a Node.js subprocess on a free loopback port."""

    kind = "dynalite"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, attempts: int = 3) -> DynaliteServer:
        """Start it; retried on another port if the free port was taken meanwhile."""
        error: Exception | None = None
        for _ in range(attempts):
            port = free_port()
            try:
                self._spawn(port)
                self.url = f"http://{LOOPBACK}:{port}"
                log.info("dynalite listening at %s", self.url)
                return self
            except RuntimeError as exc:
                error = exc
                self.stop()
        log_text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        raise RuntimeError(f"dynalite did not start: {error}\n{log_text}")

    def _spawn(self, port: int) -> None:
        command = [
            "node",
            str(DYNALITE_WRAPPER),  # keeps serving when a killed client aborts a request
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--createTableMs",
            str(DYNALITE_STATE_MS),
            "--deleteTableMs",
            str(DYNALITE_STATE_MS),
            "--updateTableMs",
            str(DYNALITE_STATE_MS),
        ]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                env={**os.environ, "DYNALITE_CLI": str(DYNALITE_CLI)},
            )
        wait_for_port(LOOPBACK, port, START_DEADLINE_S, self._process)

    def reset(self) -> None:
        """Delete every table and wait until each is gone (dynalite has no reset call)."""
        client = dynamodb_client(self.url)
        names: list[str] = []
        for page in client.get_paginator("list_tables").paginate():
            names.extend(page["TableNames"])
        for name in names:
            try:
                client.delete_table(TableName=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in (
                    "ResourceNotFoundException",
                    "ResourceInUseException",
                ):
                    raise
        for name in names:
            wait_for_table(client, name, None)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_DEADLINE_S)


# --- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server over real HTTP for the whole session; use moto_endpoint in tests."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: MotoServer) -> str:
    """URL of moto's server, emptied of every resource before the test."""
    moto_server.reset()
    return moto_server.url


@pytest.fixture(scope="session")
def dynalite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynaliteServer]:
    """dynalite for the whole session; skipped (failed under CI) when it cannot run here."""
    reason = dynalite_missing_reason()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI must run the dynalite suite, but {reason}", pytrace=False)
        pytest.skip(reason)
    server = DynaliteServer(tmp_path_factory.mktemp("dynalite") / "dynalite.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dynalite_endpoint(dynalite_server: DynaliteServer) -> str:
    """URL of dynalite, with no tables left from earlier tests."""
    dynalite_server.reset()
    return dynalite_server.url


@pytest.fixture(params=ENDPOINT_KINDS, ids=ENDPOINT_KINDS)
def dynamodb_endpoint(request: pytest.FixtureRequest) -> str:
    """URL of an empty DynamoDB server; the test runs once on each implementation.

    The servers are looked up lazily so that selecting only ``moto-server`` tests
    (``-k moto-server``) never starts Node.js.
    """
    if request.param == "moto-server":
        return str(request.getfixturevalue("moto_endpoint"))
    return str(request.getfixturevalue("dynalite_endpoint"))
