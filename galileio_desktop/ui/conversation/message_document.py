"""One message laid out for the pane: safe Markdown, plus what lets an analyst use it.

- **Citations.** A marker ``[n]`` that matches one of the answer's sources (1 to the
  number of sources, outside code) becomes a link ``cite:n``; any other stays text.
- **Code.** Fenced blocks are highlighted by their language and never wrap: a line
  longer than the bubble runs on, and the pane scrolls the block sideways. Each block
  keeps its exact code for Copy (:class:`~.code_highlight.CodeBlock`).
- **Tables.** A column never breaks inside a word. A table that cannot fit so shows
  the columns that do, and every table is followed by an "Open table" link
  (``table:i``): the whole table, sortable, copyable and savable, in a dialog.

Building stays on the GUI thread (Qt documents are not shared across threads), for
rows on screen or about to be, in steps (:func:`build_steps`) a caller can spread over
turns of the event loop; the delegate caches the result per row and width.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextLength,
    QTextTable,
)

from .code_highlight import CodeBlock, code_blocks, highlight_steps
from .safe_markdown import SafeMarkdownDocument, render_markdown

T = TypeVar("T")

CITE_PREFIX = "cite:"
TABLE_PREFIX = "table:"
_CITATION = re.compile(r"\[(\d{1,4})\]")
#: Slack added to each column's text width, in pixels (rounding in Qt's table layout).
COLUMN_SLACK_PX = 2


@dataclass
class Anchor:
    """A link in a message: where it is and where it points."""

    start: int
    end: int
    href: str


@dataclass
class MessageParts:
    """What a built message holds besides its text (see the module docstring)."""

    code: list[CodeBlock] = field(default_factory=list)
    tables: list[Any] = field(default_factory=list)  # TableData of .table_view_dialog
    anchors: list[Anchor] = field(default_factory=list)
    #: Where the code blocks are once laid out (the delegate's, worked out at the first
    #: paint: every paint needs them, and they cost a look at each line of code).
    code_places: list[Any] | None = None


class MessageDocument(SafeMarkdownDocument):
    """A message's laid-out text and its :class:`MessageParts`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parts = MessageParts()


def citation_number(href: str) -> int:
    """The source number of a ``cite:n`` link; 0 for any other link."""
    if not href.startswith(CITE_PREFIX):
        return 0
    digits = href[len(CITE_PREFIX) :]
    return int(digits) if digits.isdigit() else 0


def table_number(href: str) -> int:
    """The table index of a ``table:i`` link; -1 for any other link."""
    if not href.startswith(TABLE_PREFIX):
        return -1
    digits = href[len(TABLE_PREFIX) :]
    return int(digits) if digits.isdigit() else -1


def build_message_document(
    text: str,
    *,
    width: float,
    font: QFont,
    code_background: QColor,
    link_colour: QColor,
    dark: bool,
    source_count: int = 0,
    parent: QObject | None = None,
) -> MessageDocument:
    """Render ``text`` at ``width`` pixels (see the module docstring)."""
    return run_steps(
        build_steps(
            text,
            width=width,
            font=font,
            code_background=code_background,
            link_colour=link_colour,
            dark=dark,
            source_count=source_count,
            parent=parent,
        )
    )


def build_steps(
    text: str,
    *,
    width: float,
    font: QFont,
    code_background: QColor,
    link_colour: QColor,
    dark: bool,
    source_count: int = 0,
    parent: QObject | None = None,
) -> Generator[None, None, MessageDocument]:
    """:func:`build_message_document` in steps: it yields between the parts of the work
    (the Markdown; the code's colours, about :data:`.code_highlight.STEP_SECONDS` of
    lexing a step; the citations; each table; the layout), so a message can be spread
    over turns of the event loop, no step much over a millisecond; the document is its
    return value. Closed before its end, it deletes the document it was building."""
    doc = MessageDocument(parent)
    try:
        doc.setDocumentMargin(0)
        render_markdown(doc, text, code_background=code_background, base_font=font)
        doc.parts.code = code_blocks(doc)
        yield
        if doc.parts.code:
            _never_wrap(doc, doc.parts.code)
            yield from highlight_steps(doc, dark, doc.parts.code)
            yield
        if source_count > 0:
            _link_citations(doc, source_count, link_colour)
        if (yield from _fit_tables(doc, width, link_colour)):
            yield
        doc.setTextWidth(width)
        doc.parts.anchors = _anchors(doc)
    except GeneratorExit:
        with contextlib.suppress(RuntimeError):  # (gone already with its parent)
            doc.deleteLater()
        raise
    return doc


