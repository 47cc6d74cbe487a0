"""Any value another writer can store is survivable: pull, mirror, list, open, export, window.

Items of every entity in the data contract's shapes (DESIGN.md section 2) with arbitrary
DynamoDB values in any non-key attribute (wrong types, times beyond SQLite's or
``datetime``'s range, negative or fractional times, control and bidi characters, long
text) are written with boto3 into in-process moto beside well-formed items. The library
syncs them, lists, opens and exports every chat in every format, and the window paints
its first screen. Nothing raises, a sync never halts, and the well-formed items come
through unchanged: same chats, same messages, same content.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import _QT_MISSING
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from test_sync_support import TABLE, fast_client, open_device

from galileio_desktop.data import schema
from galileio_desktop.data.export import FORMATS, FORMULA_TRIGGERS, export_chat
from galileio_desktop.data.mirror import bulk_load, items, outbox
from galileio_desktop.data.mirror.codec import key_of_item
from galileio_desktop.data.schema import Chat, Message, decode, key_of, make_sources
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.data.timestamps import (
    EARLIEST_MS,
    LATEST_MS,
    UNKNOWN_DATE,
    iso_utc,
    local_datetime,
    local_text,
    parse_ms,
)

USER = "user-a"  # the partition test_sync_support's devices read
T0 = 1_700_000_000_000
YEAR_10000 = 253_402_300_800_000
ANSI_TITLE = ("\x1b[31;1mALERT\x1b[0m \x1b]0;pwned\x07 " * 200)[:5000]

needs_qt = pytest.mark.skipif(_QT_MISSING is not None, reason=str(_QT_MISSING))


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its own first warnings (decode warns once per item and reason)."""
    monkeypatch.setattr(schema, "_warned", set())


# -- well-formed items ---------------------------------------------------------------------


def good_items(chats: int = 2) -> list[dict[str, Any]]:
    """Chats ``good-c{n}`` with a question and an answer citing two sources, as the web app writes them."""
    found: list[dict[str, Any]] = []
    for n in range(chats):
        chat_id = f"good-c{n}"
        at = T0 + n * 10_000
        found.append(Chat(chat_id, USER, f"Good chat {n}", at).to_item())
        found.append(Message(f"{chat_id}-q", chat_id, USER, "human", f"question {n}", at + 1).to_item())
        answer = Message(f"{chat_id}-a", chat_id, USER, "ai", f"answer **{n}**", at + 2)
        found.append(answer.to_item())
        drafts = [
            {
                "pageContent": f"passage {n}.{i}",
                "metadata": {"source_location": f"s3://docs/{i}.pdf", "page": 3},
            }
            for i in range(2)
        ]
        found += [s.to_item() for s in make_sources(USER, chat_id, answer.message_id, drafts, at + 2)]
    return found


def assert_good_intact(lib: ChatLibrary, chats: int = 2) -> None:
    """The well-formed chats, messages and sources read exactly as written."""
    listed = {v.chat.chat_id: v.chat for v in lib.list_chats()}
    for n in range(chats):
        chat_id = f"good-c{n}"
        assert chat_id in listed, sorted(listed)
        chat = listed[chat_id]
        assert (chat.title, chat.created_at) == (f"Good chat {n}", T0 + n * 10_000)
        assert lib.get_chat(chat_id) is not None
        good = [v.message for v in lib.list_messages(chat_id) if v.message.message_id.startswith("good-")]
        assert [(m.message_id, m.type, m.content) for m in good] == [
            (f"{chat_id}-q", "human", f"question {n}"),
            (f"{chat_id}-a", "ai", f"answer **{n}**"),
        ]
        sources = [s for s in lib.list_sources(f"{chat_id}-a") if s.source_id in ("0", "1")]
        assert [(s.source_id, s.page_content, s.location) for s in sources] == [
            ("0", f"passage {n}.0", "s3://docs/0.pdf"),
            ("1", f"passage {n}.1", "s3://docs/1.pdf"),
        ]


# -- hostile values ------------------------------------------------------------------------

