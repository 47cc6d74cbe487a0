"""Many new remote items into the mirror at once: a page of a Query, a chat opened.

:func:`items.put_remote` records one item at a time, and the full-text index's insert
trigger then indexes it with one FTS5 statement each, which is most of the cost of
writing a page (2,000 messages: ~0.16 s of index updates one by one, ~0.02 s as one
statement). Here the items the mirror has never seen, of chats without pending
operations (whose view needs no overlay), are inserted with one statement and indexed
with one more (and each chat's activity, see ``migrations._v5``, updated once), inside
the caller's write transaction; the insert triggers are set aside for those statements
and put back, word for word, before the transaction ends, so no other writer ever meets
the table without them. Every other item goes through
:func:`items.put_remote` as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..schema import TypedItem
from . import items
from .codec import dumps, key_of_item
from .migrations import ACTIVITY_INSERT_TRIGGER, activity_upsert

#: The full-text index's insert trigger (schema v3).
INSERT_TRIGGER = "item_text_insert"
#: Insert triggers set aside while a page is inserted, their work then done in bulk.
BULK_TRIGGERS = (INSERT_TRIGGER, ACTIVITY_INSERT_TRIGGER)
_MARKS = ", ".join("?" * len(BULK_TRIGGERS))
#: Below this many new items, one at a time costs about the same.
MIN_BULK = 50
_CHUNK = 500


def put_remote_many(
    conn: sqlite3.Connection, found: Sequence[TypedItem], seq: int, op_chats: set[str]
) -> int:
    """Record items as the server has them (inside a write transaction); returns how many
    changed the mirror. ``op_chats``: the chats with outbox rows (see ``put_remote``)."""
    keys = [key_of_item(item) for item in found]
    existing = _existing_sks(conn, [k.sk for k in keys])
    fresh: list[tuple[object, ...]] = []
    others: list[TypedItem] = []
    for item, key in zip(found, keys, strict=True):
        if key.chat_id and key.chat_id not in op_chats and key.sk not in existing:
            existing.add(key.sk)
            fresh.append((key.sk, key.kind, key.chat_id, key.message_id, key.created_at, dumps(item), seq))
        else:
            others.append(item)
    if len(fresh) < MIN_BULK:
        return sum(items.put_remote(conn, item, seq, op_chats) for item in found)
    # The new items first: a source without a chat id finds its message among them.
    changed = _insert_indexed(conn, fresh)
    return changed + sum(items.put_remote(conn, item, seq, op_chats) for item in others)


def _existing_sks(conn: sqlite3.Connection, sks: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(sks), _CHUNK):
        chunk = sks[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(str(r[0]) for r in conn.execute(f"SELECT sk FROM item WHERE sk IN ({marks})", chunk))
    return found


def _insert_indexed(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> int:
    stored = {
        str(name): str(sql)
        for name, sql in conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({_MARKS})",
            BULK_TRIGGERS,
        )
    }
    last = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM item").fetchone()[0])
    for name in stored:
        conn.execute(f"DROP TRIGGER {name}")
    try:
        conn.executemany(
            "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote, seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if INSERT_TRIGGER in stored:
            conn.execute(
                "INSERT INTO search_index(rowid, text) SELECT id, text FROM item_text WHERE id > ?", (last,)
            )
        if ACTIVITY_INSERT_TRIGGER in stored:
            chats = conn.execute(
                "SELECT DISTINCT chat_id FROM item WHERE id > ? AND kind IN ('CHAT', 'MESSAGE') AND chat_id != ''",
                (last,),
            )
            conn.executemany(activity_upsert(":chat"), [{"chat": row[0]} for row in chats])
    finally:
        for sql in stored.values():
            conn.execute(sql)
    return len(rows)
