"""Adopting the id the server gave a chat created here (the deployment's API makes its own).

Over DynamoDB a chat keeps the id this device gave it. The deployment's API answers
``PUT /chat`` with an id of its own, so once the chat is created the mirror moves
everything of the local chat under the server's id in one transaction: the chat row
becomes the server's item, and its messages, queued changes, sync state and activity
follow. The old id is remembered (``chat-id:OLD`` in the mirror's ``meta`` table) so a
window or a link still holding it finds the chat (:func:`current_chat_id`).
"""

from __future__ import annotations

import logging
import sqlite3

from ..mirror import items, outbox, overlay
from ..schema import TypedItem

log = logging.getLogger(__name__)

_ALIAS = "chat-id:"


def adopt_chat(conn: sqlite3.Connection, op: outbox.Op, stored: TypedItem, seq: int) -> str:
    """Confirm the create ``op`` with the server's ``stored`` chat; returns the chat's id now."""
    old = op.chat_id
    new = str(stored["chatId"]["S"])
    outbox.remove(conn, op.op_id)
    if new != old:
        conn.execute("DELETE FROM item WHERE sk = ?", (overlay.chat_sk(old),))
        conn.execute(
            "UPDATE outbox SET chat_id = ?, payload = replace(payload, ?, ?) WHERE chat_id = ?",
            (new, old, new, old),
        )
        conn.execute(
            "UPDATE item SET chat_id = ?, local = replace(local, ?, ?), remote = replace(remote, ?, ?) "
            "WHERE chat_id = ?",
            (new, old, new, old, new, old),
        )
        conn.execute("DELETE FROM chat_sync WHERE chat_id = ?", (new,))
        conn.execute("UPDATE chat_sync SET chat_id = ? WHERE chat_id = ?", (new, old))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (_ALIAS + old, new))
        log.info("chat created on the server under its own id")
    items.put_remote(conn, stored, seq, outbox.chats_with_ops(conn))
    for later in outbox.ops_of_chat(conn, new):
        overlay.refresh_for_op(conn, later)
    overlay.refresh_for_op(conn, op._replace(chat_id=new))
    return new


def current_chat_id(conn: sqlite3.Connection, chat_id: str) -> str:
    """The id a chat has now: the server's, when it was created here under another."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_ALIAS + chat_id,)).fetchone()
    return str(row[0]) if row else chat_id
