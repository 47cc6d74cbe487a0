"""Pull: first sync, incremental syncs and their request counts, reconcile, offline reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_sync_support import USER, Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.sync import ChatLibrary


@pytest.fixture
def web(ddb: Any) -> WebApp:
    return WebApp(ddb)


@pytest.fixture
def device(ddb: Any, tmp_path: Path) -> tuple[ChatLibrary, Faults]:
    client = fast_client()
    faults = Faults(client)
    lib = open_device(tmp_path / "device.sqlite3", client)
    yield lib, faults
    lib.close()


def web_history(web: WebApp, chats: int = 3, exchanges: int = 2) -> list[str]:
    ids = []
    for c in range(chats):
        chat_id = f"chat-{c}"
        web.create_chat(chat_id, f"Chat number {c}")
        for e in range(exchanges):
            web.add_message(chat_id, f"q-{c}-{e}", "human", f"question {c}.{e}")
            web.add_message(
                chat_id,
                f"a-{c}-{e}",
                "ai",
                f"answer {c}.{e} about zebras",
                [f"src {c}.{e}.0", f"src {c}.{e}.1"],
            )
        ids.append(chat_id)
    return ids


def test_first_sync_mirrors_everything_attribute_for_attribute(
    device: tuple[ChatLibrary, Faults], web: WebApp
) -> None:
    lib, faults = device
    web_history(web)
    result = lib.sync()
    assert result.pull.reconciled and result.pull.requests == 1  # one page holds it all
    assert by_key(lib.remote_snapshot()) == by_key(web.items())
    assert lib.remote_snapshot()[0]  # non-empty
    chat = lib.get_chat("chat-1").chat
    assert chat.extra["webOnly"] == {
        "M": {"model": {"S": "galileo-large"}, "tags": {"L": [{"S": "a"}, {"N": "2"}]}}
    }
    texts = [v.message.content for v in lib.list_messages("chat-1")]
    assert texts == ["question 1.0", "answer 1.0 about zebras", "question 1.1", "answer 1.1 about zebras"]
    assert [s.page_content for s in lib.list_sources("a-1-1")] == ["src 1.1.0", "src 1.1.1"]
    assert lib.list_messages("chat-1")[1].message.extra["data"] == {"M": {"additional_kwargs": {"M": {}}}}


def test_a_second_sync_with_nothing_changed_costs_one_request_per_recent_chat(
    device: tuple[ChatLibrary, Faults], web: WebApp
) -> None:
    lib, faults = device
    web_history(web, chats=5)
    lib.sync()
    lib.open_chat("chat-0")
    lib.open_chat("chat-3")
    before = faults.count()
    result = lib.sync()
    assert faults.count() - before == 1 + 2 == result.pull.requests
    assert (result.pull.changed, result.pull.removed, result.push.requests) == (0, 0, 0)
    print(f"no-change sync: {result.pull.requests} requests (1 chat list + 2 recently opened chats)")


def test_reconcile_reads_every_page(device: tuple[ChatLibrary, Faults], web: WebApp) -> None:
    lib, faults = device
    web.create_chat("big", "Big")
    for i in range(25):
        web.add_message("big", f"m{i:02d}", "human", f"{i} " + "x" * 90_000)  # ~11 a 1 MB page
    result = lib.pull(reconcile=True)
    assert result.reconciled and result.requests == faults.count("Query") == 3
    assert lib.count_messages("big") == 25
    print(f"reconcile of 26 items / 2.3 MB: {result.requests} requests")


def test_a_failed_or_partial_reconcile_deletes_nothing(
    device: tuple[ChatLibrary, Faults], web: WebApp
) -> None:
    lib, faults = device
    web.create_chat("big", "Big")
    for i in range(25):
        web.add_message("big", f"m{i:02d}", "human", f"{i} " + "x" * 90_000)
    web.create_chat("small", "Small")
    lib.sync()
    web.delete_message("m03")
    web.delete_chat("small")
    faults.fail_after["Query"] = 1  # the first page arrives, the second never does
    with pytest.raises(EndpointUnreachable):
        lib.pull(reconcile=True)
    assert {v.chat.chat_id for v in lib.list_chats()} == {"big", "small"}
    assert lib.count_messages("big") == 25
    faults.clear()
    result = lib.pull(reconcile=True)
    assert result.removed == 2
    assert {v.chat.chat_id for v in lib.list_chats()} == {"big"} and lib.count_messages("big") == 24
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_web_app_changes_appear_after_a_sync(device: tuple[ChatLibrary, Faults], web: WebApp) -> None:
    lib, faults = device
    web_history(web, chats=3)
    lib.sync()
    lib.open_chat("chat-0")
    web.create_chat("chat-new", "Brand new")
    web.rename_chat("chat-1", "Renamed in the browser")
    web.delete_chat("chat-2")
    web.add_message("chat-0", "a-new", "ai", "fresh answer", ["fresh source"])
    result = lib.sync()
    assert not result.pull.reconciled
    titles = {v.chat.chat_id: v.chat.title for v in lib.list_chats()}
    assert titles == {"chat-0": "Chat number 0", "chat-1": "Renamed in the browser", "chat-new": "Brand new"}
    assert lib.list_messages("chat-0")[-1].message.content == "fresh answer"
    assert [s.page_content for s in lib.list_sources("a-new")] == ["fresh source"]
    # 1 chat list + 1 consistent read proving chat-2 gone + 1 opened chat + 1 sources of the new answer
    assert result.pull.requests == 4
    # the new chat's messages come when it is opened
    web.add_message("chat-new", "q-new", "human", "asked in the browser")
    lib.open_chat("chat-new")
    assert [v.message.content for v in lib.list_messages("chat-new")] == ["asked in the browser"]
    # deletions of single messages are found by the reconcile
    web.delete_message("a-0-0")
    lib.pull(reconcile=True)
    assert "a-0-0" not in {v.message.message_id for v in lib.list_messages("chat-0")}
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_absence_from_the_index_alone_deletes_nothing(
    device: tuple[ChatLibrary, Faults], web: WebApp
) -> None:
    lib, faults = device
    web_history(web, chats=2)
    lib.sync()
    faults.gsi_lag.add("CHAT#chat-1")  # the index has not caught up with chat-1
    result = lib.sync()
    assert result.pull.removed == 0 and faults.count("GetItem") == 1
    assert {v.chat.chat_id for v in lib.list_chats()} == {"chat-0", "chat-1"}


def test_offline_every_synced_chat_lists_opens_and_searches(tmp_path: Path, ddb: Any, web: WebApp) -> None:
    web_history(web, chats=3)
    path = tmp_path / "device.sqlite3"
    client = fast_client()
    faults = Faults(client)
    with open_device(path, client) as lib:
        lib.sync()
    faults.down = True
    faults.calls.clear()
    with open_device(path, client) as lib:  # the endpoint is unreachable now
        assert len(lib.list_chats()) == 3
        lib.open_chat("chat-2")  # cached: no network needed
        assert [v.message.content for v in lib.list_messages("chat-2")][0] == "question 2.0"
        assert [s.page_content for s in lib.list_sources("a-2-0")] == ["src 2.0.0", "src 2.0.1"]
        assert {h.message_id for h in lib.search("zebras")} == {
            f"a-{c}-{e}" for c in range(3) for e in range(2)
        }
        with pytest.raises(EndpointUnreachable):
            lib.sync()
    with ChatLibrary(path, USER) as offline:  # no connection configured at all
        assert len(offline.list_chats()) == 3 and offline.search("src 1.1.1")
    assert faults.count() == 1  # only the failed sync tried the network
