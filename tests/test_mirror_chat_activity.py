"""Each chat's last activity, kept by triggers (schema v5, skipping rows that cannot
change it since v7): whatever happens to the item rows, the first screen of the chat
list is the one a full computation gives, and so is every chat's stored activity; the
full-text index holds exactly the visible rows' text."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from galileio_desktop.data.mirror import bulk_load, items, migrations

CHATS = ["a", "b", "c", "d"]

KINDS = (
    "chat",
    "message",
    "bulk",
    "hide",
    "move",
    "delete",
    "hide_chat",
    "hide_whole_chat",
    "forget_chat",
    "change_chat",
)


def random_op(rng: random.Random, earliest: int = 0) -> tuple[str, object, object]:
    """One random operation; its times from ``earliest`` to 50 (``move`` to 50 less)."""
    kind = rng.choice(KINDS)
    if kind in ("chat", "message", "bulk"):
        return kind, rng.choice(CHATS), rng.randint(earliest, 50)
    if kind in ("hide_chat", "hide_whole_chat"):
        return kind, rng.choice(CHATS), rng.random() < 0.5
    if kind == "forget_chat":
        return kind, rng.choice(CHATS), rng.random() < 0.5
    if kind == "change_chat":
        return kind, rng.randint(0, 30), rng.choice(CHATS)
    return kind, rng.randint(0, 30), rng.random() < 0.5 if kind == "hide" else rng.randint(earliest, 50)


def reference(conn: sqlite3.Connection) -> list[tuple[str, int | None]]:
    rows = conn.execute(
        "SELECT c.chat_id, (SELECT MAX(m.created_at) FROM item m WHERE m.chat_id = c.chat_id "
        "AND m.kind = 'MESSAGE' AND m.hidden = 0) FROM item c WHERE c.kind = 'CHAT' AND c.hidden = 0"
    ).fetchall()
    rows.sort(key=lambda r: (max(r[1] or 0, created(conn, r[0])), r[0]), reverse=True)
    return [(r[0], r[1]) for r in rows]


def created(conn: sqlite3.Connection, chat_id: str) -> int:
    return int(conn.execute("SELECT created_at FROM item WHERE sk = ?", (f"CHAT#{chat_id}",)).fetchone()[0])


def stored_activity_is_exact(conn: sqlite3.Connection) -> bool:
    """``chat_activity`` holds one row per chat with a chat or message row, and its value
    is the later of the chat row's creation and its newest visible message."""
    stored = set(conn.execute("SELECT chat_id, activity FROM chat_activity"))
    computed = set(
        conn.execute(
            "SELECT chat_id, MAX(COALESCE(MAX(CASE WHEN kind = 'CHAT' THEN created_at END), 0), "
            "COALESCE(MAX(CASE WHEN kind = 'MESSAGE' AND hidden = 0 THEN created_at END), 0)) "
            "FROM item WHERE kind IN ('CHAT', 'MESSAGE') AND chat_id != '' GROUP BY chat_id"
        )
    )
    return stored == computed


def index_is_exact(conn: sqlite3.Connection) -> bool:
    """FTS5's own check of the index against its content (the visible rows' text)."""
    try:
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    return True


def message_body(serial: int) -> str:
    return json.dumps({"data": {"M": {"content": {"S": f"word{serial % 7} text {serial}"}}}})


