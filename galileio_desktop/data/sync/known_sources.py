"""Which messages' sources the mirror holds completely, so no query has to ask again.

A message is *known* when the mirror read every source it had on the server: a
complete reconcile read the whole partition, a sources query asked for exactly that
message, or this device wrote the message with its sources itself. Its sources are then
read from the mirror when the user opens them offline, and deleting its chat needs no
sources query for it.

Anything else is unknown and asked when it matters: opening a chat reads its messages
first (the first page is shown at once), the answers' sources afterwards
(:meth:`ChatLibrary.fetch_sources`). Questions are not asked there: the web app never
writes sources for a question (the view shows none), so their sources stay unknown until
the next reconcile, and a delete queries them, because another writer could add some.

The ``known_sources`` table (schema v4) holds the message ids; a row whose message is no
longer mirrored is pruned by the next reconcile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..schema import TypedItem, source_sk_prefix

_HUMAN = "human"
#: The character after "#": source sort keys of a message lie between "SOURCE#{id}#" and
#: "SOURCE#{id}$", the same range the server's begins_with query reads.
_AFTER_HASH = chr(ord("#") + 1)


def mark(conn: sqlite3.Connection, message_ids: Iterable[str]) -> None:
    """Every source of these messages is in the mirror (inside a write transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO known_sources(message_id) VALUES (?)", ((m,) for m in message_ids)
    )


def mark_all_mirrored(conn: sqlite3.Connection) -> None:
    """After a complete reconcile: every mirrored message's sources were read; rows of
    messages no longer mirrored go."""
    conn.execute(
        "INSERT OR IGNORE INTO known_sources(message_id) "
        "SELECT message_id FROM item WHERE kind = 'MESSAGE' AND remote IS NOT NULL AND message_id != ''"
    )
    conn.execute(
        "DELETE FROM known_sources WHERE message_id NOT IN "
        "(SELECT message_id FROM item WHERE kind = 'MESSAGE' AND remote IS NOT NULL)"
    )


def forget_message(conn: sqlite3.Connection, message_id: str) -> None:
    conn.execute("DELETE FROM known_sources WHERE message_id = ?", (message_id,))


def forget_chat(conn: sqlite3.Connection, chat_id: str) -> None:
    conn.execute(
        "DELETE FROM known_sources WHERE message_id IN "
        "(SELECT message_id FROM item WHERE chat_id = ? AND kind = 'MESSAGE')",
        (chat_id,),
    )


_ANSWERS_TO_FETCH = (
    "SELECT m.message_id FROM item m "
    "WHERE m.chat_id = ? AND m.kind = 'MESSAGE' AND m.remote IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM known_sources k WHERE k.message_id = m.message_id) "
    "AND COALESCE(json_extract(m.remote, '$.type.S'), '') != ? "
)


def answers_to_fetch(conn: sqlite3.Connection, chat_id: str) -> list[str]:
    """Mirrored messages of the chat, questions aside, whose sources are not known yet,
    newest first (the ones on screen)."""
    rows = conn.execute(_ANSWERS_TO_FETCH + "ORDER BY m.created_at DESC, m.id DESC", (chat_id, _HUMAN))
    return [str(r[0]) for r in rows]


def any_to_fetch(conn: sqlite3.Connection, chat_id: str) -> bool:
    """True when :func:`answers_to_fetch` has something (it stops at the first)."""
    return conn.execute(_ANSWERS_TO_FETCH + "LIMIT 1", (chat_id, _HUMAN)).fetchone() is not None


def source_keys_of_chat(conn: sqlite3.Connection, chat_id: str, user_id: str) -> dict[str, list[TypedItem]]:
    """The source keys of every known message of the chat (an empty list: it has none)."""
    known: dict[str, list[TypedItem]] = {}
    rows = conn.execute(
        "SELECT m.message_id, s.sk FROM item m "
        "JOIN known_sources k ON k.message_id = m.message_id "
        "LEFT JOIN item s ON s.sk >= 'SOURCE#' || m.message_id || '#' "
        "AND s.sk < 'SOURCE#' || m.message_id || '$' AND s.remote IS NOT NULL "
        "WHERE m.chat_id = ? AND m.kind = 'MESSAGE' AND m.remote IS NOT NULL",
        (chat_id,),
    )
    for message_id, sk in rows:
        keys = known.setdefault(str(message_id), [])
        if sk is not None:
            keys.append(_key(user_id, str(sk)))
    return known


def source_keys_of_message(conn: sqlite3.Connection, message_id: str, user_id: str) -> list[TypedItem] | None:
    """The source keys of a known message; None when its sources are not known."""
    row = conn.execute(
        "SELECT 1 FROM known_sources k JOIN item m ON m.message_id = k.message_id "
        "AND m.kind = 'MESSAGE' AND m.remote IS NOT NULL WHERE k.message_id = ?",
        (message_id,),
    ).fetchone()
    if row is None:
        return None
    prefix = source_sk_prefix(message_id)
    rows = conn.execute(
        "SELECT sk FROM item WHERE sk >= ? AND sk < ? AND remote IS NOT NULL",
        (prefix, prefix[:-1] + _AFTER_HASH),
    )
    return [_key(user_id, str(r[0])) for r in rows]


def _key(user_id: str, sk: str) -> TypedItem:
    return {"PK": {"S": user_id}, "SK": {"S": sk}}
