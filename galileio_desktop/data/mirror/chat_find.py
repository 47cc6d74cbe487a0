"""Find in chat: every occurrence of a piece of text in one chat's visible messages.

Unlike the full-text index (:mod:`.search`, whole words across all chats), this finds
text as typed inside words too ("ell" in "hello"), in one chat, and counts occurrences.

What a hit is: one occurrence of the term in the text of a message as it is stored (its
Markdown source, which is what the pane renders), counted without overlaps from the start
of the text, the way a text editor's "find next" steps through it ("aa" occurs once in
"aaa"). A message holding the term three times is three hits.

Matching is Unicode-aware and case-insensitive: term and text are compared case-folded
(``"STRASSE"`` finds ``"Straße"``) and in composed form (an ``é`` typed as one character
finds one stored as ``e`` plus an accent). Every character of the term is literal: it
never reaches SQL, so ``%``, ``_``, quotes, emoji, control and right-to-left characters
are just text. An empty term finds nothing.

The scan reads the chat's visible messages through the ``item_chat`` index and counts in
Python once the read is over, so the mirror's lock is held only for the read (a 10,000
message chat reads in a few tens of milliseconds).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from ..schema import TypedItem
from .codec import loads


class FindHit(NamedTuple):
    """A message of the chat holding the term, and how many times it does.

    ``newer``: how many visible messages of the chat come after it, so a view showing the
    newest messages knows how far up it is and can load the pages down to it at once.
    """

    message_id: str
    created_at: int
    count: int
    newer: int = 0


class MessageText(NamedTuple):
    message_id: str
    created_at: int
    text: str
    newer: int = 0


# Visible messages of one chat, oldest first (the order the pane shows them in), with
# their text; a message whose text is not a string (another writer's) has none to find.
# SQLite's JSON functions cut a string at a NUL character: the rare item holding one
# (escaped as \u0000 in the stored JSON) comes whole, to be decoded here.
_TEXTS_SQL = """
SELECT message_id, created_at, json_extract(body, '$.data.M.content.S'),
       CASE WHEN instr(body, '\\u0000') THEN body END
FROM (SELECT message_id, created_at, id, COALESCE(local, remote) AS body
      FROM item
      WHERE chat_id = ? AND kind = 'MESSAGE' AND hidden = 0)
ORDER BY created_at, id
"""


def fold(text: str) -> str:
    """``text`` as compared: case-folded, then composed (NFC)."""
    return unicodedata.normalize("NFC", text.casefold())


def message_texts(conn: sqlite3.Connection, chat_id: str) -> list[MessageText]:
    """The text of every visible message of ``chat_id``, oldest first."""
    rows = conn.execute(_TEXTS_SQL, (chat_id,)).fetchall()
    found = []
    for number, (message_id, created_at, text, whole) in enumerate(rows):
        if whole is not None:
            text = _content(loads(whole))
        if isinstance(text, str) and text:
            found.append(MessageText(str(message_id), int(created_at), text, len(rows) - 1 - number))
    return found


def _content(item: TypedItem) -> object:
    data = item.get("data")
    content = data.get("M", {}).get("content") if isinstance(data, dict) else None
    return content.get("S") if isinstance(content, dict) else None


def find(texts: Iterable[MessageText], term: str) -> list[FindHit]:
    """The messages of ``texts`` holding ``term``, in the order given, with their counts."""
    needle = fold(term)
    if not needle:
        return []
    hits = []
    for message in texts:
        count = fold(message.text).count(needle)
        if count:
            hits.append(FindHit(message.message_id, message.created_at, count, message.newer))
    return hits