def apply(conn: sqlite3.Connection, op: tuple[str, object, object], serial: list[int]) -> None:
    kind, what, value = op
    ids = [r[0] for r in conn.execute("SELECT id FROM item ORDER BY id")]
    pick = ids[int(what) % len(ids)] if ids and isinstance(what, int) else None
    serial[0] += 1
    if kind == "chat":
        body = json.dumps({"chatId": {"S": what}})
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, created_at, remote) VALUES (?, 'CHAT', ?, ?, ?) "
            "ON CONFLICT(sk) DO UPDATE SET created_at = excluded.created_at",
            (f"CHAT#{what}", what, value, body),
        )
    elif kind == "message":
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote) VALUES (?, 'MESSAGE', ?, ?, ?, ?)",
            (f"MESSAGE#m{serial[0]}", what, f"m{serial[0]}", value, message_body(serial[0])),
        )
    elif kind == "bulk":
        rows = [
            (f"MESSAGE#b{serial[0]}-{i}", "MESSAGE", what, f"b{serial[0]}-{i}", value + i, message_body(i), 1)
            for i in range(3)
        ]
        bulk_load._insert_indexed(conn, rows)
    elif pick is not None and kind == "hide":
        conn.execute("UPDATE item SET hidden = ? WHERE id = ?", (int(bool(value)), pick))
    elif pick is not None and kind == "move":
        conn.execute("UPDATE item SET created_at = ? WHERE id = ?", (value, pick))
    elif pick is not None and kind == "delete":
        conn.execute("DELETE FROM item WHERE id = ?", (pick,))
    elif kind == "hide_chat":
        conn.execute("UPDATE item SET hidden = ? WHERE sk = ?", (int(bool(value)), f"CHAT#{what}"))
    elif kind == "hide_whole_chat":  # a chat delete queued (or undone), as the overlay does it
        conn.execute("UPDATE item SET hidden = ?, local = NULL WHERE chat_id = ?", (int(bool(value)), what))
    elif kind == "forget_chat":  # a confirmed delete: as items.forget_chat_items, or any order
        if value:
            conn.execute("DELETE FROM item WHERE chat_id = ? AND kind != 'CHAT'", (what,))
        conn.execute("DELETE FROM item WHERE chat_id = ?", (what,))
    elif pick is not None and kind == "change_chat":
        conn.execute("UPDATE item SET chat_id = ? WHERE id = ? AND kind != 'CHAT'", (value, pick))


@pytest.mark.parametrize(
    ("seed", "earliest"),
    [(seed, 0) for seed in range(60)] + [(seed, -50) for seed in range(60, 90)],
)
def test_the_first_screen_matches_a_full_computation(seed: int, earliest: int) -> None:
    """Times before 1970 (``earliest`` below 0) too: another writer's ``createdAt`` may
    be any number, and a chat without visible messages sits at activity 0 above them."""
    rng = random.Random(seed)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    serial = [0]
    conn.execute("BEGIN")
    for _ in range(80):
        op = random_op(rng, earliest)
        apply(conn, op, serial)
        limit = rng.randint(1, len(CHATS))
        fast = [(r.item["chatId"]["S"], r.last_message_at) for r in items.visible_chats(conn, limit)]
        assert fast == reference(conn)[:limit], op
        assert stored_activity_is_exact(conn), op
        assert index_is_exact(conn), op
    conn.execute("COMMIT")
    conn.close()


def test_a_migrated_mirror_starts_with_every_chat_s_activity(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "mirror.sqlite3", isolation_level=None)
    migrations.migrate(conn, target=4)
    for chat_id, at in (("old", 5), ("busy", 1)):
        body = json.dumps({"chatId": {"S": chat_id}})
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, created_at, remote) VALUES (?, 'CHAT', ?, ?, ?)",
            (f"CHAT#{chat_id}", chat_id, at, body),
        )
    conn.execute(
        "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote) "
        "VALUES ('MESSAGE#m1', 'MESSAGE', 'busy', 'm1', 9, '{}')"
    )
    migrations.migrate(conn)
    assert [r.item["chatId"]["S"] for r in items.visible_chats(conn, 2)] == ["busy", "old"]
    assert reference(conn) == [("busy", 9), ("old", None)]
    conn.close()


@pytest.mark.parametrize("change", ["hide", "show", "delete"])
def test_a_chat_row_before_1970_gets_its_activity_when_its_only_message_comes_or_goes(
    change: str,
) -> None:
    """A chat row at -1,000 (another writer's time) whose only message, at -2,000, is
    hidden, shown or deleted: the activity is the floor 0 without a visible message,
    the chat row's time with one. The message is older than the activity, yet its
    change moves it."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    conn.execute(
        "INSERT INTO item(sk, kind, chat_id, created_at, remote) VALUES ('CHAT#a', 'CHAT', 'a', -1000, '{}')"
    )
    conn.execute(
        "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote, hidden) "
        "VALUES ('MESSAGE#m', 'MESSAGE', 'a', 'm', -2000, ?, ?)",
        (message_body(1), int(change == "show")),
    )
    activity = "SELECT activity FROM chat_activity WHERE chat_id = 'a'"
    assert conn.execute(activity).fetchone() == ((0,) if change == "show" else (-1000,))
    if change == "delete":
        conn.execute("DELETE FROM item WHERE sk = 'MESSAGE#m'")
    else:
        conn.execute("UPDATE item SET hidden = ? WHERE sk = 'MESSAGE#m'", (int(change == "hide"),))
    assert conn.execute(activity).fetchone() == ((-1000,) if change == "show" else (0,))
    assert stored_activity_is_exact(conn) and index_is_exact(conn)
    conn.close()
