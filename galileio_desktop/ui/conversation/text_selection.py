"""A selection of message text, from an anchor to a focus point, across any number of rows.

Bubbles are painted, so the text in them is selected the way a browser selects a
page: a point is (row key, character position in the row's laid-out document), the
anchor is where the selection started and the focus where it ends now. Rows
between the two are selected whole. Keys, not row numbers, are kept: an older page
inserted above moves every row number, never the selection.

Copying takes the rows' documents: plain text (what the user reads) or Markdown
(the message's source when a row is selected whole, Qt's Markdown of the fragment
otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QTextCursor, QTextDocument

#: Between the text of two messages in a copy.
MESSAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class TextPoint:
    """A place in the text of one row: its key and a character position in its document."""

    key: str
    pos: int


@dataclass(frozen=True)
class TextSelection:
    """From ``anchor`` (where the user started) to ``focus`` (where the user is now)."""

    anchor: TextPoint
    focus: TextPoint

    @property
    def is_empty(self) -> bool:
        return self.anchor == self.focus

    def ordered(self, row_of: Callable[[str], int | None]) -> tuple[int, int, int, int] | None:
        """(first row, its start, last row, its end) in display order; None when either
        end's row is gone (a chat switch, a deleted message)."""
        a_row = row_of(self.anchor.key)
        f_row = row_of(self.focus.key)
        if a_row is None or f_row is None:
            return None
        a = (a_row, self.anchor.pos)
        f = (f_row, self.focus.pos)
        first, last = (a, f) if a <= f else (f, a)
        return (first[0], first[1], last[0], last[1])

    def range_in(self, row: int, length: int, row_of: Callable[[str], int | None]) -> tuple[int, int] | None:
        """The selected characters of row number ``row`` whose text has ``length``
        characters, as (start, end); None when none of it is selected."""
        span = self.ordered(row_of)
        if span is None or self.is_empty:
            return None
        first_row, start, last_row, end = span
        if not first_row <= row <= last_row:
            return None
        begin = start if row == first_row else 0
        finish = end if row == last_row else length
        begin = max(0, min(begin, length))
        finish = max(0, min(finish, length))
        if finish <= begin:
            return None
        return (begin, finish)


def text_length(document: QTextDocument) -> int:
    """The last position a selection can reach in ``document``."""
    return max(0, document.characterCount() - 1)


def cursor_for(document: QTextDocument, start: int, end: int) -> QTextCursor:
    cursor = QTextCursor(document)
    length = text_length(document)
    cursor.setPosition(max(0, min(start, length)))
    cursor.setPosition(max(0, min(end, length)), QTextCursor.MoveMode.KeepAnchor)
    return cursor


def plain_text(document: QTextDocument, start: int, end: int) -> str:
    """The text between two positions as the user reads it (no Markdown marks)."""
    return cursor_for(document, start, end).selection().toPlainText()


def markdown_text(document: QTextDocument, start: int, end: int, source: str) -> str:
    """The Markdown of the text between two positions: ``source`` when it is all of it."""
    if start <= 0 and end >= text_length(document):
        return source
    return cursor_for(document, start, end).selection().toMarkdown().strip("\n")


def word_at(document: QTextDocument, pos: int) -> tuple[int, int]:
    """The word around ``pos`` (a double click)."""
    cursor = cursor_for(document, pos, pos)
    cursor.select(QTextCursor.SelectionType.WordUnderCursor)
    return (cursor.selectionStart(), cursor.selectionEnd())


def paragraph_at(document: QTextDocument, pos: int) -> tuple[int, int]:
    """The paragraph (block) around ``pos`` (a triple click), without its line break."""
    block = document.findBlock(max(0, min(pos, text_length(document))))
    return (block.position(), block.position() + max(0, block.length() - 1))
