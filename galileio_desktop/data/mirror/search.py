"""Full-text search of the mirror: chat titles, message text and source text.

An FTS5 index (tokenizer ``unicode61 remove_diacritics 2``: "cafe" finds "Café")
kept current by triggers on the item rows (see :mod:`.migrations`), ranked with
bm25, with snippets around the matches. Only what the user can see is indexed:
hidden rows index nothing, and hits are kept to chats that are shown.

The user's words are quoted one by one, so punctuation and FTS5 operators in a query
are searched for as text instead of failing; a trailing ``*`` asks for a prefix.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..schema import DEFAULT_CHAT_TITLE

SNIPPET_START = "\u0002"  # markers around matched words; the UI turns them into highlights
SNIPPET_END = "\u0003"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 16

_WORD = re.compile(r"[^\s\"]+\*?")


@dataclass(frozen=True)
class SearchHit:
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
    """The user's words as an FTS5 query: every word must appear; ``word*`` is a prefix."""
    terms = []
    for word in _WORD.findall(text):
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not word:
            continue
        terms.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) if terms else None


# The FTS table orders by rank itself and stops at the limit (snippets are made for those
# rows only); the joins then run on that handful. Rows hidden by a pending delete index
# no text, so the filters below rarely drop a hit; the inner limit leaves room for them.
_SEARCH_SQL = f"""
WITH hits AS (
    SELECT rowid AS id, rank AS score,
           snippet(search_index, 0, ?, ?, '{SNIPPET_ELLIPSIS}', {SNIPPET_TOKENS}) AS snip
    FROM search_index
    WHERE search_index MATCH ?
    ORDER BY rank
    LIMIT ?
)
SELECT i.kind, i.chat_id, i.message_id, hits.snip, hits.score,
       json_extract(COALESCE(c.local, c.remote), '$.title.S') AS title
FROM hits
JOIN item AS i ON i.id = hits.id
JOIN item AS c ON c.sk = 'CHAT#' || i.chat_id AND c.kind = 'CHAT' AND c.hidden = 0
WHERE i.hidden = 0
  AND (i.kind != 'SOURCE' OR EXISTS (
        SELECT 1 FROM item AS m WHERE m.message_id = i.message_id AND m.kind = 'MESSAGE' AND m.hidden = 0))
ORDER BY hits.score
LIMIT ?
"""


def search(conn: sqlite3.Connection, text: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first (bm25)."""
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    rows = conn.execute(_SEARCH_SQL, (SNIPPET_START, SNIPPET_END, query, limit * 2 + 10, limit)).fetchall()
    hits = []
    for kind, chat_id, message_id, snip, score, title in rows:
        hits.append(
            SearchHit(
                chat_id=str(chat_id),
                message_id=None if kind == "CHAT" else str(message_id),
                title=str(title) if title is not None else DEFAULT_CHAT_TITLE,
                snippet=str(snip or ""),
                rank=float(score),
                kind=str(kind),
            )
        )
    return hits
