"""The user's view of an item: its confirmed remote state with pending operations applied.

Every item row carries the view next to the remote state (``local`` when it differs,
``hidden`` when a pending delete hides it). Whenever the remote state or the outbox
changes, the rows concerned are recomputed here from scratch (remote state, then the
operations that touch the key, in order), so the view can never drift from
"remote + outbox", whatever order pulls, pushes, cancels and restarts come in.

Rules, as the user should see them:

- a create or a new message shows at once (the server's copy wins once it exists);
- a rename shows the new title on a chat that exists; it never brings back a deleted one;
- a pin or unpin sets or removes the chat's ``pinnedAt`` the same way;
- a delete hides the item and, for a chat, everything in it;
- a parked delete (refused for good) hides nothing: the item is shown with its error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from ..pins import PINNED_AT, PinChange
from ..schema import TypedItem, chat_key
from . import outbox
from .codec import ItemKey, decode, dumps, key_of_item, loads
from .migrations import HIDDEN_INDEXED
from .outbox import Op


def payload_items(op: Op) -> list[TypedItem]:
    """The items a create or a new message writes (typed form)."""
    if op.kind == outbox.CREATE_CHAT:
        return [decode(op.payload["item"])]
    if op.kind == outbox.PUT_MESSAGE:
        return [decode(op.payload["item"]), *(decode(s) for s in op.payload.get("sources", []))]
    return []


def chat_sk(chat_id: str) -> str:
    return str(chat_key("", chat_id)["SK"]["S"])


def apply_op(
    op: Op, key: ItemKey, state: TypedItem | None, created: Mapping[str, TypedItem] | None = None
) -> TypedItem | None:
    """One operation's effect on one item (``op`` is known to concern the key's chat or message).

    ``created``: the items ``op`` writes by sort key, when the caller already has them
    (an answer with thousands of sources is then not decoded again for every one).
    """
    if not op.applies_locally:
        return state
    kind = op.kind
    if kind == outbox.DELETE_CHAT and op.chat_id == key.chat_id:
        return None
    if kind == outbox.DELETE_MESSAGE and key.message_id == op.message_id and key.kind != "CHAT":
        return None
    if kind == outbox.RENAME_CHAT and key.sk == chat_sk(op.chat_id):
        if state is None:
            return None  # a rename never resurrects a chat
        return {
            **state,
            "title": {"S": str(op.payload["title"])},
            "updatedAt": {"N": str(int(op.payload["updatedAt"]))},
        }
    if kind == outbox.PIN_CHAT and key.sk == chat_sk(op.chat_id):
        if state is None:
            return None  # nor does a pin
        change = PinChange.from_payload(op.payload)
        unpinned = {name: value for name, value in state.items() if name != PINNED_AT}
        return {**unpinned, PINNED_AT: {"N": str(change.at)}} if change.pinned else unpinned
    if kind in (outbox.CREATE_CHAT, outbox.PUT_MESSAGE) and state is None:
        if created is not None:
            return created.get(key.sk)
        for item in payload_items(op):
            if item["SK"]["S"] == key.sk:
                return item
    return state


def apply_ops(
    key: ItemKey, remote: TypedItem | None, ops: Iterable[Op], batch: _Batch | None = None
) -> TypedItem | None:
    state = remote
    for op in ops:
        state = apply_op(op, key, state, batch.created(op) if batch is not None else None)
    return state


class _Batch:
    """What refreshing many keys reads once instead of once a key: the operations of each
    chat or message, and the items each create writes by sort key.

    Refreshing keys changes item rows only, never the outbox, so both stay valid for the
    whole batch. Without it, an answer with n sources cost n outbox reads and n^2 decodes.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._ops: dict[tuple[str, str], list[Op]] = {}
        self._created: dict[int, dict[str, TypedItem]] = {}

    def ops_for(self, key: ItemKey) -> list[Op]:
        if key.kind == "OTHER":
            return []
        group = (key.chat_id, key.message_id if key.kind in ("MESSAGE", "SOURCE") else "")
        found = self._ops.get(group)
        if found is None:
            found = self._ops[group] = outbox.ops_for_key(self.conn, *group)
        return found

    def created(self, op: Op) -> dict[str, TypedItem]:
        found = self._created.get(op.op_id)
        if found is None:
            found = self._created[op.op_id] = {item["SK"]["S"]: item for item in payload_items(op)}
        return found


def key_row(conn: sqlite3.Connection, sk: str) -> ItemKey | None:
    row = conn.execute(
        "SELECT sk, kind, chat_id, message_id, created_at FROM item WHERE sk = ?", (sk,)
    ).fetchone()
    return ItemKey(row[0], row[1], row[2], row[3], int(row[4])) if row else None


