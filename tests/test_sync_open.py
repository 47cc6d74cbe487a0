"""Opening a chat not yet mirrored: messages first in big pages, the answers' sources after,
and deletes that use the sources the mirror knows instead of asking again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from test_sync_support import USER, Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.sync import ChatLibrary, puller


class Device:
    def __init__(self, path: Path) -> None:
        self.client = fast_client()
        self.faults = Faults(self.client)
        self.lib = open_device(path, self.client)
        self.query_threads: list[str] = []
        self.client.meta.events.register("provide-client-params.dynamodb.Query", self._note_thread)

    def _note_thread(self, **_: Any) -> None:
        self.query_threads.append(threading.current_thread().name)


@pytest.fixture
def web(ddb: Any) -> WebApp:
    return WebApp(ddb)


@pytest.fixture
def device(ddb: Any, tmp_path: Path) -> Device:
    dev = Device(tmp_path / "device.sqlite3")
    yield dev
    dev.lib.close()


def long_chat(web: WebApp, chat_id: str, exchanges: int, sources: int = 3, text: str = "") -> None:
    web.create_chat(chat_id, f"Chat {chat_id}")
    for e in range(exchanges):
        web.add_message(chat_id, f"{chat_id}-q{e:03d}", "human", f"question {e} {text}")
        web.add_message(
            chat_id, f"{chat_id}-a{e:03d}", "ai", f"answer {e}", [f"src {e}.{i}" for i in range(sources)]
        )


def listed_not_opened(device: Device, web: WebApp, chat_id: str) -> None:
    """The chat is listed by a sync (its messages are not mirrored yet)."""
    device.lib.sync()  # the first sync is a reconcile of an empty partition
    long_chat(web, chat_id, 30)
    device.lib.sync()  # incremental: lists the new chat, does not open it
    assert device.lib.get_chat(chat_id) is not None and device.lib.count_messages(chat_id) == 0


def test_opening_reads_the_messages_only_then_the_sources_concurrently(device: Device, web: WebApp) -> None:
    lib = device.lib
    listed_not_opened(device, web, "long")
    before = len(device.faults.calls)
    lib.open_chat("long")
    # GSI1 only, no sources query first: the newest page of 50, then the other 10 in a page of up to 1 MB
    assert device.faults.calls[before:] == ["Query", "Query"]
    assert lib.count_messages("long") == 60
    assert lib.list_sources("long-a000") == []  # not yet
    before = len(device.faults.calls)
    device.query_threads.clear()
    assert lib.fetch_sources("long") == 30 * 3
    assert device.faults.calls[before:] == ["Query"] * 30  # one per answer, none per question
    assert len(set(device.query_threads)) > 1  # on the gateway's pool, not one after another
    assert [s.page_content for s in lib.list_sources("long-a007")] == ["src 7.0", "src 7.1", "src 7.2"]
    # done once: opening again and fetching again costs nothing
    before = len(device.faults.calls)
    lib.open_chat("long")
    assert lib.fetch_sources("long") == 0 and device.faults.calls[before:] == []
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_a_long_chat_opens_in_1_mb_pages(device: Device, web: WebApp) -> None:
    lib = device.lib
    lib.sync()
    long_chat(web, "big", 12, sources=1, text="x" * 90_000)  # 24 messages, ~1.1 MB of questions
    lib.sync()
    before = len(device.faults.calls)
    lib.open_chat("big")
    assert device.faults.calls[before:] == ["Query", "Query"]
    assert lib.count_messages("big") == 24


def test_a_long_chat_shows_its_newest_page_while_the_older_ones_arrive(device: Device, web: WebApp) -> None:
    lib = device.lib
    lib.sync()
    long_chat(web, "big", 12, sources=1, text="x" * 90_000)  # 24 messages in 2 pages
    long_chat(web, "short", 3)
    lib.sync()
    seen: list[tuple[int, list[str]]] = []

    def first_page() -> None:  # what the window would show at this moment
        seen.append(
            (lib.count_messages("big"), [v.message.message_id for v in lib.list_messages("big", limit=2)])
        )

    lib.open_chat("big", on_first_page=first_page)
    assert len(seen) == 1
    stored, newest = seen[0]
    assert 0 < stored < 24 and newest == ["big-q011", "big-a011"]  # the newest, not all yet
    assert lib.count_messages("big") == 24
    lib.open_chat("short", on_first_page=lambda: seen.append((0, [])))  # one page: no call
    assert len(seen) == 1 and lib.count_messages("short") == 6


def test_the_newest_page_is_read_alone_and_shown_before_the_rest(device: Device, web: WebApp) -> None:
    lib = device.lib
    listed_not_opened(device, web, "long")  # 60 messages
    limits: list[Any] = []
    device.client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: limits.append(params.get("Limit"))
    )
    seen: list[tuple[int, list[str]]] = []

    def first_page() -> None:
        newest = [v.message.message_id for v in lib.list_messages("long", limit=2)]
        seen.append((lib.count_messages("long"), newest))

    lib.open_chat("long", on_first_page=first_page)
    assert limits == [puller.NEWEST_PAGE, None]  # a small page first, then pages of up to 1 MB
    assert seen == [(puller.NEWEST_PAGE, ["long-q029", "long-a029"])]
    assert lib.count_messages("long") == 60
    # Reading the chat again (revalidation, and the answers' sources it fetches) has no limit.
    limits.clear()
    lib.revalidate_chat("long")
    assert limits and set(limits) == {None}


def test_sources_of_a_reconciled_chat_are_read_offline(tmp_path: Path, ddb: Any, web: WebApp) -> None:
    long_chat(web, "old", 4)
    path = tmp_path / "device.sqlite3"
    client = fast_client()
    faults = Faults(client)
    with open_device(path, client) as lib:
        lib.sync()  # a reconcile: messages and sources
    faults.down = True
    faults.calls.clear()
    with open_device(path, client) as lib:
        lib.open_chat("old")
        assert lib.fetch_sources("old") == 0  # nothing missing: no request, no error offline
        assert [s.page_content for s in lib.list_sources("old-a003")] == ["src 3.0", "src 3.1", "src 3.2"]
    assert faults.calls == []


def test_an_interrupted_fetch_keeps_what_it_read(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(puller, "SOURCES_CHUNK", 8)
    lib = device.lib
    listed_not_opened(device, web, "long")
    lib.open_chat("long")
    device.faults.fail_after["Query"] = 8 + 3  # the first chunk arrives whole, the second does not
    with pytest.raises(EndpointUnreachable):
        lib.fetch_sources("long")
    device.faults.clear()
    before = len(device.faults.calls)
    assert lib.fetch_sources("long") == (30 - 8) * 3
    assert device.faults.calls[before:] == ["Query"] * (30 - 8)  # the first 8 are not asked again


def test_a_sync_brings_the_sources_an_open_could_not(device: Device, web: WebApp) -> None:
    lib = device.lib
    listed_not_opened(device, web, "long")
    lib.open_chat("long")
    device.faults.down = True
    with pytest.raises(EndpointUnreachable):
        lib.fetch_sources("long")
    device.faults.clear()
    lib.sync()  # opened lately: kept fresh, including what it misses
    assert [s.page_content for s in lib.list_sources("long-a029")] == ["src 29.0", "src 29.1", "src 29.2"]
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_deleting_a_reconciled_chat_asks_for_no_sources(device: Device, web: WebApp) -> None:
    lib = device.lib
    long_chat(web, "doomed", 20)
    long_chat(web, "kept", 2)
    lib.sync()
    lib.delete_chat("doomed")
    before = len(device.faults.calls)
    assert lib.push().pushed == 1
    sent = device.faults.calls[before:]
    assert sent.count("Query") == 1  # the chat's messages in GSI1; every source key was known
    # every source first (60: 3 batches), then the messages (40: 2 batches), then the chat
    assert sent.count("BatchWriteItem") == 3 + 2 and sent.count("DeleteItem") == 1
    assert {i["chatId"]["S"] for i in web.items()} == {"kept"}
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_questions_not_known_are_still_asked_when_deleting(device: Device, web: WebApp, ddb: Any) -> None:
    """Opened and its answers' sources fetched, not reconciled: the questions' sources are
    unknown, and another writer may have given one a source; it must not be orphaned."""
    lib = device.lib
    listed_not_opened(device, web, "doomed")
    lib.open_chat("doomed")
    lib.fetch_sources("doomed")
    odd = {
        "PK": {"S": USER},
        "SK": {"S": "SOURCE#doomed-q004#0"},
        "sourceId": {"S": "0"},
        "messageId": {"S": "doomed-q004"},
        "chatId": {"S": "doomed"},
        "userId": {"S": USER},
        "entity": {"S": "SOURCE"},
        "pageContent": {"S": "added by a third writer"},
        "createdAt": {"N": "1"},
    }
    ddb.put_item(TableName="galileo-test", Item=odd)
    lib.delete_chat("doomed")
    before = len(device.faults.calls)
    lib.push()
    assert device.faults.calls[before:].count("Query") == 1 + 30  # GSI1, then each question
    assert web.items() == []


def test_what_this_device_wrote_is_known(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("mine")
    for i in range(5):
        lib.add_message(chat.chat_id, "human", f"q{i}")
        lib.add_message(chat.chat_id, "ai", f"a{i}", [{"pageContent": f"p{i}", "metadata": {}}])
    lib.push()
    assert lib.fetch_sources(chat.chat_id) == 0
    lib.delete_chat(chat.chat_id)
    before = len(device.faults.calls)
    lib.push()
    assert device.faults.calls[before:].count("Query") == 1
    assert web.items() == []


def test_deleting_one_known_message_asks_for_nothing(device: Device, web: WebApp) -> None:
    lib = device.lib
    long_chat(web, "c", 2)
    lib.sync()
    lib.delete_message("c", "c-a001")
    before = len(device.faults.calls)
    lib.push()
    assert device.faults.calls[before:] == ["BatchWriteItem", "DeleteItem"]
    assert by_key(lib.remote_snapshot()) == by_key(web.items()) and len(web.items()) == 1 + 3 + 3


def test_a_library_without_a_connection_fetches_nothing_it_has(tmp_path: Path) -> None:
    with ChatLibrary(tmp_path / "offline.sqlite3", USER) as lib:
        chat = lib.create_chat("local")
        lib.add_message(chat.chat_id, "ai", "a", [{"pageContent": "p", "metadata": {}}])
        assert lib.fetch_sources(chat.chat_id) == 0  # pending, not remote: nothing to fetch


def test_the_cli_shows_sources_of_a_chat_it_had_not_opened(
    moto_endpoint: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from servers import create_galileo_table, dynamodb_client

    from galileio_desktop.cli.main import run

    monkeypatch.setenv("GALILEIO_DATA_DIR", str(data_dir))
    client = dynamodb_client(moto_endpoint)
    create_galileo_table(client, "galileo-test")

    def cli(*args: str) -> Any:
        code = run(
            ["--endpoint-url", moto_endpoint, "--table", "galileo-test", "--user-id", USER, "--json", *args]
        )
        assert code == 0
        return json.loads(capsys.readouterr().out)

    assert cli("chats", "list") == []  # the first sync: a reconcile of an empty partition
    WebApp(client).create_chat("later", "Written after the first sync")
    WebApp(client).add_message("later", "later-a0", "ai", "an answer", ["passage one", "passage two"])
    assert [c["chatId"] for c in cli("chats", "list")] == ["later"]  # listed, not opened
    sources = cli("sources", "list", "later", "later-a0")
    assert [s["pageContent"] for s in sources] == ["passage one", "passage two"]