SPECIAL_TEXT = [
    "",
    " ",
    "\u202eevil\u202c",
    "\u202e",
    "\u2069",
    "\u2066\u2067\u2068",
    "\u202b\u202d\u202c\u202c",
    "\x1b[31mred\x1b[0m",
    '=HYPERLINK("http://x")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tindent",
    "\rreturn",
    "line\nbreak\n# Fake heading",
    "\u2028\u2029",
    "`tick``",
    "\x00nul\x7f\x85\x9b",
    "\u05d0\u05d1\u05d2 \u0627\u0644",
    "\ufeff\u200b",
    "http://[broken/url",
    ANSI_TITLE,
]
SPECIAL_NUMBERS = [
    str(YEAR_10000),
    str(10**20),
    str(-(10**20)),
    "-5",
    "1700000000000.5",
    "1e125",
    "-1e125",
    "1E-130",
    "0",
    "-0",
    "9" * 38,
    "253402300799999",
    "-62135596800000",
    "0.000001",
]

texts = st.one_of(st.text(max_size=30), st.sampled_from(SPECIAL_TEXT))
numbers = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    # DynamoDB's range: magnitudes from 1e-130 to 1e126.
    st.floats(min_value=-1e120, max_value=1e120).filter(lambda x: x == 0 or abs(x) > 1e-120).map(repr),
)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=16).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=8), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-(10**20), 10**20), min_size=1, max_size=3, unique=True).map(
        lambda v: {"NS": [str(n) for n in v]}
    ),
    st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}),
)
#: Any DynamoDB attribute value, nested lists and maps included.
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        # Map keys are never empty here: moto answers such a map with malformed JSON
        # (the mirror's own test below takes that malformed form as it comes).
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=6,
)
#: A value of the right type with hostile content, for an attribute of the contract.
RIGHT_TYPE = {
    "title": texts.map(lambda s: {"S": s}),
    "createdAt": numbers.map(lambda n: {"N": n}),
    "updatedAt": numbers.map(lambda n: {"N": n}),
    "type": st.one_of(st.sampled_from(["human", "ai", "system"]), texts).map(lambda s: {"S": s}),
    "data": st.one_of(
        texts.map(lambda s: {"M": {"content": {"S": s}}}),
        values.map(lambda v: {"M": {"content": v}}),
        st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=2).map(lambda d: {"M": d}),
    ),
    "pageContent": texts.map(lambda s: {"S": s}),
    "metadata": st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=3).map(lambda d: {"M": d}),
}
#: GSI key attributes: DynamoDB takes only a non-empty String (or none) for them.
GSI_ATTRS = ("GSI1PK", "GSI1SK")
KEY_ATTRS = ("PK", "SK")


@st.composite
def hostile_item(draw: st.DrawFn, n: int, count: int) -> dict[str, Any]:
    """Item ``n`` of ``count`` hostile ones: a contract shape with any attribute changed."""
    kind = draw(st.sampled_from(["CHAT", "MESSAGE", "SOURCE"]))
    chats = ["good-c0", "good-c1", *(f"bad-c{k}" for k in range(count))]
    at = draw(st.one_of(st.integers(T0 - 10**6, T0 + 10**6), st.sampled_from([YEAR_10000, -5, 0])))
    if kind == "CHAT":
        item = Chat(f"bad-c{n}", USER, f"hostile {n}", at).to_item()
    elif kind == "MESSAGE":
        chat_id = draw(st.sampled_from(chats))
        item = Message(f"bad-m{n}", chat_id, USER, "ai", f"hostile {n}", at).to_item()
    else:
        message_id = draw(st.sampled_from(["good-c0-a", "good-c1-q", *(f"bad-m{k}" for k in range(count))]))
        (source,) = make_sources(USER, "good-c0", message_id, [{"pageContent": f"hostile {n}"}], at)
        item = source.to_item()
        item["SK"] = {"S": f"SOURCE#{message_id}#bad-s{n}"}
        item["sourceId"] = {"S": f"bad-s{n}"}
    for name in [a for a in item if a not in KEY_ATTRS]:
        action = draw(st.sampled_from(["keep", "keep", "drop", "any", "right"]))
        if action == "drop":
            del item[name]
        elif name in GSI_ATTRS:
            if action != "keep":
                item[name] = {"S": draw(st.text(min_size=1, max_size=20))}
        elif action == "any":
            item[name] = draw(values)
        elif action == "right":
            item[name] = draw(RIGHT_TYPE.get(name, values))
    for name in draw(st.lists(st.sampled_from(["webOnly", "stopped", "feedback", "updatedAt"]), max_size=2)):
        item[name] = draw(values)
    return item


