"""The mirror's schema history, one step a version, applied in order on open.

``PRAGMA user_version`` holds the version of a mirror file. Every step is kept for good:
a mirror written by any earlier release is brought up to date in one transaction per
step, and its data carried along (tests open files of every earlier version).

- v1: confirmed remote items with their local overlay, the outbox, key/value meta.
- v2: per-chat sync state (opened at, newest message seen, fully cached), backfilled:
  version 1 pulled whole partitions, so every chat it holds is fully cached.
- v3: the full-text index (FTS5) over chat titles, message text and source text,
  kept current by triggers and built from the items already there.
- v4: ``known_sources``, the messages whose sources the mirror holds completely (see
  ``sync/known_sources.py``), backfilled with what earlier versions fetched for sure:
  the answers of fully cached chats (their sources were queried or reconciled).
- v5: ``chat_activity``, each chat's last activity, kept by triggers.
- v6: ``item_pinned``, a partial index of the visible chats that hold a ``pinnedAt``
  Number, so the first screen finds the pinned chats without reading every chat.
- v7: hidden rows hold no entry in the full-text index (v3 gave each an empty one), and
  the triggers skip rows whose change cannot alter what they keep: a row hidden before
  and after, or a row older than its chat's activity. Hiding a chat of thousands of
  items no longer recomputes its activity once a row, and forgetting it once deleted
  touches neither the index nor the activity a row at a time.
- v8: a row hidden by a queued chat delete keeps its full-text entry (``hidden = 2``,
  see :data:`HIDDEN_INDEXED`): hiding a chat no longer removes the text of every message
  and source from the index before its delete can be sent, and Undo adds none back.
  The search leaves such chats out before it ranks (see ``search.py``); their entries
  go when the delete is sent. An indexed row whose text a change leaves as it was (a
  pin, a hide that keeps its entry) costs the index nothing.

Several processes (the window, the CLI) or connections may open a new mirror at the
same moment: each step takes the write lock first and re-reads the version under it,
so a step another connection applied meanwhile is skipped, never run twice.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from ..errors import GalileioError

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]


class MirrorTooNew(GalileioError):
    """The mirror file was written by a newer release of the app."""


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one inside the caller's transaction.

    ``executescript`` would COMMIT first, breaking the one-transaction-a-step rule.
    """
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                conn.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in a migration: {statement!r}")


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        -- One row per item key. `remote`: the last confirmed server state (typed item
        -- JSON), NULL when the server does not have it as far as we know. `local`: the
        -- item as the user sees it when pending operations change it (NULL: as remote).
        -- `hidden`: a pending delete hides it. A row exists only while remote or a
        -- pending operation gives it content.
        CREATE TABLE item (
            id INTEGER PRIMARY KEY,
            sk TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            chat_id TEXT NOT NULL DEFAULT '',
            message_id TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL DEFAULT 0,
            remote TEXT,
            local TEXT,
            hidden INTEGER NOT NULL DEFAULT 0,
            seen INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX item_chat ON item(chat_id, kind, hidden, created_at);
        CREATE INDEX item_message ON item(message_id, kind);
        CREATE INDEX item_kind ON item(kind, hidden);
        CREATE TABLE outbox (
            op_id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            message_id TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            created INTEGER NOT NULL,
            not_before INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
            error TEXT,
            error_kind TEXT,
            sending INTEGER NOT NULL DEFAULT 0,
            doubt INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_chat ON outbox(chat_id, message_id);
        CREATE INDEX outbox_message ON outbox(message_id);
        """,
    )


def _v2(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE chat_sync (
            chat_id TEXT PRIMARY KEY,
            opened_at INTEGER NOT NULL DEFAULT 0,
            last_seen INTEGER NOT NULL DEFAULT 0,
            cached INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO chat_sync(chat_id, last_seen, cached)
            SELECT c.chat_id,
                   COALESCE((SELECT MAX(m.created_at) FROM item m
                             WHERE m.chat_id = c.chat_id AND m.kind = 'MESSAGE'
                               AND m.remote IS NOT NULL), 0),
                   1
            FROM item c WHERE c.kind = 'CHAT' AND c.remote IS NOT NULL;
        """,
    )


#: ``item.hidden`` of a row hidden by a queued chat delete whose full-text entry is kept
#: (schema v8); 0 is a shown row, 1 a hidden row without an entry. Every reader of the
#: view asks for ``hidden = 0``, so this is as hidden as 1 to all of them but the index.
HIDDEN_INDEXED = 2


def indexed_text(row: str) -> str:
    """SQL for the searchable text of an item row (``new``, ``old`` or a table alias) that
    has a full-text entry (schema v8: every row but those with ``hidden = 1``)."""
    body = f"COALESCE({row}.local, {row}.remote)"
    path = (
        f"CASE {row}.kind WHEN 'CHAT' THEN '$.title.S' WHEN 'MESSAGE' THEN '$.data.M.content.S' "
        f"WHEN 'SOURCE' THEN '$.pageContent.S' ELSE '$.\"\"' END"
    )
    return f"COALESCE(CAST(json_extract({body}, {path}) AS TEXT), '')"


def text_expression(row: str) -> str:
    """SQL for the searchable text of an item row up to schema v7 (v3 and v7 are written
    with it, word for word): hidden rows index nothing, so a search never finds what the
    user deleted."""
    body = f"COALESCE({row}.local, {row}.remote)"
    return f"(CASE WHEN {row}.hidden != 0 OR {body} IS NULL THEN '' ELSE {indexed_text(row)} END)"


def _v3(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        f"""
        CREATE VIEW item_text(id, text) AS SELECT id, {text_expression("item")} FROM item;
        CREATE VIRTUAL TABLE search_index USING fts5(
            text, content = 'item_text', content_rowid = 'id',
            tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER item_text_insert AFTER INSERT ON item BEGIN
            INSERT INTO search_index(rowid, text) VALUES (new.id, {text_expression("new")});
        END;
        CREATE TRIGGER item_text_delete AFTER DELETE ON item BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                VALUES ('delete', old.id, {text_expression("old")});
        END;
        CREATE TRIGGER item_text_update AFTER UPDATE OF kind, remote, local, hidden ON item BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                VALUES ('delete', old.id, {text_expression("old")});
            INSERT INTO search_index(rowid, text) VALUES (new.id, {text_expression("new")});
        END;
        INSERT INTO search_index(search_index) VALUES ('rebuild');
        """,
    )


def _v4(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE known_sources (
            message_id TEXT PRIMARY KEY
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO known_sources(message_id)
            SELECT m.message_id FROM item m
            JOIN chat_sync cs ON cs.chat_id = m.chat_id AND cs.cached = 1
            WHERE m.kind = 'MESSAGE' AND m.remote IS NOT NULL AND m.message_id != ''
              AND COALESCE(json_extract(m.remote, '$.type.S'), '') != 'human';
        """,
    )


def activity_upsert(chat_id: str) -> str:
    """SQL that stores the activity of chat ``chat_id`` (an SQL expression): the later of
    its chat row's creation and its newest visible message, as the chat list orders by."""
    return f"""
        INSERT INTO chat_activity(chat_id, activity) VALUES ({chat_id}, MAX(
            COALESCE((SELECT MAX(created_at) FROM item WHERE chat_id = {chat_id} AND kind = 'CHAT'), 0),
            COALESCE((SELECT MAX(created_at) FROM item
                      WHERE chat_id = {chat_id} AND kind = 'MESSAGE' AND hidden = 0), 0)))
        ON CONFLICT(chat_id) DO UPDATE SET activity = excluded.activity;
    """


#: The trigger that keeps ``chat_activity`` current as rows are inserted (schema v5).
ACTIVITY_INSERT_TRIGGER = "chat_activity_insert"


def _v5(conn: sqlite3.Connection) -> None:
    """Each chat's last activity, kept by triggers, so the first screen of a long chat list
    reads a few dozen rows of an index instead of finding every chat's newest message."""
    _run_script(
        conn,
        f"""
        CREATE TABLE chat_activity (
            chat_id TEXT PRIMARY KEY,
            activity INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX chat_activity_recent ON chat_activity(activity, chat_id);
        CREATE TRIGGER {ACTIVITY_INSERT_TRIGGER} AFTER INSERT ON item
        WHEN new.kind IN ('CHAT', 'MESSAGE') AND new.chat_id != '' BEGIN
            {activity_upsert("new.chat_id")}
        END;
        CREATE TRIGGER chat_activity_update AFTER UPDATE OF kind, chat_id, hidden, created_at ON item
        WHEN (old.kind IN ('CHAT', 'MESSAGE') OR new.kind IN ('CHAT', 'MESSAGE'))
             AND (old.chat_id != '' OR new.chat_id != '') BEGIN
            {activity_upsert("old.chat_id")}
            {activity_upsert("new.chat_id")}
            DELETE FROM chat_activity WHERE chat_id = '';
        END;
        CREATE TRIGGER chat_activity_delete AFTER DELETE ON item
        WHEN old.kind IN ('CHAT', 'MESSAGE') AND old.chat_id != '' BEGIN
            {activity_upsert("old.chat_id")}
            DELETE FROM chat_activity WHERE chat_id = old.chat_id AND NOT EXISTS (
                SELECT 1 FROM item WHERE chat_id = old.chat_id AND kind IN ('CHAT', 'MESSAGE'));
        END;
        INSERT INTO chat_activity(chat_id, activity)
            SELECT chat_id, MAX(COALESCE(MAX(CASE WHEN kind = 'CHAT' THEN created_at END), 0),
                                COALESCE(MAX(CASE WHEN kind = 'MESSAGE' AND hidden = 0
                                                  THEN created_at END), 0))
            FROM item WHERE kind IN ('CHAT', 'MESSAGE') AND chat_id != '' GROUP BY chat_id;
        """,
    )


#: The rows ``item_pinned`` holds: a query must state this condition word for word for
#: SQLite to use the index. Which of them are pins is decided in Python (``data/pins.py``).
PINNED_CHAT_ROWS = (
    "kind = 'CHAT' AND hidden = 0 AND json_type(COALESCE(local, remote), '$.pinnedAt.N') IS NOT NULL"
)


def _v6(conn: sqlite3.Connection) -> None:
    conn.execute(f"CREATE INDEX item_pinned ON item(chat_id) WHERE {PINNED_CHAT_ROWS}")


def _activity_of(chat_id: str) -> str:
    """SQL for the stored activity of chat ``chat_id``, or a number below any timestamp
    when none is stored (a comparison with it is then never true)."""
    return f"COALESCE((SELECT activity FROM chat_activity WHERE chat_id = {chat_id}), -9223372036854775808)"


def _v7(conn: sqlite3.Connection) -> None:
    """Triggers that do only the work a row's change calls for.

    Search: a hidden row has no entry at all, so a row hidden before and after a change
    (a chat being forgotten once its delete is confirmed) costs the index nothing; the
    content view lists visible rows only, so a rebuild gives the same index.

    Activity (the later of the chat row's creation and its newest visible message): a
    row of the same chat and kind before and after, whose timestamps are both below the
    chat's activity, cannot change it when that activity is above 0 (another row
    reaches it); nor can deleting a message that is hidden, or older than such an
    activity, while its chat row stays. At 0 or below the activity may be the floor 0
    of a chat without visible messages (a chat row of another writer's time before
    1970), which hiding, showing or deleting its only visible message changes: such
    rows are never skipped. Hiding a chat then recomputes its activity for its newest message only, and
    forgetting it (messages first, its chat row last) once, for the chat row. A chat
    whose last row moves to another chat loses its activity row (v5 kept it).
    """
    _run_script(
        conn,
        f"""
        INSERT INTO search_index(search_index, rowid, text)
            SELECT 'delete', id, '' FROM item WHERE hidden != 0;
        DROP VIEW item_text;
        CREATE VIEW item_text(id, text) AS
            SELECT id, {text_expression("item")} FROM item WHERE hidden = 0;
        DROP TRIGGER item_text_insert;
        DROP TRIGGER item_text_delete;
        DROP TRIGGER item_text_update;
        CREATE TRIGGER item_text_insert AFTER INSERT ON item WHEN new.hidden = 0 BEGIN
            INSERT INTO search_index(rowid, text) VALUES (new.id, {text_expression("new")});
        END;
        CREATE TRIGGER item_text_delete AFTER DELETE ON item WHEN old.hidden = 0 BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                VALUES ('delete', old.id, {text_expression("old")});
        END;
        CREATE TRIGGER item_text_update AFTER UPDATE OF kind, remote, local, hidden ON item
        WHEN old.hidden = 0 OR new.hidden = 0 BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                SELECT 'delete', old.id, {text_expression("old")} WHERE old.hidden = 0;
            INSERT INTO search_index(rowid, text)
                SELECT new.id, {text_expression("new")} WHERE new.hidden = 0;
        END;
        DROP TRIGGER chat_activity_update;
        DROP TRIGGER chat_activity_delete;
        CREATE TRIGGER chat_activity_update AFTER UPDATE OF kind, chat_id, hidden, created_at ON item
        WHEN (old.kind IN ('CHAT', 'MESSAGE') OR new.kind IN ('CHAT', 'MESSAGE'))
             AND (old.chat_id != '' OR new.chat_id != '')
             AND NOT (new.chat_id = old.chat_id AND new.kind = old.kind
                      AND MAX(old.created_at, new.created_at, 0) < {_activity_of("new.chat_id")}) BEGIN
            {activity_upsert("old.chat_id")}
            {activity_upsert("new.chat_id")}
            DELETE FROM chat_activity WHERE chat_id = '' OR (chat_id = old.chat_id AND NOT EXISTS (
                SELECT 1 FROM item WHERE chat_id = old.chat_id AND kind IN ('CHAT', 'MESSAGE')));
        END;
        CREATE TRIGGER chat_activity_delete AFTER DELETE ON item
        WHEN old.kind IN ('CHAT', 'MESSAGE') AND old.chat_id != ''
             AND NOT (old.kind = 'MESSAGE'
                      AND (old.hidden != 0 OR MAX(old.created_at, 0) < {_activity_of("old.chat_id")})
                      AND EXISTS (SELECT 1 FROM item WHERE chat_id = old.chat_id AND kind = 'CHAT')) BEGIN
            {activity_upsert("old.chat_id")}
            DELETE FROM chat_activity WHERE chat_id = old.chat_id AND NOT EXISTS (
                SELECT 1 FROM item WHERE chat_id = old.chat_id AND kind IN ('CHAT', 'MESSAGE'));
        END;
        """,
    )


def _v8(conn: sqlite3.Connection) -> None:
    """Rows of ``hidden = 2`` keep their full-text entry; a change that leaves an indexed
    row's text as it was touches no entry. No entry changes here: no earlier release
    wrote ``hidden = 2``, and v7 left an entry to every other row but the hidden ones."""
    _run_script(
        conn,
        f"""
        DROP VIEW item_text;
        CREATE VIEW item_text(id, text) AS SELECT id, {indexed_text("item")} FROM item WHERE hidden != 1;
        DROP TRIGGER item_text_insert;
        DROP TRIGGER item_text_delete;
        DROP TRIGGER item_text_update;
        CREATE TRIGGER item_text_insert AFTER INSERT ON item WHEN new.hidden != 1 BEGIN
            INSERT INTO search_index(rowid, text) VALUES (new.id, {indexed_text("new")});
        END;
        CREATE TRIGGER item_text_delete AFTER DELETE ON item WHEN old.hidden != 1 BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                VALUES ('delete', old.id, {indexed_text("old")});
        END;
        CREATE TRIGGER item_text_update AFTER UPDATE OF kind, remote, local, hidden ON item
        WHEN (old.hidden != 1 OR new.hidden != 1)
             AND NOT (old.hidden != 1 AND new.hidden != 1
                      AND {indexed_text("old")} = {indexed_text("new")}) BEGIN
            INSERT INTO search_index(search_index, rowid, text)
                SELECT 'delete', old.id, {indexed_text("old")} WHERE old.hidden != 1;
            INSERT INTO search_index(rowid, text)
                SELECT new.id, {indexed_text("new")} WHERE new.hidden != 1;
        END;
        """,
    )


MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8]
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``, one transaction a step; returns the old version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Safe when other
    connections migrate the same file at the same time: every step runs under the write
    lock (BEGIN IMMEDIATE, waiting up to the busy timeout) and only when the version read
    inside that transaction still calls for it.
    """
    found = current = user_version(conn)
    _check_known(current)
    while current < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(conn)  # another connection may have moved it meanwhile
            _check_known(current)
            if current >= target:
                conn.execute("COMMIT")
                break
            version = current + 1
            MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite rolls back by itself after some errors (a full disk)
                conn.execute("ROLLBACK")
            raise
        current = version
        log.info("mirror schema migrated to version %d", version)
    return found


def _check_known(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise MirrorTooNew(
            f"The local mirror was written by a newer version of Galileio Desktop "
            f"(schema {version}, this version knows up to {SCHEMA_VERSION}). Update the app."
        )
