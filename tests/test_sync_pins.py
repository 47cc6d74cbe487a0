"""Pinned chats: the ``pinnedAt`` attribute on the web app's chat item, queued, pushed,
pulled by a second device, kept by the web app's rename, and read safely whatever
another writer stored there (see galileio_desktop/data/pins.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, Clock, Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.cli.main import run
from galileio_desktop.data.errors import NotFound
from galileio_desktop.data.mirror import items, migrations
from galileio_desktop.data.mirror.outbox import PIN_CHAT
from galileio_desktop.data.pins import PINNED_AT, PinChange, pin_time
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.data.timestamps import LATEST_MS

#: The chat item's attributes as the web app writes them (WebApp adds ``webOnly``).
WEB_APP_CHAT_ATTRIBUTES = {
    "PK",
    "SK",
    "GSI1PK",
    "GSI1SK",
    "chatId",
    "title",
    "createdAt",
    "userId",
    "entity",
    "webOnly",
}


@pytest.fixture
def web(ddb: Any) -> WebApp:
    return WebApp(ddb)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def devices(ddb: Any, tmp_path: Path, clock: Clock) -> tuple[ChatLibrary, ChatLibrary, Faults]:
    client_a = fast_client()
    faults = Faults(client_a)
    a = open_device(tmp_path / "a.sqlite3", client_a, clock)
    b = open_device(tmp_path / "b.sqlite3", fast_client(), clock)
    yield a, b, faults
    a.close()
    b.close()


def web_chat(web: WebApp, a: ChatLibrary, b: ChatLibrary, chat_id: str = "web-1") -> dict[str, Any]:
    item = web.create_chat(chat_id, "Quarterly numbers")
    a.sync()
    b.sync()
    return item


def pinned_ids(library: ChatLibrary) -> list[str]:
    return [v.chat.chat_id for v in library.list_chats() if v.pinned]


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"N": "1700000000000"}, 1_700_000_000_000),
        ({"N": "1700000000000.7"}, 1_700_000_000_000),
        (None, None),
        ({"S": "1700000000000"}, None),
        ({"S": "yes"}, None),
        ({"BOOL": True}, None),
        ({"M": {"at": {"N": "5"}}}, None),
        ({"N": "-5"}, None),
        ({"N": "0"}, None),
        ({"N": "1e125"}, None),
        ({"N": "NaN"}, None),
        ({"N": "12", "S": "12"}, None),
        ("1700000000000", None),
    ],
)
def test_only_a_time_reads_as_a_pin(value: Any, expected: int | None) -> None:
    assert pin_time(value) == expected


def test_a_damaged_pin_change_is_refused_in_words() -> None:
    assert PinChange.from_payload({"pinned": True, "at": 5}) == PinChange(True, 5)
    for payload in (
        {},
        {"pinned": "yes", "at": 5},
        {"pinned": True, "at": "5"},
        {"pinned": True, "at": -1},
        [],
    ):
        with pytest.raises(ValueError, match="pin change"):
            PinChange.from_payload(payload)


# -- local ----------------------------------------------------------------------------------


def test_a_pin_shows_at_once_and_lists_first(tmp_path: Path, clock: Clock) -> None:
    with ChatLibrary(tmp_path / "m.sqlite3", USER, None, clock=clock) as library:
        old = library.create_chat("old")
        newer = library.create_chat("newer")
        assert [v.chat.chat_id for v in library.list_chats()] == [newer.chat_id, old.chat_id]
        library.pin_chat(old.chat_id, True)
        views = library.list_chats()
        assert [v.chat.chat_id for v in views] == [old.chat_id, newer.chat_id]
        assert views[0].pinned and views[0].pinned_at == clock.now and not views[1].pinned
        assert views[0].as_json()["pinned"] is True and views[0].as_json()["pinnedAt"] == clock.now
        library.pin_chat(old.chat_id, True)  # already pinned: nothing new queued
        library.pin_chat(old.chat_id, False)  # not sent yet: the same queued change
        library.pin_chat(old.chat_id, True)
        assert [op.kind for op in library.status().operations].count(PIN_CHAT) == 1
        with pytest.raises(NotFound):
            library.pin_chat("no-such-chat", True)


def test_the_first_screen_holds_a_pinned_chat_however_old(tmp_path: Path, clock: Clock) -> None:
    with ChatLibrary(tmp_path / "m.sqlite3", USER, None, clock=clock) as library:
        oldest = library.create_chat("oldest")
        for n in range(30):
            library.create_chat(f"chat {n}")
        library.pin_chat(oldest.chat_id, True)
        first_screen = library.list_chats(limit=5)
        assert len(first_screen) == 5
        assert first_screen[0].chat.chat_id == oldest.chat_id and first_screen[0].pinned
        assert len({v.chat.chat_id for v in library.list_chats(limit=40)}) == 31


def test_pinned_chats_are_found_through_their_index(tmp_path: Path) -> None:
    with ChatLibrary(tmp_path / "m.sqlite3", USER, None) as library:
        library.pin_chat(library.create_chat("a").chat_id, True)
    conn = sqlite3.connect(tmp_path / "m.sqlite3")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT id FROM item INDEXED BY item_pinned WHERE {migrations.PINNED_CHAT_ROWS}"
            )
        )
        assert "item_pinned" in plan
        assert [r.item["title"]["S"] for r in items.pinned_chats(conn)] == ["a"]
    finally:
        conn.close()


# -- pushed and pulled ----------------------------------------------------------------------------


def test_a_pin_reaches_the_second_device_and_keeps_the_web_app_item(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, faults = devices
    original = web_chat(web, a, b)
    a.pin_chat("web-1", True)
    faults.calls.clear()
    a.sync()
    assert "UpdateItem" in faults.calls and "PutItem" not in faults.calls
    stored = web.chats()["web-1"]
    assert set(stored) == WEB_APP_CHAT_ATTRIBUTES | {PINNED_AT}
    assert {k: v for k, v in stored.items() if k != PINNED_AT} == original  # nothing else changed
    assert pin_time(stored[PINNED_AT]) == a.get_chat("web-1").pinned_at
    b.sync()
    assert pinned_ids(b) == ["web-1"] and b.get_chat("web-1").pinned_at == a.get_chat("web-1").pinned_at
    assert by_key(a.remote_snapshot()) == by_key(b.remote_snapshot()) == by_key(web.items())
    # unpinned on the second device: the item is the web app's again, exactly
    b.pin_chat("web-1", False)
    b.sync()
    a.sync()
    assert web.chats()["web-1"] == original
    assert pinned_ids(a) == pinned_ids(b) == []


def test_the_web_app_rename_keeps_the_pin(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, _ = devices
    web_chat(web, a, b)
    a.pin_chat("web-1", True)
    a.sync()
    web.rename_chat("web-1", "Renamed in the browser")  # the web app's own UpdateItem
    a.sync()
    b.sync()
    for device in (a, b):
        view = device.get_chat("web-1")
        assert view.pinned and view.chat.title == "Renamed in the browser"
    # and our rename keeps it too
    b.rename_chat("web-1", "Renamed here")
    b.sync()
    assert PINNED_AT in web.chats()["web-1"] and web.chats()["web-1"]["title"] == {"S": "Renamed here"}


def test_an_offline_pin_is_queued_and_sent_later(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, faults = devices
    web_chat(web, a, b)
    faults.down = True
    a.pin_chat("web-1", True)
    assert a.push(retry_now=True).error and a.status().pending == 1
    assert a.get_chat("web-1").pinned and PINNED_AT not in web.chats()["web-1"]
    faults.down = False
    result = a.sync()
    assert (result.pending, result.parked) == (0, 0)
    b.sync()
    assert pinned_ids(b) == ["web-1"]


def test_a_pin_whose_answer_was_lost_is_written_once(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, faults = devices
    web_chat(web, a, b)
    a.pin_chat("web-1", True)
    faults.lose_writes = 1
    assert a.push(retry_now=True).error and faults.lost == ["UpdateItem"]
    at = a.get_chat("web-1").pinned_at
    result = a.sync()  # the replay meets its own pin time: settled, nothing parked
    assert (result.pending, result.parked) == (0, 0)
    assert pin_time(web.chats()["web-1"][PINNED_AT]) == at
    assert by_key(a.remote_snapshot()) == by_key(web.items())


def test_a_later_pin_beats_an_earlier_unpin_whichever_arrives_last(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp, clock: Clock
) -> None:
    a, b, _ = devices
    web_chat(web, a, b)
    a.pin_chat("web-1", True)
    a.sync()
    b.sync()
    b.pin_chat("web-1", False)  # made first, sent last
    clock.advance(60_000)
    a.pin_chat("web-1", False)
    a.sync()
    clock.advance(60_000)
    a.pin_chat("web-1", True)  # the latest change of all
    a.sync()
    result = b.sync()
    assert (result.pending, result.parked) == (0, 0)
    a.sync()
    assert pinned_ids(a) == pinned_ids(b) == ["web-1"]
    assert by_key(a.remote_snapshot()) == by_key(b.remote_snapshot()) == by_key(web.items())


def test_a_pin_never_brings_back_a_deleted_chat(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, _ = devices
    web_chat(web, a, b)
    a.pin_chat("web-1", True)
    web.delete_chat("web-1")
    result = a.sync()
    assert result.push.dropped == 1 and (result.pending, result.parked) == (0, 0)
    assert web.items() == [] and a.list_chats() == []


# -- hostile values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"S": "pinned"},
        {"M": {"at": {"N": "1"}}},
        {"N": "-1700000000000"},
        {"N": "1e125"},
        {"BOOL": True},
        {"L": [{"N": "1"}]},
    ],
    ids=["string", "map", "negative", "huge", "bool", "list"],
)
def test_any_pinned_at_another_writer_stored_is_survived(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp, value: dict[str, Any]
) -> None:
    a, b, _ = devices
    web_chat(web, a, b)
    web.client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": USER}, "SK": {"S": "CHAT#web-1"}},
        UpdateExpression="SET pinnedAt = :v",
        ExpressionAttributeValues={":v": value},
    )
    a.sync()
    view = a.get_chat("web-1")
    assert view is not None and not view.pinned and "pinnedAt" not in view.as_json()
    a.rename_chat("web-1", "renamed")  # our other writes leave it as it is
    a.sync()
    assert web.chats()["web-1"][PINNED_AT] == value
    assert by_key(a.remote_snapshot()) == by_key(web.items())
    a.pin_chat("web-1", True)  # the user's pin replaces it
    result = a.sync()
    assert (result.pending, result.parked) == (0, 0)
    assert pin_time(web.chats()["web-1"][PINNED_AT]) == a.get_chat("web-1").pinned_at
    b.sync()
    assert pinned_ids(b) == ["web-1"]


def test_an_unpin_removes_a_hostile_value_too(
    devices: tuple[ChatLibrary, ChatLibrary, Faults], web: WebApp
) -> None:
    a, b, _ = devices
    web_chat(web, a, b)
    a.pin_chat("web-1", True)
    a.sync()
    web.client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": USER}, "SK": {"S": "CHAT#web-1"}},
        UpdateExpression="SET pinnedAt = :v",
        ExpressionAttributeValues={":v": {"N": str(LATEST_MS * 10)}},  # beyond year 9999
    )
    b.sync()
    assert pinned_ids(b) == []
    a.pin_chat("web-1", False)  # a still shows it pinned (not synced): the unpin goes out
    result = a.sync()
    assert (result.pending, result.parked) == (0, 0)
    assert PINNED_AT not in web.chats()["web-1"]


# -- over HTTP, on moto's server and on dynalite ------------------------------------------------


@pytest.mark.integration
def test_a_pinned_chat_stays_pinned_on_a_second_device(dynamodb_endpoint: str, tmp_path: Path) -> None:
    web = WebApp(dynamodb_client(dynamodb_endpoint))
    create_galileo_table(web.client, TABLE)
    original = web.create_chat("web-1", "From the web app")
    web.create_chat("web-2", "Another one")
    client_a = fast_client(dynamodb_endpoint)
    faults = Faults(client_a)
    with (
        open_device(tmp_path / "a.sqlite3", client_a) as a,
        open_device(tmp_path / "b.sqlite3", fast_client(dynamodb_endpoint)) as b,
    ):
        a.sync()
        b.sync()
        faults.down = True
        a.pin_chat("web-1", True)  # offline: queued
        assert a.push(retry_now=True).error and [v.chat.chat_id for v in a.list_chats()][0] == "web-1"
        faults.down = False
        assert a.sync().pending == 0
        web.rename_chat("web-1", "Renamed in the browser")
        b.sync()
        assert pinned_ids(b) == ["web-1"] and [v.chat.chat_id for v in b.list_chats()][0] == "web-1"
        stored = web.chats()["web-1"]
        assert {k: v for k, v in stored.items() if k not in (PINNED_AT, "title")} == {
            k: v for k, v in original.items() if k != "title"
        }
        assert stored["title"] == {"S": "Renamed in the browser"}
        b.pin_chat("web-1", False)
        b.sync()
        a.sync()
        assert pinned_ids(a) == pinned_ids(b) == []
        assert PINNED_AT not in web.chats()["web-1"]
        assert by_key(a.remote_snapshot()) == by_key(b.remote_snapshot()) == by_key(web.items())


@pytest.mark.integration
def test_chats_pin_and_unpin_from_the_command_line(
    dynamodb_endpoint: str, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = WebApp(dynamodb_client(dynamodb_endpoint))
    create_galileo_table(web.client, TABLE)
    original = web.create_chat("web-1", "From the web app")
    web.create_chat("web-2", "Newer")

    def cli(*args: str) -> tuple[int, Any]:
        code = run(
            ["--endpoint-url", dynamodb_endpoint, "--table", TABLE, "--user-id", USER]
            + ["--data-dir", str(data_dir), "--json", *args]
        )
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    code, pinned = cli("chats", "pin", "web-1")
    assert code == 0 and pinned["pinned"] is True and pinned["pending"] is False
    assert pin_time(web.chats()["web-1"][PINNED_AT]) == pinned["pinnedAt"]
    code, listed = cli("chats", "list")
    assert [c["chatId"] for c in listed] == ["web-1", "web-2"] and listed[0]["pinned"] is True
    code, unpinned = cli("chats", "unpin", "web-1")
    assert code == 0 and unpinned["pinned"] is False and "pinnedAt" not in unpinned
    assert web.chats()["web-1"] == original
    assert cli("chats", "pin", "no-such-chat")[0] == 5


def test_a_damaged_pin_row_is_not_carried_into_a_recovered_mirror() -> None:
    from galileio_desktop.data.mirror import recovery

    def row(payload: str) -> tuple:
        values = {
            "op_id": 1,
            "kind": PIN_CHAT,
            "chat_id": "c1",
            "message_id": "",
            "payload": payload,
            "created": 5,
            "not_before": 0,
            "attempts": 0,
            "next_attempt": 0,
            "state": "pending",
            "error": None,
            "error_kind": None,
            "sending": 0,
            "doubt": 0,
        }
        return tuple(values[name] for name in recovery._OUTBOX_COLUMNS)

    assert recovery._usable(row(json.dumps({"pinned": True, "at": 5})))
    assert not recovery._usable(row(json.dumps({"pinned": "yes", "at": 5})))
    assert not recovery._usable(row(json.dumps({"title": "a rename's payload"})))
