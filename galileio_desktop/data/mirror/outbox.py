"""The outbox: local operations not yet confirmed by DynamoDB, in the order they were made.

A row is written in the same transaction as the change the user sees, and removed in
the same transaction that records the server's confirmation, so a crash at any moment
leaves either "still to send" or "sent and mirrored", never a lost or doubled write.

Columns that drive the push:

- ``not_before``: not sent before this time (ms); Undo cancels the row meanwhile.
- ``next_attempt``: backoff after a network or throttling error (ms).
- ``state``: ``pending`` or ``parked`` (refused for good, with ``error``/``error_kind``).
- ``sending``: 1 while a push of the row is in flight (cancel refuses it then).
- ``doubt``: 1 when an earlier attempt may have written the item without us hearing
  back; a replay that then finds the item missing cannot tell "never written" from
  "written, then deleted elsewhere", and parks instead of resurrecting it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, NamedTuple

CREATE_CHAT = "create_chat"
RENAME_CHAT = "rename_chat"
DELETE_CHAT = "delete_chat"
PUT_MESSAGE = "put_message"
DELETE_MESSAGE = "delete_message"
#: Pin or unpin a chat: payload ``{"pinned": bool, "at": ms}`` (see ``data/pins.py``).
PIN_CHAT = "pin_chat"
KINDS = (CREATE_CHAT, RENAME_CHAT, DELETE_CHAT, PUT_MESSAGE, DELETE_MESSAGE, PIN_CHAT)
DELETE_KINDS = frozenset({DELETE_CHAT, DELETE_MESSAGE})

PENDING = "pending"
PARKED = "parked"

# error_kind of a parked operation
REJECTED = "rejected"  # DynamoDB refused it for good (validation, access denied, size)
CHAT_GONE = "chat_gone"  # its chat was deleted elsewhere: delete beats new messages
IN_DOUBT = "in_doubt"  # see the module docstring

_COLUMNS = (
    "op_id, kind, chat_id, message_id, payload, created, not_before, attempts, "
    "next_attempt, state, error, error_kind, sending, doubt"
)


class Op(NamedTuple):
    """One outbox row (a named tuple, not a frozen dataclass: every start defines it, see
    :class:`~.codec.ItemKey`)."""

    op_id: int
    kind: str
    chat_id: str
    message_id: str
    payload: dict[str, Any]
    created: int
    not_before: int
    attempts: int
    next_attempt: int
    state: str
    error: str | None
    error_kind: str | None
    sending: int
    doubt: int

    @property
    def parked(self) -> bool:
        return self.state == PARKED

    @property
    def applies_locally(self) -> bool:
        """Whether the user's view shows the operation: all but parked deletes.

        A parked delete failed for good, so the item is shown again, with its error.
        """
        return not (self.parked and self.kind in DELETE_KINDS)

    @property
    def cancellable(self) -> bool:
        """True while nothing of it can have reached DynamoDB.

        A chat create writes one item, so only its doubt mark counts; any other
        operation that was attempted may have written part of its work (the sources of
        a message go before the message, a delete takes a chat's messages first).
        """
        if self.sending or self.parked:
            return False
        if self.kind == CREATE_CHAT:
            return not self.doubt
        return self.attempts == 0 and not self.doubt

    def blocks(self, later: Op) -> bool:
        """Whether this parked operation must hold ``later`` back (see :mod:`..sync.pusher`).

        Only a parked chat create does: what follows would act on a chat that does not
        exist. A delete of that chat still goes (idempotent; it settles the create).
        """
        return self.kind == CREATE_CHAT and later.chat_id == self.chat_id and later.kind != DELETE_CHAT


def _op(row: tuple[Any, ...]) -> Op:
    return Op(
        op_id=int(row[0]),
        kind=str(row[1]),
        chat_id=str(row[2]),
        message_id=str(row[3]),
        payload=json.loads(row[4]),
        created=int(row[5]),
        not_before=int(row[6]),
        attempts=int(row[7]),
        next_attempt=int(row[8]),
        state=str(row[9]),
        error=row[10],
        error_kind=row[11],
        sending=int(row[12]),
        doubt=int(row[13]),
    )


def enqueue(
    conn: sqlite3.Connection,
    kind: str,
    chat_id: str,
    payload: dict[str, Any],
    created: int,
    *,
    message_id: str = "",
    not_before: int = 0,
) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown operation kind {kind!r}")
    cursor = conn.execute(
        "INSERT INTO outbox(kind, chat_id, message_id, payload, created, not_before) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (kind, chat_id, message_id, json.dumps(payload, sort_keys=True), created, not_before),
    )
    return int(cursor.lastrowid or 0)


def get(conn: sqlite3.Connection, op_id: int) -> Op | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE op_id = ?", (op_id,)).fetchone()
    return _op(row) if row else None


def all_ops(conn: sqlite3.Connection) -> list[Op]:
    return [_op(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY op_id")]


def light_ops(conn: sqlite3.Connection, chat_id: str | None = None) -> list[Op]:
    """Rows without their payload (cheap, for the views' pending flags)."""
    columns = _COLUMNS.replace("payload", "'{}'")
    if chat_id is None:
        rows = conn.execute(f"SELECT {columns} FROM outbox ORDER BY op_id")
    else:
        rows = conn.execute(f"SELECT {columns} FROM outbox WHERE chat_id = ? ORDER BY op_id", (chat_id,))
    return [_op(r) for r in rows]


def replace_payload(conn: sqlite3.Connection, op_id: int, payload: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE outbox SET payload = ? WHERE op_id = ?", (json.dumps(payload, sort_keys=True), op_id)
    )


def ops_of_chat(conn: sqlite3.Connection, chat_id: str) -> list[Op]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? ORDER BY op_id", (chat_id,))
    return [_op(r) for r in rows]


def ops_for_key(conn: sqlite3.Connection, chat_id: str, message_id: str) -> list[Op]:
    """Operations that can change an item of ``chat_id`` (and of ``message_id``, if any)."""
    if not message_id:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND message_id = '' ORDER BY op_id",
            (chat_id,),
        )
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE (chat_id = ? AND message_id = '') OR message_id = ? "
            "ORDER BY op_id",
            (chat_id, message_id),
        )
    return [_op(r) for r in rows]