@st.composite
def hostile_batches(draw: st.DrawFn, most: int = 8) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=most))
    return [draw(hostile_item(n, count)) for n in range(count)]


# -- the parts under test ----------------------------------------------------------------


def put_all(client: Any, found: list[dict[str, Any]]) -> None:
    for item in found:
        client.put_item(TableName=TABLE, Item=item)


def fresh_table(client: Any) -> None:
    """An empty table on the ``ddb`` fixture's moto, for the next example."""
    from servers import create_galileo_table

    client.delete_table(TableName=TABLE)
    create_galileo_table(client, TABLE)


def read_everything(lib: ChatLibrary, online: bool = True) -> int:
    """List, open (``online``: through the network's open path too), page through and
    export every chat in every format; returns how many chats.

    Every export must be well-formed in its own format, and no CSV cell may start as a
    spreadsheet formula would.
    """
    views = lib.list_chats()
    assert lib.list_chats(limit=3) == views[:3]
    for view in views:
        chat_id = view.chat.chat_id
        opened = lib.get_chat(chat_id)
        assert opened is not None and opened.chat.chat_id == chat_id
        if online:
            lib.open_chat(chat_id)
            lib.fetch_sources(chat_id)
        listed = lib.list_messages(chat_id)
        paged: list[str] = []
        before: int | None = None
        while page := lib.list_messages(chat_id, limit=2, before=before):
            paged = [v.message.message_id for v in page] + paged
            before = page[0].message.created_at
        assert set(paged) <= {v.message.message_id for v in listed}
        messages = [v.message.with_sources(tuple(lib.list_sources(v.message.message_id))) for v in listed]
        for fmt in FORMATS:
            text = export_chat(opened.chat, messages, fmt)
            if fmt == "json":
                document = json.loads(text)
                assert len(document["messages"]) == len(messages)
            elif fmt == "csv":
                rows = list(csv.reader(io.StringIO(text, newline="")))
                assert len(rows) == 1 + sum(1 + len(m.sources) for m in messages)
                risky = [cell for row in rows for cell in row if cell.startswith(FORMULA_TRIGGERS)]
                assert risky == []
            else:
                assert text.startswith("# ") and "\n" not in text.split("\n", 1)[0][2:]
        lib.search(view.chat.title[:20] or "x")
    return len(views)


def sync_and_read(client: Any, path: Path, batch: list[dict[str, Any]]) -> None:
    """A fresh table holding the good items and ``batch``: synced into a new mirror at
    ``path`` (reconcile, incremental, reconcile again), every chat read, opened and
    exported, then an incremental pass over the chats just opened (their messages)."""
    for item in batch:
        note(repr(item)[:2000])
    fresh_table(client)
    put_all(client, good_items() + batch)
    with open_device(path, fast_client()) as lib:
        lib.sync()
        lib.pull(reconcile=False)  # the incremental pass over the same items
        lib.pull(reconcile=True)
        assert read_everything(lib) >= 2
        lib.pull(reconcile=False)  # every chat is recently opened now: its messages are read
        assert_good_intact(lib)


# -- focused cases: the values the window and sync were seen to fail on -------------------


