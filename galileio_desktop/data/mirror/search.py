"""Full-text search of the mirror: chat titles, message text and source text.

An FTS5 index (tokenizer ``unicode61 remove_diacritics 2``: "cafe" finds "Café")
kept current by triggers on the item rows (see :mod:`.migrations`), ranked with
bm25 over a bounded set of the most recent matches (see :data:`CANDIDATES`), with
snippets around the matches. Only what the user can see is indexed:
hidden rows index nothing, and hits are kept to chats that are shown.

The user's words are quoted one by one, so punctuation and FTS5 operators in a query
are searched for as text instead of failing; a trailing ``*`` asks for a prefix.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, NamedTuple

from ..schema import DEFAULT_CHAT_TITLE
from .migrations import HIDDEN_INDEXED

SNIPPET_START = "\u0002"  # markers around matched words; the UI turns them into highlights
SNIPPET_END = "\u0003"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 16

_WORD = re.compile(r"[^\s\"]+\*?")


class SearchHit(NamedTuple):
    """A chat, message or source that matches; ``message_id`` None for a chat title."""

    chat_id: str
    message_id: str | None
    title: str
    snippet: str
    rank: float
    kind: str = "MESSAGE"

    def as_json(self) -> dict[str, Any]:
        return {
            "chatId": self.chat_id,
            "messageId": self.message_id,
            "title": self.title,
            "snippet": plain_snippet(self.snippet),
            "kind": self.kind.lower(),
        }


def plain_snippet(snippet: str, start: str = "[", end: str = "]") -> str:
    """A snippet with its match markers as visible brackets (for the CLI)."""
    return snippet.replace(SNIPPET_START, start).replace(SNIPPET_END, end)


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query: every word must appear; ``word*`` is a prefix.

    A NUL character would end the query string early for SQLite ("unterminated string"):
    it is dropped (the index holds none of it either way).
    """
    terms = []
    for word in _WORD.findall(text.replace("\x00", "")):
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not word:
            continue
        terms.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) if terms else None


def highlight_terms(text: str) -> list[str]:
    """What to mark in a message a query found, best first: the query as typed (trimmed),
    then its first word (without a prefix ``*``).

    The index finds messages holding every word in any order, so the words as typed may
    not stand together in the message; its first word is there (unless the index matched
    it through a diacritic or a prefix). Empty for a query of no words.
    """
    typed = text.replace("\x00", "").strip()
    words = [word.rstrip("*") for word in _WORD.findall(typed)]
    terms = [typed] if any(words) else []
    first = next((word for word in words if word), "")
    if first and first != typed:
        terms.append(first)
    return terms


#: At most this many matches are ranked: the most recently stored ones (highest row ids).
#: A word found in tens of thousands of messages would otherwise have every match scored
#: with bm25 before the best 50 are known (about 80 ms on 100,000 messages); a query with
#: fewer matches than this is ranked over all of them, exactly as before.
CANDIDATES = 500

# Candidates come from the FTS doclist newest first and stop at the bound; only the best
# few of them are joined with their rows (the room left for the filters below is
# ``limit * 2 + 10``: they rarely drop a hit, rows hidden for good index no text).
# A chat whose delete is queued keeps its entries until the delete is sent (see
# overlay.refresh_chat: its chat row and messages are hidden as HIDDEN_INDEXED), offline
# for days perhaps: while any is, the candidates of such chats are left out before the
# bound (``{leave_out}``: each candidate's chat id, read from the start of its row), so
# their many passages never take the room of the hits that are shown. With a chat of
# 10,000 messages queued a search of the scale tier's mirror took 3.0 -> 4.7 ms (median;
# gathering the chat's rows from the indexes first took 39 ms); with none queued the
# statement is the one without the check.
# Equal scores go newest first, so the order is stable.
_SEARCH_TEMPLATE = """
WITH {queued}candidates AS (
    SELECT rowid AS id, bm25(search_index) AS score
    FROM search_index
    WHERE search_index MATCH :query{leave_out}
    ORDER BY rowid DESC
    LIMIT :candidates
),
ranked AS (
    SELECT id, score FROM candidates ORDER BY score, id DESC LIMIT :room
)
SELECT i.id, i.kind, i.chat_id, i.message_id, r.score,
       json_extract(COALESCE(c.local, c.remote), '$.title.S') AS title
FROM ranked AS r
JOIN item AS i ON i.id = r.id
JOIN item AS c ON c.sk = 'CHAT#' || i.chat_id AND c.kind = 'CHAT' AND c.hidden = 0
WHERE i.hidden = 0
  AND (i.kind != 'SOURCE' OR EXISTS (
        SELECT 1 FROM item AS m INDEXED BY item_message
        WHERE m.message_id = i.message_id AND m.kind = 'MESSAGE' AND m.hidden = 0))
ORDER BY r.score, r.id DESC
LIMIT :limit
"""
_QUEUED_CHATS = f"""queued(chat_id) AS (
    SELECT chat_id FROM item INDEXED BY item_kind WHERE kind = 'CHAT' AND hidden = {HIDDEN_INDEXED}
),
"""
_SEARCH_SQL = _SEARCH_TEMPLATE.format(queued="", leave_out="")
_SEARCH_LEAVING_OUT_SQL = _SEARCH_TEMPLATE.format(
    queued=_QUEUED_CHATS,
    leave_out=" AND (SELECT chat_id FROM item WHERE id = search_index.rowid) NOT IN queued",
)
_ANY_QUEUED_SQL = (
    f"SELECT 1 FROM item INDEXED BY item_kind WHERE kind = 'CHAT' AND hidden = {HIDDEN_INDEXED} LIMIT 1"
)

# Snippets for the chosen rows only. They are all among the candidates, so walking the
# doclist down to the oldest of them visits at most CANDIDATES rows; CASE keeps FTS5
# from making a snippet for the rows passed on the way.
_SNIPPET_SQL = f"""
SELECT rowid,
       CASE WHEN rowid IN (SELECT value FROM json_each(:ids))
            THEN snippet(search_index, 0, :start, :end, '{SNIPPET_ELLIPSIS}', {SNIPPET_TOKENS}) END
FROM search_index
WHERE search_index MATCH :query AND rowid >= :oldest
ORDER BY rowid DESC
"""


def search(conn: sqlite3.Connection, text: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first (bm25), among the :data:`CANDIDATES` most recent matches.

    Two statements: call it inside one read transaction so both see the same data.
    """
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    room = limit * 2 + 10
    queued = conn.execute(_ANY_QUEUED_SQL).fetchone() is not None
    rows = conn.execute(
        _SEARCH_LEAVING_OUT_SQL if queued else _SEARCH_SQL,
        {"query": query, "candidates": max(CANDIDATES, room), "room": room, "limit": limit},
    ).fetchall()
    if not rows:
        return []
    ids = [int(row[0]) for row in rows]
    snippets = {
        int(rowid): str(snip)
        for rowid, snip in conn.execute(
            _SNIPPET_SQL,
            {
                "ids": json.dumps(ids),
                "start": SNIPPET_START,
                "end": SNIPPET_END,
                "query": query,
                "oldest": min(ids),
            },
        )
        if snip is not None
    }
    return [
        SearchHit(
            chat_id=str(chat_id),
            message_id=None if kind == "CHAT" else str(message_id),
            title=str(title) if title is not None else DEFAULT_CHAT_TITLE,
            snippet=snippets.get(int(item_id), ""),
            rank=float(score),
            kind=str(kind),
        )
        for item_id, kind, chat_id, message_id, score, title in rows
    ]
