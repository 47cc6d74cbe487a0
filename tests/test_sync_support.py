"""Tools the sync tests share, and tests that the tools do what they claim.

- :class:`Faults` breaks one boto3 client the way networks break: endpoint down,
  throttling, and a response lost after DynamoDB applied the write. It works through
  botocore's own events, so the code under test runs unchanged.
- :class:`WebApp` writes the table the way the Galileo web app does (its item shapes,
  its access patterns, plus an attribute only it knows), straight through boto3.
- :class:`Device` is one device: a library on a client of its own, with its
  :class:`Faults` and a :class:`Clock` (``conftest.py``'s ``device`` fixture; its
  ``web`` fixture is the :class:`WebApp` on the same table).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.errors import EndpointUnreachable, Throttled
from galileio_desktop.data.schema import Chat
from galileio_desktop.data.sync import ChatLibrary

TABLE = "galileo-test"
USER = "user-a"
REGION = "us-east-1"
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
FAKE_ENDPOINT = "https://dynamodb.us-east-1.amazonaws.com"


def fast_client(endpoint_url: str | None = None) -> Any:
    """A DynamoDB client that never retries by itself: faults reach the code under test."""
    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


class Faults:
    """Network faults for one client, switched on and off by the test."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.down = False
        self.throttle = False
        #: the next N successful writes lose their response (the write stays applied)
        self.lose_writes = 0
        #: every successful write loses its response while this is on
        self.lose_all_writes = False
        #: operation name -> error code answered instead of calling DynamoDB
        self.refuse: dict[str, str] = {}
        #: fail every call of these operations after the first N of them
        self.fail_after: dict[str, int] = {}
        #: sort keys missing from GSI1 query results (an index that lags behind the table)
        self.gsi_lag: set[str] = set()
        self.calls: list[str] = []
        self.lost: list[str] = []
        events = client.meta.events
        events.register_first(
            "before-call.dynamodb", self._before_call, unique_id=f"faults-before-{id(self)}"
        )
        events.register_first("after-call.dynamodb", self._after_call, unique_id=f"faults-after-{id(self)}")
        events.register(
            "before-parameter-build.dynamodb.Query", self._note_index, unique_id=f"faults-ix-{id(self)}"
        )

    def without_transactions(self) -> None:
        """Answer TransactWriteItems as a server without transactions does (dynalite)."""
        self.refuse["TransactWriteItems"] = "UnknownOperationException"

    def clear(self) -> None:
        self.gsi_lag.clear()
        self.down = self.throttle = self.lose_all_writes = False
        self.lose_writes = 0
        self.refuse.clear()
        self.fail_after.clear()

    def count(self, *operations: str) -> int:
        return sum(1 for name in self.calls if not operations or name in operations)

    def _note_index(self, params: Any = None, context: Any = None, **_: Any) -> None:
        if context is not None and isinstance(params, dict):
            context["faults_index"] = params.get("IndexName")

    def _before_call(self, model: Any, **_: Any) -> Any:
        name = model.name
        self.calls.append(name)
        if name in self.fail_after:
            if self.fail_after[name] <= 0:
                raise EndpointConnectionError(endpoint_url=FAKE_ENDPOINT)
            self.fail_after[name] -= 1
        if self.down:
            raise EndpointConnectionError(endpoint_url=FAKE_ENDPOINT)
        code = "ThrottlingException" if self.throttle else self.refuse.get(name)
        if code is None:
            return None
        response = AWSResponse(FAKE_ENDPOINT, 400, {}, None)
        return response, {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {}}

    def _after_call(
        self, model: Any, http_response: Any, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        if model.name == "Query" and self.gsi_lag and (context or {}).get("faults_index") and parsed:
            parsed["Items"] = [i for i in parsed.get("Items", []) if i["SK"]["S"] not in self.gsi_lag]
        lose = self.lose_all_writes or self.lose_writes > 0
        if model.name in WRITE_OPERATIONS and lose and http_response.status_code < 300:
            self.lose_writes = max(0, self.lose_writes - 1)
            self.lost.append(model.name)
            raise ConnectionClosedError(endpoint_url=FAKE_ENDPOINT)


class WebApp:
    """The web app writing its own items straight into the table (no faults)."""

    def __init__(self, client: Any, user: str = USER, clock: Callable[[], int] | None = None) -> None:
        self.client = client
        self.user = user
        self._clock = clock or itertools.count(int(time.time() * 1000)).__next__

    def now(self) -> int:
        return self._clock()

    def create_chat(self, chat_id: str, title: str) -> dict[str, Any]:
        at = self.now()
        item = {
            "PK": {"S": self.user},
            "SK": {"S": f"CHAT#{chat_id}"},
            "GSI1PK": {"S": f"{self.user}#CHAT"},
            "GSI1SK": {"S": str(at)},
            "chatId": {"S": chat_id},
            "title": {"S": title},
            "createdAt": {"N": str(at)},
            "userId": {"S": self.user},
            "entity": {"S": "CHAT"},
            "webOnly": {"M": {"model": {"S": "galileo-large"}, "tags": {"L": [{"S": "a"}, {"N": "2"}]}}},
        }
        self.client.put_item(TableName=TABLE, Item=item)
        return item

    def rename_chat(self, chat_id: str, title: str) -> None:
        self.client.update_item(
            TableName=TABLE,
            Key={"PK": {"S": self.user}, "SK": {"S": f"CHAT#{chat_id}"}},
            UpdateExpression="SET title = :t",
            ExpressionAttributeValues={":t": {"S": title}},
        )

    def add_message(
        self, chat_id: str, message_id: str, kind: str, text: str, sources: list[str] = ()
    ) -> list[dict[str, Any]]:
        at = self.now()
        common = {"chatId": {"S": chat_id}, "userId": {"S": self.user}, "createdAt": {"N": str(at)}}
        written = []
        for index, passage in enumerate(sources):
            source = {
                "PK": {"S": self.user},
                "SK": {"S": f"SOURCE#{message_id}#{index}"},
                "sourceId": {"S": str(index)},
                "messageId": {"S": message_id},
                "entity": {"S": "SOURCE"},
                "pageContent": {"S": passage},
                "metadata": {"M": {"source_location": {"S": f"s3://docs/{index}.pdf"}, "page": {"N": "3"}}},
                **common,
            }
            self.client.put_item(TableName=TABLE, Item=source)
            written.append(source)
        message = {
            "PK": {"S": self.user},
            "SK": {"S": f"MESSAGE#{message_id}"},
            "GSI1PK": {"S": f"{self.user}#CHAT#{chat_id}"},
            "GSI1SK": {"S": str(at)},
            "messageId": {"S": message_id},
            "type": {"S": kind},
            "data": {"M": {"content": {"S": text}, "additional_kwargs": {"M": {}}}},
            "entity": {"S": "MESSAGE"},
            **common,
        }
        self.client.put_item(TableName=TABLE, Item=message)
        return [message, *written]

    def _query(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.query(TableName=TABLE, **params)
            found += page["Items"]
            if "LastEvaluatedKey" not in page:
                return found
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def source_keys(self, message_id: str) -> list[dict[str, Any]]:
        return [
            {"PK": i["PK"], "SK": i["SK"]}
            for i in self._query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
                ExpressionAttributeValues={":pk": {"S": self.user}, ":p": {"S": f"SOURCE#{message_id}#"}},
            )
        ]

    def delete_message(self, message_id: str) -> None:
        for key in self.source_keys(message_id):
            self.client.delete_item(TableName=TABLE, Key=key)
        self.client.delete_item(
            TableName=TABLE, Key={"PK": {"S": self.user}, "SK": {"S": f"MESSAGE#{message_id}"}}
        )

    def delete_chat(self, chat_id: str) -> None:
        messages = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{self.user}#CHAT#{chat_id}"}},
        )
        for message in messages:
            self.delete_message(message["messageId"]["S"])
        self.client.delete_item(TableName=TABLE, Key={"PK": {"S": self.user}, "SK": {"S": f"CHAT#{chat_id}"}})

    def items(self) -> list[dict[str, Any]]:
        """Everything in the user's partition (consistent)."""
        return self._query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": self.user}},
            ConsistentRead=True,
        )

    def chats(self) -> dict[str, dict[str, Any]]:
        return {i["chatId"]["S"]: i for i in self.items() if i["SK"]["S"].startswith("CHAT#")}

    def messages(self) -> dict[str, dict[str, Any]]:
        return {i["messageId"]["S"]: i for i in self.items() if i["SK"]["S"].startswith("MESSAGE#")}


