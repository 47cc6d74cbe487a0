"""A network that lies: every fault of :mod:`fault_proxy` crossed with push, pull,
reconcile, opening a chat, reading an open chat again, deleting a chat and storing an
answer, over real HTTP to a real DynamoDB implementation, and the same (what the API
can store: no client-written messages) through the deployment's API (its stand-in over
the same table).

Each case runs the operation through the broken network (one library, as one run of
the app, with a short deadline), heals the network, then syncs with a fresh library (the
app started again). Whatever the fault, the invariants hold: the faulted run ended with
an "unreachable" error (exit code 3) within its deadline; nothing queued was lost or
written twice; nothing in the mirror was wiped; and after the sync the mirror equals
the server, attribute for attribute.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fault_proxy import DAMAGING, FAULTS, FaultProxy
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, WebApp, by_key

from galileio_desktop.data.api.gateway import ApiGateway
from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.demo_api import STAGE, ApiStandIn, FixedUser, SigningKey, start_stand_in

pytestmark = pytest.mark.integration

#: The deadline of a faulted run (seconds) and the slack allowed past it.
DEADLINE_S = 2.0
SLACK_S = 3.0
#: The web app's items are this old: older than the index lag the API's reads allow for.
WEB_PAST_MS = 10 * 60 * 1000
API_KEY, API_SECRET = "testing", "testing"


class World:
    """A server, a proxy in front of it, the web app writing directly, and the mirror.

    ``transport`` "api": the proxy stands before the API stand-in over the same table.
    """

    def __init__(self, endpoint: str, folder: Path, transport: str = "dynamodb") -> None:
        self.admin = dynamodb_client(endpoint)
        create_galileo_table(self.admin, TABLE)
        self.web = WebApp(self.admin, clock=itertools.count(int(time.time() * 1000) - WEB_PAST_MS).__next__)
        self.transport = transport
        self.stand_in: ApiStandIn | None = None
        if transport == "api":
            keys = {API_KEY: SigningKey(API_SECRET)}
            self.stand_in = start_stand_in(self.admin, TABLE, "us-east-1", keys, FixedUser(USER))
            endpoint = self.stand_in.url
        self.proxy = FaultProxy(endpoint).start()
        self.mirror = folder / "mirror.sqlite3"

    def gateway(self, url: str | None = None) -> Any:
        """A gateway through the proxy (or straight to ``url``)."""
        if self.stand_in is not None:
            session = boto3.Session(aws_access_key_id=API_KEY, aws_secret_access_key=API_SECRET)
            api_url = url or self.proxy.url + STAGE + "/"
            return ApiGateway(api_url, "us-east-1", session, USER, None, max_workers=4)
        return ChatGateway(
            make_dynamodb_client("us-east-1", url or self.proxy.url), TABLE, USER, max_workers=4
        )

    def served(self) -> list[dict[str, Any]]:
        """Every item of the user as this transport shows it (straight, not through the proxy)."""
        if self.stand_in is None:
            return self.web.items()
        gateway = self.gateway(self.stand_in.url)
        try:
            return [item for page in gateway.iter_partition() for item in page]
        finally:
            gateway.close()

    def library(self, deadline: float | None = None) -> ChatLibrary:
        library = ChatLibrary(self.mirror, USER, self.gateway)
        if deadline is not None:
            library.cancel_token.start_deadline(deadline)
        return library

    def history(self) -> list[str]:
        """Two chats of the web app, mirrored and opened (their messages cached)."""
        chats = []
        for n in range(2):
            chat_id = f"web-chat-{n}"
            self.web.create_chat(chat_id, f"Earlier {n}")
            self.web.add_message(chat_id, f"web-q-{n}", "human", f"question {n}")
            self.web.add_message(
                chat_id, f"web-a-{n}", "ai", f"answer {n}", [f"passage {n}.0", f"passage {n}.1"]
            )
            chats.append(chat_id)
        with self.library() as library:
            library.sync()
            for chat_id in chats:
                library.open_chat(chat_id)
                library.fetch_sources(chat_id)
        return chats

    def close(self) -> None:
        self.proxy.stop()
        if self.stand_in is not None:
            self.stand_in.stop()


@pytest.fixture
def world(moto_endpoint: str, tmp_path: Path) -> Iterator[World]:
    w = World(moto_endpoint, tmp_path)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def api_world(moto_endpoint: str, tmp_path: Path) -> Iterator[World]:
    w = World(moto_endpoint, tmp_path, "api")
    try:
        yield w
    finally:
        w.close()


# -- the operations, each run once through the broken network ---------------------------


def op_push(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    """Writes queued offline (a chat, a message with sources, a rename), then a sync."""
    library.sync()


def prepare_push(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    chat = library.create_chat("Written offline")
    expected["contents"] = {"question 0", "answer 0", "question 1", "answer 1"}
    if world.transport == "dynamodb":  # the API stores only what its own assistant answers
        library.add_message(chat.chat_id, "human", "an offline note", [])
        library.add_message(
            chat.chat_id, "ai", "an offline answer", [{"pageContent": "cited", "metadata": {"p": 1}}]
        )
        expected["contents"] |= {"an offline note", "an offline answer"}
    library.rename_chat("web-chat-0", "Renamed offline")
    expected["chats"] = {
        chat.chat_id: "Written offline",
        "web-chat-0": "Renamed offline",
        "web-chat-1": "Earlier 1",
    }


def prepare_pull(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    world.web.create_chat("web-chat-new", "New on the web")
    world.web.add_message("web-chat-0", "web-q-late", "human", "a late question")
    expected["contents"] = {"question 0", "answer 0", "question 1", "answer 1", "a late question"}
    expected["chats"] = {
        "web-chat-0": "Earlier 0",
        "web-chat-1": "Earlier 1",
        "web-chat-new": "New on the web",
    }


def op_pull(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    library.pull()


def op_reconcile(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    library.pull(reconcile=True)


def prepare_open(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    world.web.create_chat("web-chat-long", "Long")
    for n in range(30):
        world.web.add_message("web-chat-long", f"long-{n}", "ai", f"long answer {n}", [f"p{n}"])
    library.sync()  # listed, not opened: its messages are not in the mirror yet
    expected["chats"] = {"web-chat-0": "Earlier 0", "web-chat-1": "Earlier 1", "web-chat-long": "Long"}
    expected["contents"] = {"question 0", "answer 0", "question 1", "answer 1"} | {
        f"long answer {n}" for n in range(30)
    }


def op_open(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    library.open_chat("web-chat-long")
    library.fetch_sources("web-chat-long")


def prepare_revalidate(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    world.web.delete_message("web-q-0")
    world.web.add_message("web-chat-0", "web-q-new", "human", "a new question")
    expected["chats"] = {"web-chat-0": "Earlier 0", "web-chat-1": "Earlier 1"}
    expected["contents"] = {"answer 0", "question 1", "answer 1", "a new question"}


def op_revalidate(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    library.revalidate_chat("web-chat-0")


def prepare_delete(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    library.delete_chat("web-chat-1")
    expected["chats"] = {"web-chat-0": "Earlier 0"}
    expected["contents"] = {"question 0", "answer 0"}


def prepare_answer(world: World, library: ChatLibrary, expected: dict[str, Any]) -> None:
    sources = [{"pageContent": f"passage {i}", "metadata": {"page": i}} for i in range(30)]
    library.add_message("web-chat-0", "human", "what does it say?")
    library.add_message("web-chat-0", "ai", "it says this [1]", sources)
    expected["chats"] = {"web-chat-0": "Earlier 0", "web-chat-1": "Earlier 1"}
    expected["contents"] = {
        "question 0",
        "answer 0",
        "question 1",
        "answer 1",
        "what does it say?",
        "it says this [1]",
    }


Step = Callable[[World, ChatLibrary, dict[str, Any]], None]
OPERATIONS: dict[str, tuple[Step | None, Step]] = {
    "push": (prepare_push, op_push),
    "pull": (prepare_pull, op_pull),
    "reconcile": (prepare_pull, op_reconcile),
    "open-chat": (prepare_open, op_open),
    "revalidate": (prepare_revalidate, op_revalidate),
    "delete-chat": (prepare_delete, op_push),
    "store-answer": (prepare_answer, op_push),
}


def run_case(world: World, fault: str, operation: str) -> None:
    prepare, run = OPERATIONS[operation]
    world.history()
    expected: dict[str, Any] = {}
    with world.library() as library:
        if prepare is not None:
            prepare(world, library, expected)
        chats_before = {v.chat.chat_id for v in library.list_chats()}
        pending_before = library.status().pending

    world.proxy.set(fault)
    started = time.monotonic()
    with world.library(deadline=DEADLINE_S) as library, pytest.raises(EndpointUnreachable) as failure:
        run(world, library, expected)
    elapsed = time.monotonic() - started
    assert failure.value.exit_code == 3 and failure.value.transient
    assert elapsed < DEADLINE_S + SLACK_S, f"{fault} held {operation} for {elapsed:.1f} s"

    with world.library() as library:
        # nothing wiped, nothing queued lost while the network lied
        assert {v.chat.chat_id for v in library.list_chats()} == chats_before
        status = library.status()
        assert status.parked == 0, [op.error for op in status.operations]
        assert status.pending <= pending_before

    world.proxy.set(None)
    with world.library() as library:
        result = library.sync()
        if operation in ("open-chat", "revalidate"):
            run(world, library, expected)
        if operation == "revalidate":  # read again, before any reconcile
            assert {v.message.content for v in library.list_messages("web-chat-0")} == {
                "answer 0",
                "a new question",
            }
        library.pull(reconcile=True)
        assert (result.pending, result.parked) == (0, 0)
        # the mirror is the server (as the transport shows it), attribute for attribute
        assert by_key(library.remote_snapshot()) == by_key(world.served())
        shown = {v.chat.chat_id: v.chat.title for v in library.list_chats()}
        assert sorted(shown.values()) == sorted(expected["chats"].values())
        if world.transport == "dynamodb":  # the API gives a chat created here its own id
            assert shown == expected["chats"]
        for chat_id in shown:
            library.open_chat(chat_id)
    remote = world.web.items()
    # every write exactly once, every source with its message
    messages = [i for i in remote if i["SK"]["S"].startswith("MESSAGE#")]
    contents = Counter(m["data"]["M"]["content"]["S"] for m in messages)
    assert set(contents) == expected["contents"] and set(contents.values()) == {1}, contents
    message_ids = {m["messageId"]["S"] for m in messages}
    sources = [i for i in remote if i["SK"]["S"].startswith("SOURCE#")]
    assert all(s["SK"]["S"].split("#")[1] in message_ids for s in sources), "an orphaned source"
    if operation == "store-answer":
        [answer] = [m for m in messages if m["data"]["M"]["content"]["S"] == "it says this [1]"]
        assert sum(1 for s in sources if s["messageId"]["S"] == answer["messageId"]["S"]) == 30


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("fault", FAULTS)
def test_a_lying_network_loses_and_wipes_nothing(world: World, fault: str, operation: str) -> None:
    run_case(world, fault, operation)


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op != "store-answer"])
@pytest.mark.parametrize("fault", FAULTS)
def test_a_lying_network_before_the_api_loses_and_wipes_nothing(
    api_world: World, fault: str, operation: str
) -> None:
    """The same through the deployment's API (it cannot store a client's answer)."""
    run_case(api_world, fault, operation)


@pytest.fixture
def dynalite_world(dynalite_endpoint: str, tmp_path: Path) -> Iterator[World]:
    w = World(dynalite_endpoint, tmp_path)
    try:
        yield w
    finally:
        w.close()


@pytest.mark.parametrize("operation", ["push", "store-answer", "delete-chat", "reconcile"])
@pytest.mark.parametrize("fault", ["html", "empty", *DAMAGING])
def test_a_lying_network_on_dynalite(dynalite_world: World, fault: str, operation: str) -> None:
    """The same on the second implementation (no transactions: answers go in batches)."""
    run_case(dynalite_world, fault, operation)
