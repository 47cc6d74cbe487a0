"""What the sync engine remembers between runs: per chat and for the whole mirror.

Per chat: when the user last opened it (only chats opened in the last days are
refreshed message by message), the newest message time seen (the incremental pull
asks for newer ones) and whether every message of the chat is in the mirror.
For the mirror: the last successful push, pull and reconcile.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

LAST_SYNC = "last_sync"
LAST_PULL = "last_pull"
LAST_RECONCILE = "last_reconcile"


class ChatSync(NamedTuple):
    """What the sync engine remembers of one chat. A named tuple, not a frozen dataclass:
    every start imports this module (see :class:`~.codec.ItemKey`)."""

    chat_id: str
    opened_at: int
    last_seen: int
    cached: bool


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def get_time(conn: sqlite3.Connection, key: str) -> int | None:
    value = get_meta(conn, key)
    return int(value) if value is not None else None


def set_time(conn: sqlite3.Connection, key: str, ms: int) -> None:
    set_meta(conn, key, str(int(ms)))


def chat_sync(conn: sqlite3.Connection, chat_id: str) -> ChatSync | None:
    row = conn.execute(
        "SELECT chat_id, opened_at, last_seen, cached FROM chat_sync WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    return ChatSync(row[0], int(row[1]), int(row[2]), bool(row[3])) if row else None


def recently_opened(conn: sqlite3.Connection, since_ms: int) -> list[ChatSync]:
    rows = conn.execute(
        "SELECT chat_id, opened_at, last_seen, cached FROM chat_sync WHERE opened_at >= ? ORDER BY opened_at DESC",
        (since_ms,),
    )
    return [ChatSync(r[0], int(r[1]), int(r[2]), bool(r[3])) for r in rows]


def mark_opened(conn: sqlite3.Connection, chat_id: str, at_ms: int) -> None:
    conn.execute(
        "INSERT INTO chat_sync(chat_id, opened_at) VALUES (?, ?) "
        "ON CONFLICT(chat_id) DO UPDATE SET opened_at = excluded.opened_at",
        (chat_id, at_ms),
    )


def mark_cached(conn: sqlite3.Connection, chat_id: str, last_seen: int) -> None:
    """Every message of the chat up to ``last_seen`` is in the mirror."""
    conn.execute(
        "INSERT INTO chat_sync(chat_id, last_seen, cached) VALUES (?, ?, 1) "
        "ON CONFLICT(chat_id) DO UPDATE SET cached = 1, last_seen = MAX(last_seen, excluded.last_seen)",
        (chat_id, last_seen),
    )


def mark_all_cached(conn: sqlite3.Connection) -> None:
    """After a complete reconcile: every chat is whole, up to its newest message."""
    conn.execute(
        """
        INSERT INTO chat_sync(chat_id, last_seen, cached)
            SELECT c.chat_id,
                   COALESCE((SELECT MAX(m.created_at) FROM item m
                             WHERE m.chat_id = c.chat_id AND m.kind = 'MESSAGE'
                               AND m.remote IS NOT NULL), 0),
                   1
            FROM item c WHERE c.kind = 'CHAT' AND c.remote IS NOT NULL
        ON CONFLICT(chat_id) DO UPDATE SET cached = 1, last_seen = MAX(last_seen, excluded.last_seen)
        """
    )