class Clock:
    """A clock the test moves: starts at the real time, never goes back."""

    def __init__(self) -> None:
        self.now = int(time.time() * 1000)

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def open_device(path: Path, client: Any, clock: Callable[[], int] | None = None) -> ChatLibrary:
    """A ChatLibrary as the app builds it, on ``client``."""

    def factory() -> ChatGateway:
        return ChatGateway(client, TABLE, USER, max_workers=2)

    if clock is None:
        return ChatLibrary(path, USER, factory)
    return ChatLibrary(path, USER, factory, clock=clock)


class Device:
    """One device: its library on a mirror file of its own, with the client's faults and
    a clock the test moves (the ``device`` fixture of ``conftest.py`` makes one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.client = fast_client()
        self.faults = Faults(self.client)
        self.clock = Clock()
        self.lib = open_device(path, self.client, self.clock)

    def restart(self) -> None:
        self.lib.close()
        self.lib = open_device(self.path, self.client, self.clock)

    def ops(self) -> list[Any]:
        return self.lib.status().operations

    def doubts(self) -> list[bool]:
        """The in-doubt mark of each queued operation, read from the mirror file."""
        with sqlite3.connect(self.path) as conn:
            return [bool(r[0]) for r in conn.execute("SELECT doubt FROM outbox ORDER BY op_id")]


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["SK"]["S"]: i for i in items}


# -- the tools themselves -----------------------------------------------------------


def test_a_lost_response_leaves_the_write_applied(ddb: Any) -> None:
    client = fast_client()
    faults = Faults(client)
    faults.lose_writes = 1
    gateway = ChatGateway(client, TABLE, USER)
    web = WebApp(ddb)
    web.create_chat("c1", "first")
    with pytest.raises(EndpointUnreachable):
        gateway.create_chat(Chat("c2", USER, "second", 5))
    assert faults.lost == ["PutItem"]
    assert set(web.chats()) == {"c1", "c2"}


def test_down_and_throttled_reach_nothing(ddb: Any) -> None:
    client = fast_client()
    faults = Faults(client)
    gateway = ChatGateway(client, TABLE, USER)
    faults.down = True
    with pytest.raises(EndpointUnreachable):
        gateway.list_chat_items()
    faults.down = False
    faults.throttle = True
    with pytest.raises(Throttled):
        gateway.list_chat_items()
    faults.clear()
    assert gateway.list_chat_items() == []
    assert faults.count("Query") == 3


def test_web_app_delete_removes_the_whole_chat(ddb: Any) -> None:
    web = WebApp(ddb)
    web.create_chat("c1", "t")
    web.add_message("c1", "m1", "human", "q")
    web.add_message("c1", "m2", "ai", "a", ["p0", "p1"])
    assert len(web.items()) == 5
    web.delete_chat("c1")
    assert web.items() == []