def keys_touched(conn: sqlite3.Connection, op: Op) -> list[ItemKey]:
    """Item keys whose view ``op`` can change (for a chat delete: see :func:`refresh_chat`)."""
    keys = [key_of_item(item) for item in payload_items(op)]
    if op.kind in (outbox.RENAME_CHAT, outbox.PIN_CHAT):
        found = key_row(conn, chat_sk(op.chat_id))
        keys += [found] if found else []
    elif op.kind == outbox.DELETE_MESSAGE:
        rows = conn.execute(
            "SELECT sk, kind, chat_id, message_id, created_at FROM item WHERE message_id = ?",
            (op.message_id,),
        )
        keys += [ItemKey(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]
        # a message not on the server yet has rows only while no delete hides it
        for other in outbox.ops_for_key(conn, op.chat_id, op.message_id):
            if other.kind == outbox.PUT_MESSAGE and other.message_id == op.message_id:
                keys += [key_of_item(item) for item in payload_items(other)]
    return keys


def refresh_key(conn: sqlite3.Connection, key: ItemKey, batch: _Batch | None = None) -> None:
    """Recompute one row's view from its remote state and the operations touching it."""
    batch = batch if batch is not None else _Batch(conn)
    row = conn.execute("SELECT id, remote, local, hidden FROM item WHERE sk = ?", (key.sk,)).fetchone()
    remote_text: str | None = row[1] if row else None
    remote = loads(remote_text) if remote_text is not None else None
    state = apply_ops(key, remote, batch.ops_for(key), batch)
    if state is None:
        if row is None:
            return
        if remote is None:
            conn.execute("DELETE FROM item WHERE id = ?", (row[0],))
        elif row[2] is not None or not row[3]:
            conn.execute("UPDATE item SET local = NULL, hidden = 1 WHERE id = ?", (row[0],))
        return
    local = None if state == remote else dumps(state)
    if row is None:
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, message_id, created_at, local) VALUES (?, ?, ?, ?, ?, ?)",
            (key.sk, key.kind, key.chat_id, key.message_id, key.created_at, local),
        )
    elif row[2] != local or row[3]:
        conn.execute("UPDATE item SET local = ?, hidden = 0 WHERE id = ?", (local, row[0]))


def refresh_keys(conn: sqlite3.Connection, keys: Iterable[ItemKey]) -> None:
    """Recompute many rows, reading each chat's or message's operations once."""
    batch = _Batch(conn)
    seen: set[str] = set()
    for key in keys:
        if key.sk not in seen:
            seen.add(key.sk)
            refresh_key(conn, key, batch)


def refresh_chat(conn: sqlite3.Connection, chat_id: str) -> None:
    """Recompute every row of a chat (after a chat delete was queued, sent, cancelled or
    settled).

    Done in bulk: a chat may hold thousands of messages. A delete nothing of which can
    have been sent yet (the Undo window, a delete queued offline) hides the chat and its
    messages as :data:`~.migrations.HIDDEN_INDEXED`: their full-text entries, and those
    of their sources (which every reader reaches through their message), stay, and the
    search leaves the chat out before it ranks. Hiding is then a flag on a few hundred
    rows, no page of text taken out of the index, and Undo puts none back. Once the
    delete is being sent (or was tried), every row of the chat is hidden for good and its
    entries removed: the pass that sends it does this beside its requests.
    """
    ops = outbox.ops_of_chat(conn, chat_id)
    conn.execute("DELETE FROM item WHERE chat_id = ? AND remote IS NULL", (chat_id,))
    deletes = [op for op in ops if op.kind == outbox.DELETE_CHAT and op.applies_locally]
    if any(not op.cancellable for op in deletes):
        conn.execute(
            "UPDATE item SET hidden = 1, local = NULL WHERE chat_id = ? AND (hidden != 1 OR local IS NOT NULL)",
            (chat_id,),
        )
        return
    if deletes:
        conn.execute(
            "UPDATE item SET hidden = ?, local = NULL WHERE chat_id = ? AND kind != 'SOURCE' "
            "AND (hidden = 0 OR local IS NOT NULL)",
            (HIDDEN_INDEXED, chat_id),
        )
        return
    conn.execute(
        "UPDATE item SET hidden = 0, local = NULL WHERE chat_id = ? AND (hidden != 0 OR local IS NOT NULL)",
        (chat_id,),
    )
    keys: list[ItemKey] = []
    for op in ops:
        keys += keys_touched(conn, op)
    refresh_keys(conn, keys)


def refresh_for_op(conn: sqlite3.Connection, op: Op) -> None:
    """Recompute what ``op`` touches, after it was added, removed, parked or unparked."""
    if op.kind == outbox.DELETE_CHAT:
        refresh_chat(conn, op.chat_id)
    else:
        refresh_keys(conn, keys_touched(conn, op))
