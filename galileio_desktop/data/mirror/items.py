"""Remote state in the mirror (what DynamoDB confirmed) and the reads of the user's view.

Writers here record server facts only: an item read or written, or an item proven gone
(by a complete consistent pass or a consistent read). The view columns are kept in step
through :mod:`.overlay`; a row no operation touches takes the fast path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from ..schema import TypedItem
from ..timestamps import EARLIEST_MS, LATEST_MS
from . import outbox, overlay
from .codec import ItemKey, dumps, key_of_item, loads
from .migrations import PINNED_CHAT_ROWS

if TYPE_CHECKING:  # no alias made at run time: this module loads before a first paint
    #: Where a page of the chat list ended: (activity, chat id) of its last entry.
    ChatCursor = tuple[int, str]


def put_remote(conn: sqlite3.Connection, item: TypedItem, seq: int, op_chats: set[str] | None = None) -> bool:
    """Record an item as the server has it; returns True when the mirror changed.

    ``op_chats`` (chats with outbox rows) lets bulk callers skip the overlay lookups.
    """
    key = key_of_item(item)
    if key.kind == "SOURCE" and not key.chat_id:
        key = _source_key_with_chat(conn, key)
    text = dumps(item)
    row = conn.execute("SELECT id, remote FROM item WHERE sk = ?", (key.sk,)).fetchone()
    if row is not None and row[1] == text:
        conn.execute("UPDATE item SET seen = ? WHERE id = ?", (seq, row[0]))
        return False
    touched = op_chats is None or key.chat_id in op_chats or (key.kind == "SOURCE" and not key.chat_id)
    if row is None:
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote, seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key.sk, key.kind, key.chat_id, key.message_id, key.created_at, text, seq),
        )
    else:
        conn.execute(
            "UPDATE item SET remote = ?, seen = ?, kind = ?, chat_id = ?, message_id = ?, created_at = ?"
            + ("" if touched else ", local = NULL, hidden = 0")
            + " WHERE id = ?",
            (text, seq, key.kind, key.chat_id, key.message_id, key.created_at, row[0]),
        )
    if touched:
        overlay.refresh_key(conn, key)
    return True


def _source_key_with_chat(conn: sqlite3.Connection, key: ItemKey) -> ItemKey:
    row = conn.execute(
        "SELECT chat_id FROM item WHERE message_id = ? AND kind = 'MESSAGE'", (key.message_id,)
    ).fetchone()
    if not row:
        return key
    return ItemKey(key.sk, key.kind, str(row[0]), key.message_id, key.created_at)


def forget_remote(conn: sqlite3.Connection, sks: Iterable[str]) -> int:
    """Items proven gone from the server: drop their remote state; returns how many."""
    count = 0
    for sk in sks:
        key = overlay.key_row(conn, sk)
        if key is None:
            continue
        changed = conn.execute(
            "UPDATE item SET remote = NULL WHERE sk = ? AND remote IS NOT NULL", (sk,)
        ).rowcount
        count += changed
        overlay.refresh_key(conn, key)
    return count


def forget_chat_contents(conn: sqlite3.Connection, chat_id: str) -> int:
    """The messages and sources of a chat this device is deleting are gone from the server:
    their rows go, the chat row stays (hidden by the queued delete) until the chat item's
    own delete is confirmed. Rows without a remote state (views of operations still
    queued) stay for :func:`forget_chat_items`. Returns how many rows went.

    The messages go before the chat row, so the activity trigger leaves the chat alone
    until its last row (see ``migrations._v7``).
    """
    orphans = conn.execute(
        "DELETE FROM item WHERE kind = 'SOURCE' AND chat_id = '' AND remote IS NOT NULL AND message_id IN "
        "(SELECT message_id FROM item WHERE kind = 'MESSAGE' AND chat_id = ?)",
        (chat_id,),
    ).rowcount
    own = conn.execute(
        "DELETE FROM item WHERE chat_id = ? AND kind != 'CHAT' AND remote IS NOT NULL", (chat_id,)
    ).rowcount
    return orphans + own


def forget_chat_items(conn: sqlite3.Connection, chat_id: str) -> int:
    """A chat this device deleted: its chat, messages and sources are gone from the server.

    In bulk (a chat may hold thousands of items): its rows are deleted (its messages and
    sources first, see :func:`forget_chat_contents`), then the rows of operations still
    queued for it are made again as :func:`overlay.refresh_chat` does (a row without a
    remote state is only ever the view of such an operation). Returns how many items
    had a remote state.
    """
    count = forget_chat_contents(conn, chat_id)
    count += int(
        conn.execute(
            "SELECT COUNT(*) FROM item WHERE chat_id = ? AND remote IS NOT NULL", (chat_id,)
        ).fetchone()[0]
    )
    conn.execute("DELETE FROM item WHERE chat_id = ? AND kind != 'CHAT'", (chat_id,))
    conn.execute("DELETE FROM item WHERE chat_id = ?", (chat_id,))
    conn.execute("DELETE FROM chat_sync WHERE chat_id = ?", (chat_id,))
    overlay.refresh_chat(conn, chat_id)
    return count


def forget_message_items(conn: sqlite3.Connection, message_id: str) -> int:
    sks = [
        str(r[0])
        for r in conn.execute(
            "SELECT sk FROM item WHERE message_id = ? AND remote IS NOT NULL", (message_id,)
        )
    ]
    return forget_remote(conn, sks)


def sweep_unseen(conn: sqlite3.Connection, since_seq: int) -> int:
    """After a complete reconcile: every item the pass did not see is gone from the server."""
    op_chats = outbox.chats_with_ops(conn)
    rows = conn.execute(
        "SELECT sk, chat_id, kind FROM item WHERE remote IS NOT NULL AND seen < ?", (since_seq,)
    ).fetchall()
    plain = [r[0] for r in rows if r[1] not in op_chats and r[2] != "SOURCE"]
    touched = [r[0] for r in rows if r[1] in op_chats or r[2] == "SOURCE"]
    for start in range(0, len(plain), 500):
        chunk = plain[start : start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM item WHERE sk IN ({marks}) AND local IS NULL", chunk)
    forget_remote(conn, touched + plain)
    gone_chats = {r[1] for r in rows if r[2] == "CHAT"}
    for chat_id in gone_chats:
        conn.execute("DELETE FROM chat_sync WHERE chat_id = ?", (chat_id,))
    return len(rows)


def unseen_messages(conn: sqlite3.Connection, chat_id: str, since_seq: int) -> list[tuple[str, int]]:
    """The chat's messages the server confirmed before ``since_seq`` and not since, and
    that no queued change touches: (message id, time), candidates for "gone"."""
    rows = conn.execute(
        "SELECT message_id, created_at FROM item INDEXED BY item_chat "
        "WHERE chat_id = ? AND kind = 'MESSAGE' AND remote IS NOT NULL AND seen < ? "
        "AND message_id NOT IN (SELECT message_id FROM outbox WHERE message_id != '')",
        (chat_id, since_seq),
    )
    return [(str(r[0]), int(r[1])) for r in rows]


# -- reads of the user's view --------------------------------------------------------------


class ChatRow(NamedTuple):
    """A chat as stored (view state) and the time of its newest visible message."""

    item: TypedItem
    last_message_at: int | None


_LAST_MESSAGE_AT = (
    "(SELECT MAX(m.created_at) FROM item m WHERE m.chat_id = c.chat_id AND m.kind = 'MESSAGE' "
    "AND m.hidden = 0)"
)

# The most recently active chats, newest first: the activity index (kept by the schema's
# triggers, see migrations._v5) walked from its end, each entry joined to its visible chat
# row until ``limit`` are found. A first screen reads a few dozen rows whatever the
# number of chats and messages.
_RECENT_CHATS_SQL = f"""
SELECT COALESCE(c.local, c.remote), {_LAST_MESSAGE_AT}, c.chat_id
FROM chat_activity a INDEXED BY chat_activity_recent
JOIN item c INDEXED BY item_chat ON c.chat_id = a.chat_id AND c.kind = 'CHAT' AND c.hidden = 0
ORDER BY a.activity DESC, a.chat_id DESC
LIMIT ?
"""


def visible_chats(conn: sqlite3.Connection, limit: int | None = None) -> Iterator[ChatRow]:
    """Chats the user sees; with ``limit``, only the most recently active ones, newest
    first, and every chat that may be pinned (see :func:`pinned_chats`).

    Activity here is the later of the row's ``created_at`` and its newest message, the
    order :class:`~galileio_desktop.data.sync.ChatLibrary` lists chats in.

    Rows are decoded as the caller takes them (consume them inside the read transaction):
    a caller that keeps a light view of each never holds every chat's decoded item at
    once (100,000 chats: ~370 MB at the peak as one list, ~70 MB as the views alone).
    """
    if limit is not None:
        recent = conn.execute(_RECENT_CHATS_SQL, (max(0, limit),)).fetchall()
        listed = {r[2] for r in recent}
        pinned = [r for r in conn.execute(_PINNED_CHATS_SQL) if r[2] not in listed]
        return (ChatRow(loads(r[0]), None if r[1] is None else int(r[1])) for r in recent + pinned)
    rows = conn.execute(
        f"SELECT COALESCE(c.local, c.remote), {_LAST_MESSAGE_AT} FROM item c WHERE c.kind = 'CHAT' AND c.hidden = 0"
    )
    return (ChatRow(loads(r[0]), None if r[1] is None else int(r[1])) for r in rows)


# The walk of ``_RECENT_CHATS_SQL`` a page at a time, each page resumed after the last entry
# of the one before (the row value is the index's own order): a page reads its own rows
# only, however far down a long list it is.
_CHATS_PAGE_SQL = f"""
SELECT COALESCE(c.local, c.remote), {_LAST_MESSAGE_AT}, a.activity, a.chat_id
FROM chat_activity a INDEXED BY chat_activity_recent
JOIN item c INDEXED BY item_chat ON c.chat_id = a.chat_id AND c.kind = 'CHAT' AND c.hidden = 0
{{where}}
ORDER BY a.activity DESC, a.chat_id DESC
LIMIT ?
"""
_CHATS_FIRST_PAGE_SQL = _CHATS_PAGE_SQL.format(where="")
_CHATS_AFTER_SQL = _CHATS_PAGE_SQL.format(where="WHERE (a.activity, a.chat_id) < (?, ?)")


def chats_after(
    conn: sqlite3.Connection, after: ChatCursor | None, limit: int
) -> list[tuple[ChatRow, ChatCursor]]:
    """Up to ``limit`` visible chats, most recently active first, after ``after`` (None:
    from the newest); pinned or not, each where its activity puts it. Each comes with the
    cursor of a page ending at it: (activity, chat id).

    Each chat comes in one page only, unless its activity changes between pages. An item
    that does not decode is the caller's to skip: the page's cursor moves past it all the same.
    """
    sql, args = (
        (_CHATS_FIRST_PAGE_SQL, (max(0, limit),))
        if after is None
        else (_CHATS_AFTER_SQL, (int(after[0]), str(after[1]), max(0, limit)))
    )
    return [
        (ChatRow(loads(r[0]), None if r[1] is None else int(r[1])), (int(r[2]), str(r[3])))
        for r in conn.execute(sql, args).fetchall()
    ]


# Visible chats whose ``pinnedAt`` is a Number (a few, through the ``item_pinned`` index):
# a pinned chat is on the first screen however long ago it was active.
_PINNED_CHATS_SQL = (
    f"SELECT COALESCE(c.local, c.remote), {_LAST_MESSAGE_AT}, c.chat_id FROM item c INDEXED BY item_pinned "
    f"WHERE {PINNED_CHAT_ROWS}"
)


def pinned_chats(conn: sqlite3.Connection) -> list[ChatRow]:
    """The visible chats that may be pinned (whether each is, its item says)."""
    return [
        ChatRow(loads(r[0]), None if r[1] is None else int(r[1])) for r in conn.execute(_PINNED_CHATS_SQL)
    ]


def visible_chat(conn: sqlite3.Connection, chat_id: str) -> ChatRow | None:
    row = conn.execute(
        "SELECT COALESCE(c.local, c.remote), "
        "(SELECT MAX(m.created_at) FROM item m WHERE m.chat_id = c.chat_id AND m.kind = 'MESSAGE' "
        "AND m.hidden = 0) FROM item c WHERE c.sk = ? AND c.hidden = 0",
        (overlay.chat_sk(chat_id),),
    ).fetchone()
    return ChatRow(loads(row[0]), None if row[1] is None else int(row[1])) if row else None


def last_message_at(conn: sqlite3.Connection, chat_id: str) -> int | None:
    """The newest known time among the chat's visible messages.

    A time out of range (another writer's year 10000, bounded, see data.timestamps) is
    left out: a new message is stamped after the newest message, and must not be
    stamped after that one and written back to the table as year 10000 too.
    """
    row = conn.execute(
        "SELECT MAX(created_at) FROM item WHERE chat_id = ? AND kind = 'MESSAGE' AND hidden = 0 "
        "AND created_at > ? AND created_at < ?",
        (chat_id, EARLIEST_MS, LATEST_MS),
    ).fetchone()
    return None if row[0] is None else int(row[0])


#: SQLite's integer range: ``created_at`` values are bounded well inside it (see codec).
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def message_page(
    conn: sqlite3.Connection,
    chat_id: str,
    limit: int | None,
    before: int | None,
    after: int | None = None,
) -> list[TypedItem]:
    """Visible messages of a chat, oldest first: the newest ``limit`` older than ``before``,
    or, with ``after``, the oldest ``limit`` newer than ``after``.

    Reads only the rows of the page, through the (chat, kind, hidden, created_at) index.
    """
    sql = "SELECT COALESCE(local, remote) FROM item WHERE chat_id = ? AND kind = 'MESSAGE' AND hidden = 0"
    params: list[object] = [chat_id]
    if before is not None:
        sql += " AND created_at < ?"
        params.append(min(max(before, _INT64_MIN), _INT64_MAX))  # any int a caller passes binds
    if after is not None:
        sql += " AND created_at > ?"
        params.append(min(max(after, _INT64_MIN), _INT64_MAX))
    if limit is None:
        rows = conn.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [loads(r[0]) for r in rows]
    if after is not None:
        rows = conn.execute(sql + " ORDER BY created_at, id LIMIT ?", [*params, limit]).fetchall()
        return [loads(r[0]) for r in rows]
    rows = conn.execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit]).fetchall()
    return [loads(r[0]) for r in reversed(rows)]


def count_messages(conn: sqlite3.Connection, chat_id: str) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM item WHERE chat_id = ? AND kind = 'MESSAGE' AND hidden = 0", (chat_id,)
    ).fetchone()
    return int(row[0])


# By message id, through its index: SQLite, without statistics, would rather take the
# (kind, hidden) index, as selective-looking, and scan every visible message for each one.
_BY_MESSAGE = "SELECT COALESCE(local, remote) FROM item INDEXED BY item_message WHERE message_id = ?"


def visible_message(conn: sqlite3.Connection, message_id: str) -> TypedItem | None:
    row = conn.execute(
        _BY_MESSAGE + " AND kind = 'MESSAGE' AND hidden = 0",
        (message_id,),
    ).fetchone()
    return loads(row[0]) if row else None


def source_items(conn: sqlite3.Connection, message_id: str) -> list[TypedItem]:
    rows = conn.execute(
        _BY_MESSAGE + " AND kind = 'SOURCE' AND hidden = 0",
        (message_id,),
    )
    return [loads(r[0]) for r in rows]


def remote_items(conn: sqlite3.Connection) -> list[TypedItem]:
    """Every confirmed remote item: what the server had when we last looked."""
    return [loads(r[0]) for r in conn.execute("SELECT remote FROM item WHERE remote IS NOT NULL ORDER BY sk")]


def has_remote(conn: sqlite3.Connection, sk: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM item WHERE sk = ? AND remote IS NOT NULL", (sk,)).fetchone() is not None
    )


def remote_chat_ids(conn: sqlite3.Connection) -> set[str]:
    return {
        str(r[0]) for r in conn.execute("SELECT chat_id FROM item WHERE kind = 'CHAT' AND remote IS NOT NULL")
    }