def done_when_items() -> list[dict[str, Any]]:
    """Chats whose createdAt (and whose message's) are year 10000, 10^20, -5 and
    1700000000000.5, and a chat with a 5,000-character title full of ANSI escapes."""
    found = []
    for name, raw in (
        ("y10000", str(YEAR_10000)),
        ("huge", str(10**20)),
        ("neg", "-5"),
        ("frac", "1700000000000.5"),
    ):
        chat = Chat(f"bad-{name}", USER, f"Chat {name}", T0).to_item()
        message = Message(f"bad-{name}-m", f"bad-{name}", USER, "human", f"said at {name}", T0).to_item()
        for item in (chat, message):
            item["createdAt"] = {"N": raw}
            item["GSI1SK"] = {"S": raw}
        found += [chat, message]
    found.append(Chat("bad-title", USER, ANSI_TITLE, T0 + 5).to_item())
    return found


def test_done_when_values_sync_list_open_and_export(ddb: Any, tmp_path: Path) -> None:
    put_all(ddb, good_items() + done_when_items())
    with open_device(tmp_path / "m.sqlite3", fast_client()) as lib:
        first = lib.sync()
        assert first.pull.reconciled
        lib.sync()
        lib.pull(reconcile=False)
        assert read_everything(lib) == 2 + 5
        assert_good_intact(lib)
        chats = {v.chat.chat_id: v.chat for v in lib.list_chats()}
        assert chats["bad-y10000"].created_at == LATEST_MS
        assert chats["bad-huge"].created_at == LATEST_MS
        assert chats["bad-neg"].created_at == -5
        assert chats["bad-frac"].created_at == T0
        assert chats["bad-title"].title == ANSI_TITLE  # kept whole in the mirror
        assert [v.message.content for v in lib.list_messages("bad-huge")] == ["said at huge"]

        def export(chat_id: str, fmt: str) -> str:
            messages = [v.message for v in lib.list_messages(chat_id)]
            return export_chat(chats[chat_id], messages, fmt)

        assert "_Created unknown date_" in export("bad-y10000", "md")
        assert "## You (unknown date)" in export("bad-huge", "md")
        assert "_Created 1969-12-31T23:59:59+00:00_" in export("bad-neg", "md")
        assert "2023-11-14T22:13:20+00:00" in export("bad-frac", "csv")
        rows = list(csv.reader(io.StringIO(export("bad-huge", "csv"), newline="")))
        assert rows[1][3] == UNKNOWN_DATE
        assert json.loads(export("bad-title", "json"))["chat"]["title"] == ANSI_TITLE


def test_the_mirror_keeps_the_raw_item_and_bounds_only_its_index(ddb: Any, tmp_path: Path) -> None:
    put_all(ddb, done_when_items())
    with open_device(tmp_path / "m.sqlite3", fast_client()) as lib:
        lib.sync()
        by_sk = {i["SK"]["S"]: i for i in lib.remote_snapshot()}
        assert by_sk["CHAT#bad-huge"]["createdAt"] == {"N": str(10**20)}  # lossless
        assert by_sk["MESSAGE#bad-frac-m"]["createdAt"] == {"N": "1700000000000.5"}
        with lib._mirror.read() as conn:  # noqa: SLF001 - the indexed column itself
            column = dict(conn.execute("SELECT sk, created_at FROM item"))
        assert column["CHAT#bad-huge"] == column["CHAT#bad-y10000"] == LATEST_MS
        assert column["MESSAGE#bad-neg-m"] == -5
        assert column["MESSAGE#bad-frac-m"] == T0
        # a page asked for before any int at all reads the rows, never overflows SQLite
        assert [v.message.message_id for v in lib.list_messages("bad-huge", limit=5, before=10**30)] == [
            "bad-huge-m"
        ]


def test_a_chat_holding_an_out_of_range_message_opens_after_a_sync(ddb: Any, tmp_path: Path) -> None:
    """A chat that arrives by an incremental sync is fetched when opened: its message's
    time of 10^20 went into the newest-seen mark and failed every open."""
    put_all(ddb, good_items())
    with open_device(tmp_path / "m.sqlite3", fast_client()) as lib:
        lib.sync()
        put_all(ddb, done_when_items())
        lib.sync()  # incremental: the new chats are listed, their messages not read yet
        for name in ("huge", "y10000", "neg", "frac"):
            lib.open_chat(f"bad-{name}")
            assert [v.message.content for v in lib.list_messages(f"bad-{name}")] == [f"said at {name}"]
        ddb.put_item(
            TableName=TABLE, Item=Message("later", "bad-huge", USER, "ai", "later", T0 + 9).to_item()
        )
        lib.sync()  # the opened chat is refreshed: the unknown time did not hide newer messages
        assert "later" in [v.message.content for v in lib.list_messages("bad-huge")]