def run_steps(steps: Generator[None, None, T]) -> T:
    """Run a generator of steps to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _never_wrap(doc: SafeMarkdownDocument, blocks: list[CodeBlock]) -> None:
    fmt = QTextBlockFormat()
    fmt.setNonBreakableLines(True)
    cursor = QTextCursor(doc)
    for code in blocks:
        for block in code.blocks(doc):
            cursor.setPosition(block.position())
            cursor.mergeBlockFormat(fmt)


def _link_citations(doc: SafeMarkdownDocument, source_count: int, colour: QColor) -> None:
    """Make each ``[n]`` with 1 <= n <= ``source_count`` a ``cite:n`` link (outside code)."""
    found: list[tuple[int, int, int]] = []
    block = doc.begin()
    while block.isValid():
        if not block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence):
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt = fragment.charFormat()
                if not fmt.isAnchor() and not fmt.fontFixedPitch():
                    for match in _CITATION.finditer(fragment.text()):
                        number = int(match.group(1))
                        if 1 <= number <= source_count:
                            start = fragment.position() + match.start()
                            found.append((start, start + len(match.group(0)), number))
                it += 1
        block = block.next()
    cursor = QTextCursor(doc)
    for start, end, number in found:
        link = QTextCharFormat()
        link.setAnchor(True)
        link.setAnchorHref(f"{CITE_PREFIX}{number}")
        link.setForeground(colour)
        link.setFontWeight(QFont.Weight.DemiBold)
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(link)


def _tables(doc: SafeMarkdownDocument) -> list[QTextTable]:
    found: list[QTextTable] = []
    seen: set[int] = set()
    block = doc.begin()
    while block.isValid():
        table = QTextCursor(block).currentTable()
        if table is not None and table.firstPosition() not in seen:
            seen.add(table.firstPosition())
            found.append(table)
        block = block.next()
    return found


def _fit_tables(doc: MessageDocument, width: float, link_colour: QColor) -> Generator[None, None, bool]:
    """Give every column at least its longest word; a table too wide for that keeps the
    columns that fit. Each table gets an "Open table" link below it. False when the
    message has no table. In steps: the tables read for their dialog, then each table's
    columns measured (a wide table's cells take a millisecond or two)."""
    tables = _tables(doc)
    if not tables:
        return False
    # Read every table before any is changed: positions move as columns go.
    from .table_view_dialog import markdown_tables

    doc.parts.tables = markdown_tables(doc)
    plan = []
    for table in tables:
        yield
        plan.append(_column_plan(table, width))
    yield
    for number in reversed(range(len(tables))):
        table, (widths, shown) = tables[number], plan[number]
        if shown < table.columns():
            table.removeColumns(shown, table.columns() - shown)
        fmt = table.format()
        chrome = _cell_chrome(table)
        fmt.setColumnWidthConstraints(
            [QTextLength(QTextLength.Type.FixedLength, w + chrome) for w in widths[:shown]]
        )
        table.setFormat(fmt)
        label = "Open table"
        if shown < len(widths):
            label = f"Showing {shown} of {len(widths)} columns. Open table"
        _insert_after(doc, table, label, f"{TABLE_PREFIX}{number}", link_colour)
    return True


def _column_plan(table: QTextTable, width: float) -> tuple[list[float], int]:
    """Column widths (content, without padding) and how many columns are shown."""
    columns = table.columns()
    words = [0.0] * columns
    whole = [0.0] * columns
    for r in range(table.rows()):
        for c in range(columns):
            cell = table.cellAt(r, c)
            cursor = cell.firstCursorPosition()
            metrics = QFontMetricsF(cursor.charFormat().font())
            cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            text = cursor.selectedText().replace("\u2029", " ")
            for word in text.split():
                words[c] = max(words[c], metrics.horizontalAdvance(word))
            whole[c] = max(whole[c], metrics.horizontalAdvance(text))
    per_column = _cell_chrome(table) + table.format().cellSpacing()
    outside = 2 * table.format().border() + table.format().cellSpacing() + 2 * table.format().margin()
    chrome = per_column * columns + outside
    if sum(whole) + chrome <= width:
        return (whole, columns)
    if sum(words) + chrome <= width:
        spare = width - chrome - sum(words)
        wanted = [w - m for w, m in zip(whole, words, strict=True)]
        total = sum(wanted) or 1.0
        return ([m + spare * w / total for m, w in zip(words, wanted, strict=True)], columns)
    shown, used = 0, outside
    while shown < columns and used + words[shown] + per_column <= width:
        used += words[shown] + per_column
        shown += 1
    return (words, max(1, shown))


def _cell_chrome(table: QTextTable) -> float:
    """What a column adds to its text's width: the cells' padding and borders."""
    fmt = table.format()
    return 2 * fmt.cellPadding() + 2 * fmt.border() + COLUMN_SLACK_PX


def _insert_after(
    doc: SafeMarkdownDocument, table: QTextTable, label: str, href: str, colour: QColor
) -> None:
    cursor = QTextCursor(doc)
    cursor.setPosition(table.lastPosition() + 1)
    cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
    cursor.movePosition(QTextCursor.MoveOperation.PreviousBlock)
    link = QTextCharFormat()
    link.setAnchor(True)
    link.setAnchorHref(href)
    link.setForeground(colour)
    link.setFontUnderline(True)
    cursor.insertText(label, link)


def _anchors(doc: SafeMarkdownDocument) -> list[Anchor]:
    """Every link of the document in reading order (for Tab and the focus ring)."""
    found: list[Anchor] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                start = fragment.position()
                end = start + fragment.length()
                if found and found[-1].href == fmt.anchorHref() and found[-1].end == start:
                    found[-1].end = end
                else:
                    found.append(Anchor(start, end, fmt.anchorHref()))
            it += 1
        block = block.next()
    return found
