"""A network that lies: every fault of :mod:`fault_proxy` crossed with push, pull,
reconcile, opening a chat, deleting a chat and storing an answer, over real HTTP to a
real DynamoDB implementation.

Each case runs the operation through the broken network (one library, as one run of
the app, with a short deadline), heals the network, then syncs with a fresh library (the
app started again). Whatever the fault, the invariants hold: the faulted run ended with
an "unreachable" error (exit code 3) within its deadline; nothing queued was lost or
written twice; nothing in the mirror was wiped; and after the sync the mirror equals
the server, attribute for attribute.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import DAMAGING, FAULTS, FaultProxy
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, WebApp, by_key

from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.sync import ChatLibrary

pytestmark = pytest.mark.integration

#: The deadline of a faulted run (seconds) and the slack allowed past it.
DEADLINE_S = 2.0
SLACK_S = 3.0


class World:
    """A server, a proxy in front of it, the web app writing directly, and the mirror."""

    def __init__(self, endpoint: str, folder: Path) -> None:
        self.admin = dynamodb_client(endpoint)
        create_galileo_table(self.admin, TABLE)
        self.web = WebApp(self.admin)
        self.proxy = FaultProxy(endpoint).start()
        self.mirror = folder / "mirror.sqlite3"

    def library(self, deadline: float | None = None) -> ChatLibrary:
        def factory() -> ChatGateway:
            client = make_dynamodb_client("us-east-1", self.proxy.url)
            return ChatGateway(client, TABLE, USER, max_workers=4)

        library = ChatLibrary(self.mirror, USER, factory)
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


@pytest.fixture
def world(moto_endpoint: str, tmp_path: Path) -> Iterator[World]:
    w = World(moto_endpoint, tmp_path)
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
    library.add_message(chat.chat_id, "human", "an offline note", [])
    library.add_message(
        chat.chat_id, "ai", "an offline answer", [{"pageContent": "cited", "metadata": {"p": 1}}]
    )
    library.rename_chat("web-chat-0", "Renamed offline")
    expected["chats"] = {
        chat.chat_id: "Written offline",
        "web-chat-0": "Renamed offline",
        "web-chat-1": "Earlier 1",
    }
    expected["contents"] = {
        "an offline note",
        "an offline answer",
        "question 0",
        "answer 0",
        "question 1",
        "answer 1",
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
        if operation == "open-chat":
            op_open(world, library, expected)
        library.pull(reconcile=True)
        assert (result.pending, result.parked) == (0, 0)
        remote = world.web.items()
        # the mirror is the server, attribute for attribute
        assert by_key(library.remote_snapshot()) == by_key(remote)
        shown = {v.chat.chat_id: v.chat.title for v in library.list_chats()}
        assert shown == expected["chats"]
        for chat_id in shown:
            library.open_chat(chat_id)
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
