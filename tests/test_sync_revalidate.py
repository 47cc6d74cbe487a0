"""An opened chat read again in the background: what the web app added or deleted shows
or goes, at one request per 1 MB page, and nothing queued here is lost to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_sync_open import long_chat
from test_sync_support import Clock, Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.data.sync.library import FRESH_FOR_MS


class Device:
    def __init__(self, path: Path) -> None:
        self.client = fast_client()
        self.faults = Faults(self.client)
        self.clock = Clock()
        self.lib = open_device(path, self.client, self.clock)

    def calls_of(self, action: Any) -> list[str]:
        before = len(self.faults.calls)
        action()
        return self.faults.calls[before:]


@pytest.fixture
def web(ddb: Any) -> WebApp:
    return WebApp(ddb)


@pytest.fixture
def device(ddb: Any, tmp_path: Path) -> Iterator[Device]:
    dev = Device(tmp_path / "device.sqlite3")
    yield dev
    dev.lib.close()


def opened(device: Device, web: WebApp, chat_id: str = "c", exchanges: int = 5) -> ChatLibrary:
    long_chat(web, chat_id, exchanges)
    lib = device.lib
    lib.sync()  # a first sync reconciles: the chat is whole in the mirror
    lib.open_chat(chat_id)
    return lib


def ids(lib: ChatLibrary, chat_id: str = "c") -> list[str]:
    return [v.message.message_id for v in lib.list_messages(chat_id)]


def test_messages_added_and_deleted_in_the_web_app_show_and_go(device: Device, web: WebApp) -> None:
    lib = opened(device, web)
    results: list[Any] = []
    web.add_message("c", "c-q100", "human", "a new question")
    web.add_message("c", "c-a100", "ai", "a new answer", ["new source"])
    web.delete_message("c-a002")
    web.delete_message("c-q002")
    calls = device.calls_of(lambda: results.append(lib.revalidate_chat("c")))
    # one page of the chat, a consistent read of each message it lacks, the new answer's sources
    assert calls == ["Query", "GetItem", "GetItem", "Query"]
    assert (results[0].changed, results[0].removed) == (2 + 1, 2 + 3)  # items: messages, sources
    assert "c-q002" not in ids(lib) and "c-a002" not in ids(lib)
    assert ids(lib)[-2:] == ["c-q100", "c-a100"]
    assert [s.page_content for s in lib.list_sources("c-a100")] == ["new source"]
    assert lib.list_sources("c-a002") == []
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_with_nothing_changed_it_costs_one_request_per_page(device: Device, web: WebApp) -> None:
    lib = opened(device, web)
    assert device.calls_of(lambda: lib.revalidate_chat("c")) == ["Query"]
    long_chat(web, "big", 12, sources=1, text="x" * 90_000)  # 24 messages in 2 pages of 1 MB
    lib.sync()
    lib.open_chat("big")
    lib.fetch_sources("big")
    device.clock.advance(FRESH_FOR_MS)
    assert device.calls_of(lambda: lib.revalidate_chat("big")) == ["Query", "Query"]


def test_a_message_the_index_has_not_caught_up_with_is_kept(device: Device, web: WebApp) -> None:
    lib = opened(device, web)
    device.faults.gsi_lag.add("MESSAGE#c-a004")  # missing from the index, still in the table
    result = lib.revalidate_chat("c")
    assert result.removed == 0 and "c-a004" in ids(lib)
    assert device.faults.calls[-2:] == ["Query", "GetItem"]
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


def test_queued_changes_and_unsent_messages_survive(device: Device, web: WebApp) -> None:
    lib = opened(device, web)
    device.faults.down = True
    written = lib.add_message("c", "human", "written here, not sent yet")
    lib.delete_message("c", "c-q001")  # queued; the web app deletes it too
    web.delete_message("c-q001")
    web.delete_message("c-a001")
    device.faults.clear()
    result = lib.revalidate_chat("c")
    assert result.removed == 1 + 3  # the answer and its sources; the question is its queued delete's
    assert written.message_id in ids(lib) and "c-q001" not in ids(lib) and "c-a001" not in ids(lib)
    assert lib.status().pending == 2
    lib.sync()
    assert lib.status().pending == 0
    assert by_key(lib.remote_snapshot()) == by_key(web.items())
    assert written.message_id in {i["messageId"]["S"] for i in web.messages().values()}


def test_a_failed_read_drops_nothing(device: Device, web: WebApp) -> None:
    lib = opened(device, web, exchanges=1)
    long_chat(web, "big", 14, sources=1, text="x" * 90_000)  # two pages, with or without q000
    lib.sync()
    lib.open_chat("big")
    lib.fetch_sources("big")
    web.delete_message("big-q000")
    device.faults.fail_after["Query"] = 1  # the first page arrives, the second does not
    with pytest.raises(EndpointUnreachable):
        lib.revalidate_chat("big")
    device.faults.clear()
    assert "big-q000" in ids(lib, "big")
    lib.revalidate_chat("big")
    assert "big-q000" not in ids(lib, "big")


def test_read_again_only_when_not_read_whole_lately(device: Device, web: WebApp) -> None:
    lib = opened(device, web)
    assert device.calls_of(lambda: lib.revalidate_chat("c", fresh_for_ms=FRESH_FOR_MS)) == ["Query"]
    device.clock.advance(FRESH_FOR_MS // 2)
    assert device.calls_of(lambda: lib.revalidate_chat("c", fresh_for_ms=FRESH_FOR_MS)) == []
    assert device.calls_of(lambda: lib.revalidate_chat("c")) == ["Query"]  # after a sync: always
    device.clock.advance(FRESH_FOR_MS)
    assert device.calls_of(lambda: lib.revalidate_chat("c", fresh_for_ms=FRESH_FOR_MS)) == ["Query"]
    # A chat only this device knows so far, and a library without a connection: nothing sent.
    device.faults.down = True
    local = lib.create_chat("Not sent yet")
    assert device.calls_of(lambda: lib.revalidate_chat(local.chat_id)) == []


def test_a_library_without_a_connection_sends_nothing(tmp_path: Path) -> None:
    with ChatLibrary(tmp_path / "offline.sqlite3", "user-a") as lib:
        chat = lib.create_chat("Here")
        assert lib.revalidate_chat(chat.chat_id).requests == 0