def chats_with_ops(conn: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT chat_id FROM outbox")}


def remove(conn: sqlite3.Connection, op_id: int) -> None:
    conn.execute("DELETE FROM outbox WHERE op_id = ?", (op_id,))


def claim(conn: sqlite3.Connection, op_id: int) -> Op | None:
    """Mark a pending row as being sent; None if it was cancelled or parked meanwhile."""
    cursor = conn.execute(
        "UPDATE outbox SET sending = 1, attempts = attempts + 1 WHERE op_id = ? AND state = ?",
        (op_id, PENDING),
    )
    return get(conn, op_id) if cursor.rowcount else None


def set_doubt(conn: sqlite3.Connection, op_id: int, doubt: bool) -> None:
    conn.execute("UPDATE outbox SET doubt = ? WHERE op_id = ?", (int(doubt), op_id))


def back_off(conn: sqlite3.Connection, op_id: int, next_attempt: int, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET sending = 0, next_attempt = ?, error = ? WHERE op_id = ?",
        (next_attempt, error, op_id),
    )


def release(conn: sqlite3.Connection, op_id: int) -> None:
    """The attempt ended without a verdict on the operation (it stays as it was)."""
    conn.execute("UPDATE outbox SET sending = 0 WHERE op_id = ?", (op_id,))


def park(conn: sqlite3.Connection, op_id: int, error: str, error_kind: str) -> None:
    conn.execute(
        "UPDATE outbox SET state = ?, sending = 0, error = ?, error_kind = ? WHERE op_id = ?",
        (PARKED, error, error_kind, op_id),
    )


def unpark(conn: sqlite3.Connection, op_id: int) -> bool:
    """Send again (the user's Retry). Clears a doubt: the user chose to write it again."""
    cursor = conn.execute(
        "UPDATE outbox SET state = ?, error = NULL, error_kind = NULL, next_attempt = 0, "
        "doubt = 0, sending = 0 WHERE op_id = ?",
        (PENDING, op_id),
    )
    return bool(cursor.rowcount)


def recover_interrupted(conn: sqlite3.Connection) -> int:
    """Rows left ``sending`` by a process that died mid-push: clear the flag.

    Whether their write reached DynamoDB is recorded in ``doubt`` before it is sent.
    """
    return int(conn.execute("UPDATE outbox SET sending = 0 WHERE sending != 0").rowcount)


def counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """(pending, parked)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'parked'), 0) FROM outbox"
    ).fetchone()
    return int(row[0]), int(row[1])


def dependents(conn: sqlite3.Connection, op: Op, *, cancelling: bool) -> list[Op]:
    """Later operations that cannot happen without ``op``.

    Cancelling a create (nothing was sent) takes everything after it in the chat;
    discarding one keeps a later delete (the chat may exist after all). Cancelling a
    new message takes later operations on that message.
    """
    later = [o for o in ops_of_chat(conn, op.chat_id) if o.op_id > op.op_id and not o.sending]
    if op.kind == CREATE_CHAT:
        return [o for o in later if cancelling or o.kind != DELETE_CHAT]
    if op.kind == PUT_MESSAGE and cancelling:
        return [o for o in later if o.message_id == op.message_id]
    return []