def test_a_message_added_after_a_year_10000_one_gets_the_current_time(ddb: Any, tmp_path: Path) -> None:
    """Stamping it after the newest message would write year 10000 back to the table."""
    put_all(ddb, done_when_items())
    now = T0 + 123_456
    with open_device(tmp_path / "m.sqlite3", fast_client(), clock=lambda: now) as lib:
        lib.sync()
        added = lib.add_message("bad-y10000", "human", "a reply")
        assert added.created_at == now
        lib.sync()
    stored = ddb.get_item(TableName=TABLE, Key=key_of(added.to_item()), ProjectionExpression="createdAt")
    assert stored["Item"]["createdAt"] == {"N": str(now)}


def test_a_malformed_item_is_skipped_with_one_warning_however_often_it_is_read(
    ddb: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Message("bad-m", "good-c0", USER, "ai", "x", T0 + 3).to_item()
    broken["data"] = {"S": "not a map"}
    put_all(ddb, [*good_items(), broken])
    with open_device(tmp_path / "m.sqlite3", fast_client()) as lib:
        lib.sync()
        with caplog.at_level(logging.WARNING, logger="galileio_desktop.data.schema"):
            for _ in range(3):
                assert "bad-m" not in [v.message.message_id for v in lib.list_messages("good-c0")]
        assert_good_intact(lib)
    warnings = [r for r in caplog.records if "MESSAGE#bad-m" in r.getMessage()]
    assert len(warnings) == 1


def test_ids_come_from_the_sort_key_so_a_neighbour_cannot_shadow_a_chat(ddb: Any, tmp_path: Path) -> None:
    """Another writer's item naming a well-formed chat or message in chatId / messageId
    does not make a second row of it (nor replace its title or content)."""
    impostor_chat = Chat("bad-c", USER, "Impostor title", T0 + 99).to_item()
    impostor_chat["chatId"] = {"S": "good-c0"}
    impostor_message = Message("bad-m", "good-c0", USER, "ai", "impostor", T0 + 99).to_item()
    impostor_message["messageId"] = {"S": "good-c0-q"}
    put_all(ddb, [*good_items(), impostor_chat, impostor_message])
    with open_device(tmp_path / "m.sqlite3", fast_client()) as lib:
        lib.sync()
        assert sorted(v.chat.chat_id for v in lib.list_chats()) == ["bad-c", "good-c0", "good-c1"]
        assert [v.message.message_id for v in lib.list_messages("good-c0")] == [
            "good-c0-q",
            "good-c0-a",
            "bad-m",
        ]
        assert_good_intact(lib)


# -- the hypothesis tests ------------------------------------------------------------------

HOSTILE_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=30, **HOSTILE_SETTINGS)
@given(batch=hostile_batches())
def test_hostile_items_sync_list_open_and_export(ddb: Any, batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sync_and_read(ddb, Path(folder) / "m.sqlite3", batch)


@pytest.mark.slow
@settings(max_examples=400, **HOSTILE_SETTINGS)
@given(batch=hostile_batches(most=16))
def test_hostile_items_sync_list_open_and_export_long(ddb: Any, batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sync_and_read(ddb, Path(folder) / "m.sqlite3", batch)


# -- values no server takes: straight into the mirror, in bulk and one at a time ------------

RAW_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "9" * 5000,
    "",
    "abc",
    " 12 ",
    "1_000",
    "\u0663",
    "\u00b2",
]
raw_values = st.one_of(
    values,
    st.sampled_from(RAW_NUMBERS).map(lambda n: {"N": n}),
    st.sampled_from(RAW_NUMBERS).map(lambda n: {"S": n}),
    st.just({"NS": ["NaN", "1e400", "1"]}),
    st.just({"M": {"n": {"N": "1" * 60}, "m": {"N": "1e-400"}}}),
    # malformed typed values, as a server's broken answer may hold them (moto gives the
    # first two for a map with an empty key)
    st.sampled_from(
        [{"M": {"": False}}, {"M": {"k": "text"}}, {}, {"S": 5}, {"N": None}, {"B": "%%"}, {"B": 5}]
        + [{"L": "x"}, {"M": []}, {"BS": "x"}, {"SS": 3}, {"S": "a", "N": "1"}, "bare", 7, None, [1]]
    ),
)


@st.composite
def refused_items(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Hostile items with values DynamoDB itself refuses (NaN, 1e400, GSI keys of the wrong
    type): the mirror must take them too (a local store, another server, a future format)."""
    batch = draw(hostile_batches(most=6))
    for item in batch:
        for name in draw(st.lists(st.sampled_from(["createdAt", "GSI1SK", "GSI1PK", "metadata", "title"]))):
            item[name] = draw(raw_values)
    return batch


@settings(max_examples=25, **HOSTILE_SETTINGS)
@given(batch=refused_items(), bulk=st.booleans())
def test_values_no_server_takes_still_pass_through_the_mirror(
    batch: list[dict[str, Any]], bulk: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.sqlite3"
        with ChatLibrary(path, USER) as lib:
            for item in batch:
                key_of_item(item)  # never raises
                decode(item)
            mirror = lib._mirror  # noqa: SLF001 - the puller's own path into the mirror
            # Enough fresh items for the bulk statement (bulk_load.MIN_BULK), or one at a time.
            filler = [
                Message(f"fill-{i}", "good-c1", USER, "human", f"filler {i}", T0 + 50 + i).to_item()
                for i in range(bulk_load.MIN_BULK if bulk else 0)
            ]
            with mirror.write() as conn:
                bulk_load.put_remote_many(conn, good_items() + filler + batch, mirror.next_seq(conn), set())
            with mirror.write() as conn:
                for item in batch:
                    items.put_remote(conn, item, mirror.next_seq(conn), outbox.chats_with_ops(conn))
            assert read_everything(lib, online=False) >= 2
            assert_good_intact(lib)


# -- times: parsed, bounded, shown -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000000", T0),
        ("1700000000000.5", T0),
        ("-5", -5),
        ("-5.5", -6),
        (str(YEAR_10000), LATEST_MS),
        (str(10**20), LATEST_MS),
        (str(-(10**20)), EARLIEST_MS),
        ("1e125", LATEST_MS),
        ("1E-130", 0),
        ("9" * 5000, LATEST_MS),
        ("Infinity", LATEST_MS),
        ("-Infinity", EARLIEST_MS),
        ("NaN", None),
        ("", None),
        ("yesterday", None),
        (None, None),
        ({"N": "1"}, None),
        (True, None),
        (1.5, 1),
    ],
)
def test_stored_times_are_floored_and_bounded(raw: object, expected: int | None) -> None:
    assert parse_ms(raw) == expected


@given(st.one_of(st.text(), st.integers(), st.floats(), st.decimals()))
def test_parsing_a_time_never_raises_and_stays_in_bounds(raw: object) -> None:
    ms = parse_ms(raw)
    assert ms is None or EARLIEST_MS <= ms <= LATEST_MS


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_showing_a_time_never_raises(ms: int) -> None:
    text = iso_utc(ms)
    assert text == UNKNOWN_DATE or text.endswith("+00:00")
    assert (local_datetime(ms) is None) == (text == UNKNOWN_DATE) == (local_text(ms) == UNKNOWN_DATE)


def test_the_bounds_read_as_unknown_and_negative_times_as_dates() -> None:
    assert iso_utc(LATEST_MS) == iso_utc(EARLIEST_MS) == UNKNOWN_DATE
    assert iso_utc(LATEST_MS - 1) == "9999-12-31T23:59:59+00:00"
    assert iso_utc(-5) == "1969-12-31T23:59:59+00:00"
    assert iso_utc(T0) == "2023-11-14T22:13:20+00:00"


# -- the window ------------------------------------------------------------------------------


def open_window(qtbot: Any, path: Path, settings_dir: Path) -> Any:
    """The real window on ``path`` (offline), shown until its first chat's messages are painted."""
    from ui_helpers import offline_factory

    from galileio_desktop.ui.app_window import build_window

    window = build_window(offline_factory(path, USER), None, "analyst@example.com", settings_dir)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    window.grab()  # paint every visible part now, offscreen
    assert window.width() < 2000, "a stored value widened the window"
    return window


def show_chat(qtbot: Any, window: Any, chat_id: str) -> None:
    """Open ``chat_id`` from the sidebar (if it is not open) and paint the window."""
    if chat_id != window.sidebar.current_chat_id:
        with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
            assert window.sidebar.select_chat(chat_id)
    window.grab()


def paint_every_chat(qtbot: Any, window: Any) -> list[str]:
    """Open each chat of the sidebar in turn and paint the window; returns the chat ids."""
    model = window.sidebar.model
    chat_ids = [str(model.chat_id_at(r)) for r in range(model.rowCount()) if not model.is_header(r)]
    for chat_id in chat_ids:
        show_chat(qtbot, window, chat_id)
    return chat_ids


@needs_qt
@pytest.mark.gui
def test_the_window_starts_and_shows_every_done_when_chat(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    from galileio_desktop.ui.conversation.message_list_model import MessageRoles
    from galileio_desktop.ui.sidebar.chat_list_model import ChatRoles

    path = tmp_path / "m.sqlite3"
    with ChatLibrary(path, USER) as lib:
        lib.store_remote_items(good_items() + done_when_items())
    window = open_window(qtbot, path, tmp_path / "settings")
    try:
        model = window.sidebar.model
        rows = [str(model.index(r, 0).data()) for r in range(model.rowCount())]
        # Unknown times are listed last, under their own header; -5 is a date (1969).
        assert rows[-3:] == ["Unknown date", "Chat huge", "Chat y10000"] or rows[-3:] == [
            "Unknown date",
            "Chat y10000",
            "Chat huge",
        ]
        index = model.index_of("bad-y10000")
        assert index.data(ChatRoles.TIME_TEXT) == UNKNOWN_DATE
        assert "Last activity unknown date" in index.data(Qt.ItemDataRole.ToolTipRole)
        assert model.index_of("bad-neg").data(ChatRoles.TIME_TEXT) != UNKNOWN_DATE
        assert len(paint_every_chat(qtbot, window)) == 7
        show_chat(qtbot, window, "bad-y10000")
        assert window.pane.model.index(0, 0).data(MessageRoles.TIME_TEXT) == UNKNOWN_DATE
        show_chat(qtbot, window, "bad-title")
        assert "\x1b" not in window.pane.title_label.text() and len(window.pane.title_label.text()) <= 300
        assert window.width() < 2000
    finally:
        window.close()


def _window_example(qtbot: Any, client: Any, batch: list[dict[str, Any]], every_chat: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.sqlite3"
        sync_and_read(client, path, batch)
        window = open_window(qtbot, path, Path(folder) / "settings")
        try:
            if every_chat:
                paint_every_chat(qtbot, window)
        finally:
            window.close()
        with ChatLibrary(path, USER) as lib:
            assert_good_intact(lib)


@needs_qt
@pytest.mark.gui
@settings(max_examples=6, **HOSTILE_SETTINGS)
@given(batch=hostile_batches(most=6))
def test_hostile_items_let_the_window_start(qtbot: Any, ddb: Any, batch: list[dict[str, Any]]) -> None:
    _window_example(qtbot, ddb, batch, every_chat=False)


@needs_qt
@pytest.mark.gui
@pytest.mark.slow
@settings(max_examples=60, **HOSTILE_SETTINGS)
@given(batch=hostile_batches(most=10))
def test_hostile_items_let_the_window_show_every_chat_long(
    qtbot: Any, ddb: Any, batch: list[dict[str, Any]]
) -> None:
    _window_example(qtbot, ddb, batch, every_chat=True)
