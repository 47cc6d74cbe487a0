"""The embedded demo: moto's DynamoDB server on loopback, seeded with a demo user's chats.

It lets anyone try the app, the CLI included, with nothing but Python: no AWS account.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .data.errors import GalileioError

log = logging.getLogger(__name__)

DEMO_TABLE = "galileo-demo"
DEMO_REGION = "us-east-1"
DEMO_ACCESS_KEY = "demo"
DEMO_SECRET_KEY = "demo"  # moto accepts any credentials; these are not secrets
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
    import boto3

    return boto3.Session(
        aws_access_key_id=DEMO_ACCESS_KEY,
        aws_secret_access_key=DEMO_SECRET_KEY,
        region_name=DEMO_REGION,
    )


class DemoServer:
    """moto's server in this process, on 127.0.0.1 and a free port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: Any = None
        self.info: DemoInfo | None = None

    def start(self, seed: bool = True) -> DemoInfo:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise GalileioError(
                "The demo needs moto's server: install it with  pip install 'galileio-desktop[demo]'"
            ) from exc
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        try:
            self._server.start()
        except OSError as exc:
            raise GalileioError(
                f"Cannot start the demo endpoint on port {self.port}: {exc.strerror}."
            ) from exc
        host, port = self._server.get_host_and_port()
        seed_data = load_seed()
        self.info = DemoInfo(f"http://{host}:{port}", DEMO_TABLE, str(seed_data["userId"]))
        if seed:
            seed_demo(self.info, seed_data)
        log.info("demo endpoint at %s", self.info.endpoint_url)
        return self.info

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> DemoInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def seed_demo(info: DemoInfo, seed: dict[str, Any] | None = None, now: int | None = None) -> int:
    """Create the table and the demo user's chats; returns the number of items written."""
    from .data.dynamo_client import make_dynamodb_client
    from .data.gateway import ChatGateway
    from .data.schema import Chat, Message, make_sources, now_ms
    from .data.table_admin import create_table

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
