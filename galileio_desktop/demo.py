"""The embedded demo: moto's DynamoDB server on loopback, seeded with a demo user's chats.

It lets anyone try the app, the CLI included, with nothing but Python: no AWS account.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .data.errors import GalileioError, InvalidInput

log = logging.getLogger(__name__)

DEMO_TABLE = "galileo-demo"
DEMO_REGION = "us-east-1"
DEMO_ACCESS_KEY = "demo"
DEMO_SECRET_KEY = "demo"  # moto accepts any credentials; these are not secrets
LOOPBACK = "127.0.0.1"
_NAMESPACE = uuid.UUID("6f1c1c2e-52d0-4cf1-9d3c-5a9d3b2c7e10")


@dataclass(frozen=True)
class DemoInfo:
    endpoint_url: str
    table: str
    user_id: str
    region: str = DEMO_REGION

    def as_json(self) -> dict[str, str]:
        return {"endpointUrl": self.endpoint_url, "table": self.table, "userId": self.user_id}

    def cli_hint(self) -> str:
        return (
            f"AWS_ACCESS_KEY_ID={DEMO_ACCESS_KEY} AWS_SECRET_ACCESS_KEY={DEMO_SECRET_KEY} "
            f"galileio-desktop --endpoint-url {self.endpoint_url} --region {self.region} "
            f"--table {self.table} --user-id {self.user_id} chats list"
        )


def demo_data_path(name: str) -> Path:
    return Path(str(resources.files("galileio_desktop").joinpath("demo_data", name)))


def load_seed() -> dict[str, Any]:
    with open(demo_data_path("chats.json"), encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def demo_documents_dir() -> Path:
    return demo_data_path("documents")


def demo_session() -> Any:
    from .data.aws_sessions import new_boto3_session

    return new_boto3_session(
        aws_access_key_id=DEMO_ACCESS_KEY,
        aws_secret_access_key=DEMO_SECRET_KEY,
        region_name=DEMO_REGION,
    )


#: The ports a server can listen on; 0 asks the system for any free one.
PORT_RANGE = range(0, 65536)


def validate_port(port: int) -> int:
    """``port`` when it is a TCP port (0: any free one), else an :class:`InvalidInput`."""
    if port not in PORT_RANGE:
        raise InvalidInput(f"--port must be between 0 and 65535 (0: any free port), not {port}.")
    return port


class DemoServer:
    """moto's server in this process, on 127.0.0.1 and a free port (or the one given).

    The socket is bound in the caller's thread, so a busy or forbidden port is an error
    at once; moto's own threaded server binds in its thread and then waits forever for a
    readiness that never comes.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = validate_port(port)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.info: DemoInfo | None = None

    def start(self, seed: bool = True) -> DemoInfo:
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ImportError as exc:
            raise GalileioError(
                "The demo needs moto's server: install it with  pip install 'galileio-desktop[demo]'"
            ) from exc
        listener = listen_on(self.port)
        try:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(
                LOOPBACK, self.port, app, True, request_handler=MotoRequestHandler, fd=listener.fileno()
            )
        finally:
            listener.close()  # the server works on its own duplicate of the socket
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-endpoint", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        seed_data = load_seed()
        self.info = DemoInfo(f"http://{host}:{port}", DEMO_TABLE, str(seed_data["userId"]))
        if seed:
            try:
                seed_demo(self.info, seed_data)
            except BaseException:
                self.stop()
                raise
        log.info("demo endpoint at %s", self.info.endpoint_url)
        return self.info

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> DemoInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listen_on(port: int) -> socket.socket:
    """A listening socket on the loopback ``port``, or one line on why not.

    Bound here rather than by werkzeug, which prints its own words and exits the process
    when the port is taken.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":  # as HTTPServer does; never shares a port in use
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise InvalidInput(_bind_problem(port, exc)) from exc
    return listener


def _bind_problem(port: int, exc: OSError) -> str:
    where = f"{LOOPBACK}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Cannot start the demo endpoint on {where}: the port is already in use. "
            "Choose another with --port, or --port 0 for any free one."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"Cannot start the demo endpoint on {where}: permission denied "
            "(ports below 1024 need administrator rights). Choose another with --port."
        )
    return f"Cannot start the demo endpoint on {where}: {exc.strerror or exc}."


def seed_demo(info: DemoInfo, seed: dict[str, Any] | None = None, now: int | None = None) -> int:
    """Create the table and the demo user's chats; returns the number of items written."""
    from .data.dynamo.dynamo_client import make_dynamodb_client
    from .data.dynamo.gateway import ChatGateway
    from .data.dynamo.table_admin import create_table
    from .data.schema import Chat, Message, make_sources, now_ms

    seed = seed or load_seed()
    now = now or now_ms()
    client = make_dynamodb_client(info.region, info.endpoint_url, demo_session())
    create_table(client, info.table)
    gateway = ChatGateway(client, info.table, info.user_id)
    written = 0
    try:
        for chat_data in seed["chats"]:
            created = now - int(chat_data.get("ageMinutes", 0)) * 60_000
            chat = Chat(str(chat_data["chatId"]), info.user_id, str(chat_data["title"]), created)
            gateway.create_chat(chat)
            written += 1
            for index, data in enumerate(chat_data.get("messages", [])):
                message_id = str(uuid.uuid5(_NAMESPACE, f"{chat.chat_id}/{index}"))
                at = created + int(data.get("offsetSeconds", index * 30)) * 1000
                sources = make_sources(info.user_id, chat.chat_id, message_id, data.get("sources", []), at)
                message = Message(message_id, chat.chat_id, info.user_id, data["type"], data["content"], at)
                gateway.put_message(message.with_sources(sources))
                written += 1 + len(sources)
    finally:
        gateway.close()
    return written


def start_demo_api(info: DemoInfo) -> Any:
    """The demo's chats behind a stand-in of the deployment's REST API (``--demo
    --transport api``): signed requests from the demo's credentials, the demo user, and
    answers from the demo documents, stored by the stand-in as a deployment's would."""
    import boto3

    from .data.assistants.local_docs import LocalDocsAssistant
    from .data.assistants.settings import AssistantSettings
    from .data.dynamo.dynamo_client import make_dynamodb_client
    from .demo_api import FixedUser, SigningKey, start_stand_in

    keys = {DEMO_ACCESS_KEY: SigningKey(DEMO_SECRET_KEY)}
    chain = boto3.Session(region_name=info.region).get_credentials()
    if chain is not None:  # the demo session signs with the standard chain when it has one
        frozen = chain.get_frozen_credentials()
        keys[frozen.access_key] = SigningKey(frozen.secret_key, frozen.token)
    settings = AssistantSettings(backend="local-docs", docs_dir=str(demo_documents_dir()))
    index = Path(tempfile.mkdtemp(prefix="galileio-demo-api-")) / "index.sqlite3"
    client = make_dynamodb_client(info.region, info.endpoint_url, demo_session())
    assistant = LocalDocsAssistant(settings, index)
    return start_stand_in(client, info.table, info.region, keys, FixedUser(info.user_id), assistant=assistant)
