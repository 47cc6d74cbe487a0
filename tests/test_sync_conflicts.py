"""Conflicts between two devices of one user and the web app (DESIGN.md section 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_sync_support import Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.sync import ChatLibrary


@pytest.fixture
def web(ddb: Any) -> WebApp:
    return WebApp(ddb)


@pytest.fixture
def devices(ddb: Any, tmp_path: Path) -> tuple[ChatLibrary, ChatLibrary]:
    a = open_device(tmp_path / "a.sqlite3", fast_client())
    b = open_device(tmp_path / "b.sqlite3", fast_client())
    yield a, b
    a.close()
    b.close()


def shared_chat(a: ChatLibrary, b: ChatLibrary, title: str = "shared") -> str:
    chat = a.create_chat(title)
    a.add_message(chat.chat_id, "human", "first words")
    a.sync()
    b.sync()
    return chat.chat_id


def test_delete_beats_rename(devices: tuple[ChatLibrary, ChatLibrary], web: WebApp) -> None:
    a, b = devices
    chat_id = shared_chat(a, b)
    a.rename_chat(chat_id, "renamed offline")  # not pushed yet
    b.delete_chat(chat_id)
    b.sync()
    result = a.sync()
    assert result.push.dropped == 1 and result.pending == 0 and result.parked == 0
    assert a.list_chats() == [] and b.list_chats() == [] and web.items() == []


def test_delete_beats_new_messages_and_the_chat_never_comes_back(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp
) -> None:
    a, b = devices
    chat_id = shared_chat(a, b)
    unsent = a.add_message(chat_id, "human", "written while the chat was being deleted")
    web.delete_chat(chat_id)
    result = a.sync()
    assert result.push.parked == 1 and web.items() == []  # not resurrected
    [ghost] = a.list_chats()
    assert ghost.chat.chat_id == chat_id and ghost.unsent == 1
    assert ghost.parked_error and "deleted" in ghost.parked_error
    # the ghost still shows what the mirror holds; only a reconcile proves the rest gone
    assert unsent.message_id in {v.message.message_id for v in a.list_messages(chat_id)}
    a.pull(reconcile=True)
    [view] = a.list_messages(chat_id)
    assert (
        view.message.message_id == unsent.message_id
        and view.unsent_reason
        and "deleted" in view.unsent_reason
    )
    a.sync()
    assert web.items() == []
    assert by_key(a.remote_snapshot()) == {}
    # deleting the ghost settles it for good
    a.delete_chat(chat_id)
    a.sync()
    assert a.list_chats() == [] and a.status().parked == 0 and web.items() == []


def test_a_message_that_arrived_first_is_deleted_with_its_chat(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp
) -> None:
    a, b = devices
    chat_id = shared_chat(a, b)
    b.delete_chat(chat_id)  # queued on b
    a.add_message(chat_id, "ai", "pushed before the delete", [{"pageContent": "s", "metadata": {}}])
    a.sync()
    assert len(web.messages()) == 2
    b.sync()
    a.sync()
    assert web.items() == [] and a.list_chats() == [] and b.list_chats() == []


def test_two_renames_converge_on_the_last_one(devices: tuple[ChatLibrary, ChatLibrary], web: WebApp) -> None:
    a, b = devices
    chat_id = shared_chat(a, b)
    a.rename_chat(chat_id, "from a")
    b.rename_chat(chat_id, "from b")
    a.sync()
    b.sync()  # the last rename to reach DynamoDB
    a.sync()
    titles = {
        a.get_chat(chat_id).chat.title,
        b.get_chat(chat_id).chat.title,
        web.chats()[chat_id]["title"]["S"],
    }
    assert titles == {"from b"}


def test_a_web_app_rename_and_a_device_rename_converge(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp
) -> None:
    a, b = devices
    chat_id = shared_chat(a, b)
    web.rename_chat(chat_id, "from the browser")
    a.rename_chat(chat_id, "from a")
    a.sync()
    b.sync()
    assert a.get_chat(chat_id).chat.title == b.get_chat(chat_id).chat.title == "from a"
    web.rename_chat(chat_id, "browser again")
    a.sync()
    b.sync()
    assert a.get_chat(chat_id).chat.title == b.get_chat(chat_id).chat.title == "browser again"


def test_an_unknown_attribute_survives_a_rename_from_here(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp
) -> None:
    a, b = devices
    web.create_chat("c1", "from the web")
    a.sync()
    a.rename_chat("c1", "renamed here")
    a.sync()
    stored = web.chats()["c1"]
    assert stored["title"] == {"S": "renamed here"} and stored["webOnly"]["M"]["model"] == {
        "S": "galileo-large"
    }
    assert by_key(a.remote_snapshot()) == by_key(web.items())


def test_a_delete_in_the_undo_window_loses_to_nothing_written_later_elsewhere(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp
) -> None:
    """B writes into a chat A is deleting (Undo window open): A's delete still wins."""
    a, b = devices
    chat_id = shared_chat(a, b)
    op = a.delete_chat(chat_id, not_before_ms=a._clock() - 1)
    b.add_message(chat_id, "human", "late arrival")
    b.sync()
    a.sync()
    assert a.status().pending == 0 and a.cancel(op) is False
    b.sync()
    assert web.items() == [] and b.list_chats() == []


def test_faults_do_not_change_the_outcome(
    devices: tuple[ChatLibrary, ChatLibrary], web: WebApp, tmp_path: Path
) -> None:
    a, b = devices
    client = fast_client()
    faults = Faults(client)
    c = open_device(tmp_path / "c.sqlite3", client)
    try:
        chat_id = shared_chat(a, c)
        faults.lose_writes = 10
        c.add_message(chat_id, "human", "one")
        for _ in range(12):
            c.push(retry_now=True)
        assert c.status().pending == 0 and len(web.messages()) == 2
    finally:
        c.close()
