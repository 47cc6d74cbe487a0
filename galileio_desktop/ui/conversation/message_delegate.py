"""Paints message bubbles: the user's on the right, answers on the left, Markdown inside.

Laying out Markdown is the expensive part of a chat view, so the delegate keeps
two caches: wrapped heights by (message key, revision, width), which makes
scrolling a long chat cheap, and a bounded set of laid-out documents for the
rows on screen. A row's geometry (bubble, text origin, Retry and Sources
buttons) comes from one function, :meth:`MessageDelegate.geometry`, used both
to paint and to hit-test clicks in the pane.

A fresh page of 50 answers would take the GUI thread a tenth of a second or more
to lay out at once, so with ``defer_heights`` only the newest rows (those on screen
when a chat opens at its bottom) are measured when the view asks; older rows get
an estimate from their length and are measured a few at a time afterwards
(:meth:`MessageDelegate.pending_row`, :meth:`MessageDelegate.warm`), driven between
events by the pane's :class:`~.row_warmer.RowWarmer`, which first lays out the rows a
scroll is about to show, so that painting them builds nothing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QRegion,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QAbstractScrollArea, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .. import theme
from .message_document import MessageDocument, build_steps, run_steps
from .message_list_model import HUMAN, MessageListModel, MessageRoles, MessageRow
from .text_selection import TextSelection, cursor_for, text_length

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

SCROLL_BAR_PX = 6
SIDE_MARGIN = 18
V_MARGIN = 7
PAD_X = 14
PAD_Y = 10
HEADER_GAP = 4
FOOTER_GAP = 5
MAX_TEXT_WIDTH = 760
HUMAN_SHARE = 0.78
DOC_CACHE_SIZE = 256
#: Rows whose geometry is kept for the next paint (those on screen, and a few screens more).
GEOMETRY_CACHE_SIZE = 1_024
HEIGHT_CACHE_SIZE = 50_000
#: With deferred heights, the chat's newest rows are measured when asked, back to those
#: that fill the view (what it shows when the chat opens at its bottom), this many at
#: most; the others are estimated.
EXACT_TAIL_ROWS = 12


@dataclass(frozen=True)
class RowGeometry:
    """Where the parts of one row are, relative to the row's top-left corner."""

    height: int
    header: QRect
    bubble: QRect
    text_origin: QPoint
    footer: QRect
    retry: QRect
    sources: QRect


@dataclass(frozen=True)
class CodeArea:
    """One code block of a laid-out message, in document coordinates: the whole block
    with its header, the lines alone, its Copy button, and how far its longest line
    runs past the bubble (0 when it fits)."""

    number: int
    rect: QRectF
    lines: QRectF
    copy: QRectF
    overflow: float
    language: str


class MessageDelegate(QStyledItemDelegate):
    """Bubble painter with cached heights and documents; the pane calls :meth:`set_width`.

    Signals:
        sig_estimates_made(): some rows were given estimated heights (see :meth:`pending_row`).
    """

    sig_estimates_made = Signal()
    """Rows wait to be measured: :meth:`warm` each :meth:`pending_row` soon."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._width = 600
        self._font = QFont()
        self._set_font(self._font)
        #: Each row's geometry at the current width and font, by key, with the row and the
        #: footer text it is for: a paint asks for it every time the row shows.
        self._geometries: OrderedDict[str, tuple[MessageRow, str, RowGeometry]] = OrderedDict()
        #: Colours worked out from a palette, by (palette, colour): a paint asks for a
        #: dozen a row, and some are a search for a contrast (see :meth:`_colour`).
        self._colours: dict[tuple[int, Callable[[QPalette], QColor]], QColor] = {}
        #: The palette a row's text is painted with, by (palette, muted).
        self._text_palettes: dict[tuple[int, bool], QPalette] = {}
        self._dark = False
        self._code_bg = QColor()
        self._heights: OrderedDict[tuple[str, int, int, bool], int] = OrderedDict()
        self._docs: OrderedDict[tuple[str, int, int, int], MessageDocument] = OrderedDict()
        #: Rows given an estimate, by row key: (where they are, the estimate handed out).
        self._pending: OrderedDict[str, tuple[QPersistentModelIndex, int]] = OrderedDict()
        #: The measured size of each row at the current width, by key, with the row it is
        #: for (rows are immutable: another object is another text or footer). Every layout
        #: of the view asks every row; this answers without working the height out again.
        self._sizes: OrderedDict[str, tuple[MessageRow, QSize]] = OrderedDict()
        #: The row being laid out in steps by :meth:`warm`: its cache key and the steps left.
        self._warming: tuple[tuple[str, int, int, int], Generator[None, None, MessageDocument]] | None = None
        #: Estimate the heights of rows older than the newest ones, those that fill the
        #: view (:data:`EXACT_TAIL_ROWS` at most).
        self.defer_heights = False
        #: The first row of the newest ones measured when asked, with what it was worked
        #: out for: (model, rows, newest row's key, width, view height).
        self._tail: tuple[tuple[int, int, str, int, int], int] | None = None
        #: Set by tests to prove the cache works: how many documents were laid out.
        self.documents_built = 0
        #: Find in chat: the term whose every occurrence is marked, and the current hit
        #: as (row key, occurrence number within that row's text), marked more strongly.
        self.find_term = ""
        self.find_current: tuple[str, int] | None = None
        #: The text selected with the mouse or keyboard (see :mod:`.text_selection`).
        self.selection: TextSelection | None = None
        #: How far each overflowing code block is scrolled sideways, by (row key, block).
        self.code_offsets: dict[tuple[str, int], float] = {}
        #: The code block whose Copy was just clicked (its button reads "Copied").
        self.copied_code: tuple[str, int] | None = None
        #: The part of a row that has the keyboard focus: (row key, kind, number), kind
        #: "anchor" (a link or citation, by its place in the text) or "copy" (a code block).
        self.focus_part: tuple[str, str, int] | None = None
        self._link = QColor()
        #: What the view is repainting (viewport coordinates; null outside a paint event): a
        #: scroll repaints the strip it uncovers, and a tall row needs only its part there.
        self.paint_area = QRect()
        self._find_cache: dict[tuple[int, str], list[tuple[int, int]]] = {}

    # -- configuration ------------------------------------------------------------------

    def set_width(self, width: int) -> bool:
        """The viewport width rows wrap to; returns True when it changed."""
        width = max(200, int(width))
        if width == self._width:
            return False
        self._width = width
        self._sizes.clear()
        self._geometries.clear()
        return True

    def set_style(self, font: QFont, palette: QPalette) -> None:
        """Font and palette of the pane; a change drops the documents (colours are baked in)."""
        dark = theme.is_dark(palette)
        code_bg = theme.code_background(palette)
        link = theme.accent(palette)
        if font != self._font or dark != self._dark or code_bg != self._code_bg or link != self._link:
            self._set_font(QFont(font))
            self._dark = dark
            self._code_bg = code_bg
            self._link = link
            self.clear_caches()

    def _set_font(self, font: QFont) -> None:
        """The pane's font, and the smaller ones of headers, footers and code labels."""
        self._font = font
        self._small = theme.scaled_font(font, 0.85)
        self._small_metrics = QFontMetrics(self._small)
        self._bold_small = theme.scaled_font(font, 0.85, bold=True)
        self._bold_metrics = QFontMetrics(self._bold_small)

    def set_find_highlight(self, term: str, current: tuple[str, int] | None = None) -> None:
        """Mark every occurrence of ``term`` (case-insensitive) in the rows painted, and
        ``current`` (row key, occurrence index) more strongly; "" marks nothing."""
        self.find_term = term
        self.find_current = current

    def clear_caches(self) -> None:
        self._stop_warming()
        self._heights.clear()
        self._sizes.clear()
        for doc in self._docs.values():
            doc.deleteLater()
        self._docs.clear()
        self._pending.clear()
        self._tail = None
        self._find_cache.clear()
        self._geometries.clear()
        self._colours.clear()
        self._text_palettes.clear()

    # -- geometry -----------------------------------------------------------------------

    def _max_text_width(self) -> int:
        available = self._width - 2 * SIDE_MARGIN - 2 * PAD_X
        return max(120, min(MAX_TEXT_WIDTH, available))

    def _text_limit(self, row: MessageRow) -> int:
        limit = self._max_text_width()
        if row.kind == HUMAN:
            limit = max(120, min(limit, int((self._width - 2 * SIDE_MARGIN) * HUMAN_SHARE) - 2 * PAD_X))
        return limit

    def _doc_key(self, row: MessageRow) -> tuple[str, int, int, int]:
        return (row.key, row.revision, self._text_limit(row), row.source_count)

    def has_document(self, row: MessageRow) -> bool:
        """Whether ``row`` is laid out at the current width (painting it builds nothing)."""
        return self._doc_key(row) in self._docs

    def warm(self, row: MessageRow, state_text: str, deadline: float | None = None) -> bool | None:
        """Lay ``row`` out before it is painted (see :mod:`.row_warmer`), in steps until
        ``deadline`` (a ``time.perf_counter()``; one step at least): None when it is not
        done (call again, it goes on where it stopped), else True when the row had an
        estimated height and its real one differs (the view must lay out again)."""
        key = self._doc_key(row)
        if key not in self._docs:
            if self._warming is None or self._warming[0] != key:
                self._stop_warming()
                self._warming = (key, self._build_steps(row, key))
            steps = self._warming[1]
            while True:
                try:
                    next(steps)
                except StopIteration:
                    break
                if deadline is not None and time.perf_counter() >= deadline:
                    return None
            self._warming = None
        elif self._warming is not None and self._warming[0] == key:
            self._stop_warming()  # built whole meanwhile, for a paint
        pending = self._pending.pop(row.key, None)
        return pending is not None and self.row_height(row, state_text) != pending[1]

    def pending_row(self) -> MessageRow | None:
        """The next row given an estimated height to measure (the newest, or one on
        screen: see :meth:`paint`), or None."""
        while self._pending:
            key, (where, _) = next(reversed(self._pending.items()))
            if where.isValid():
                row = where.model().index(where.row(), 0).data(MessageRoles.ROW)
                if isinstance(row, MessageRow) and row.key == key:
                    return row
            self._pending.popitem(last=True)  # gone, or moved: laid out again since
        return None

    def _stop_warming(self) -> None:
        if self._warming is not None:
            self._warming[1].close()  # deletes the half-built document
            self._warming = None

    def document(self, row: MessageRow) -> MessageDocument:
        """The laid-out Markdown of ``row`` at the current width (cached)."""
        cache_key = self._doc_key(row)
        doc = self._docs.get(cache_key)
        if doc is not None:
            self._docs.move_to_end(cache_key)
            return doc
        return run_steps(self._build_steps(row, cache_key))

    def _build_steps(
        self, row: MessageRow, cache_key: tuple[str, int, int, int]
    ) -> Generator[None, None, MessageDocument]:
        """The building of ``row``'s document, in steps (see :func:`.build_steps`); the
        document goes into the cache at the end."""
        limit = cache_key[2]
        text = row.text if row.text else ("…" if row.streaming else "")
        doc = yield from build_steps(
            text,
            width=limit,
            font=self._font,
            code_background=self._code_bg,
            link_colour=self._link,
            dark=self._dark,
            source_count=row.source_count,
            parent=self,
        )
        if row.kind == HUMAN and not doc.parts.code and not doc.parts.tables:
            ideal = int(doc.idealWidth()) + 2
            if ideal < limit:
                doc.setTextWidth(ideal)
        self._fit_code_areas(doc)
        try:
            yield
        except GeneratorExit:  # not to be finished: the document goes (unless gone already)
            with contextlib.suppress(RuntimeError):
                doc.deleteLater()
            raise
        doc.size()  # the layout itself: here, not in the paint that shows the row
        built = self._docs.get(cache_key)
        if built is not None:  # built meanwhile (painted while this was on its way)
            doc.deleteLater()
            return built
        self.documents_built += 1
        self._docs[cache_key] = doc
        while len(self._docs) > DOC_CACHE_SIZE:
            _, old = self._docs.popitem(last=False)
            old.deleteLater()
        return doc

    def _fit_code_areas(self, doc: MessageDocument) -> None:
        """Room above each code block for its header: the language, a sideways scroll bar
        when a line is longer than the bubble, and Copy."""
        if not doc.parts.code:
            return
        top = QTextBlockFormat()
        top.setTopMargin(self.code_header_height())
        cursor = QTextCursor(doc)
        for code in doc.parts.code:
            cursor.setPosition(code.blocks(doc)[0].position())
            cursor.mergeBlockFormat(top)

    def code_header_height(self) -> int:
        return self._small_metrics.height() + 8

    def code_areas(self, row: MessageRow, doc: MessageDocument | None = None) -> list[CodeArea]:
        """Where each code block of ``doc`` is, in document coordinates (see :class:`CodeArea`)."""
        doc = doc if doc is not None else self.document(row)
        if not doc.parts.code:
            return []
        places = doc.parts.code_places
        if places is None:
            places = doc.parts.code_places = self._code_places(doc)
        areas: list[CodeArea] = []
        header = self.code_header_height()
        width = doc.textWidth()
        small = self._small_metrics
        for number, (rect, lines, overflow, language) in enumerate(places):
            label = "Copied" if self.copied_code == (row.key, number) else "Copy"
            button_w = small.horizontalAdvance(label) + 16
            copy = QRectF(width - button_w - 4, rect.top() + 3, button_w, header - 6)
            areas.append(CodeArea(number, QRectF(rect), QRectF(lines), copy, overflow, language))
        return areas

    def _code_places(self, doc: MessageDocument) -> list[tuple[QRectF, QRectF, float, str]]:
        """Each code block's whole rectangle, its lines', how far its longest line runs
        past the bubble, and its language (see :class:`CodeArea`)."""
        places: list[tuple[QRectF, QRectF, float, str]] = []
        header = self.code_header_height()
        width = doc.textWidth()
        for code in doc.parts.code:
            blocks = code.blocks(doc)
            widest = max(
                (b.layout().lineAt(0).naturalTextWidth() for b in blocks if b.layout().lineCount()),
                default=0,
            )
            # Where the first line's text starts; the header sits in the margin above it.
            lines_top = blocks[0].layout().position().y()
            top = lines_top - header
            overflow = max(0.0, widest + 8 - width)
            last = blocks[-1].layout()
            bottom = last.position().y() + last.boundingRect().height()
            rect = QRectF(0, top, width, bottom - top)
            lines = QRectF(0, lines_top, width, bottom - lines_top)
            places.append((rect, lines, overflow, code.language))
        return places

    def _small_font(self) -> QFont:
        return self._small

    def _colour(self, colour: Callable[[QPalette], QColor], palette: QPalette) -> QColor:
        """``colour(palette)`` (one of :mod:`.theme`'s), worked out once a palette."""
        key = (palette.cacheKey(), colour)
        found = self._colours.get(key)
        if found is None:
            if len(self._colours) >= 256:
                self._colours.clear()
            found = self._colours[key] = colour(palette)
        return found

    def geometry(self, row: MessageRow, state_text: str) -> RowGeometry:
        known = self._geometries.get(row.key)
        if known is not None and known[0] is row and known[1] == state_text:
            return known[2]
        geo = self._geometry(row, state_text)
        self._geometries[row.key] = (row, state_text, geo)
        if len(self._geometries) > GEOMETRY_CACHE_SIZE:
            # The oldest one: dropping them all at once frees thousands of Qt objects.
            self._geometries.popitem(last=False)
        return geo

    def _geometry(self, row: MessageRow, state_text: str) -> RowGeometry:
        small = self._small_metrics
        doc = self.document(row)
        text_w = int(doc.textWidth())
        text_h = int(doc.size().height() + 0.5)
        bubble_w = text_w + 2 * PAD_X
        bubble_h = text_h + 2 * PAD_Y
        header_h = small.height()
        top = V_MARGIN
        if row.kind == HUMAN:
            left = self._width - SIDE_MARGIN - bubble_w
        else:
            left = SIDE_MARGIN
        header = QRect(SIDE_MARGIN, top, self._width - 2 * SIDE_MARGIN, header_h)
        bubble = QRect(left, top + header_h + HEADER_GAP, bubble_w, bubble_h)
        bottom = bubble.bottom() + 1
        footer = QRect()
        retry = QRect()
        sources = QRect()
        has_footer = bool(state_text) or bool(row.failed) or row.source_count > 0
        if has_footer:
            footer = QRect(
                SIDE_MARGIN, bottom + FOOTER_GAP, self._width - 2 * SIDE_MARGIN, small.height() + 6
            )
            if row.source_count > 0:
                label = self.sources_label(row.source_count)
                width = small.horizontalAdvance(label) + 16
                sources = QRect(bubble.left(), footer.top(), width, footer.height())
            if row.failed:
                width = small.horizontalAdvance("Retry") + 20
                retry = QRect(bubble.right() - width + 1, footer.top(), width, footer.height())
            bottom = footer.bottom() + 1
        height = bottom + V_MARGIN
        return RowGeometry(
            height,
            header,
            bubble,
            QPoint(bubble.left() + PAD_X, bubble.top() + PAD_Y),
            footer,
            retry,
            sources,
        )

    @staticmethod
    def sources_label(count: int) -> str:
        return f"{count} source" if count == 1 else f"{count} sources"

    def _height_key(self, row: MessageRow, state_text: str) -> tuple[str, int, int, bool]:
        has_footer = bool(state_text) or bool(row.failed) or row.source_count > 0
        return (row.key, row.revision, self._width, has_footer)

    def row_height(self, row: MessageRow, state_text: str) -> int:
        key = self._height_key(row, state_text)
        height = self._heights.get(key)
        if height is None:
            height = self.geometry(row, state_text).height
            self._heights[key] = height
            if len(self._heights) > HEIGHT_CACHE_SIZE:
                self._heights.popitem(last=False)
        return height

    def is_measured(self, row: MessageRow, state_text: str) -> bool:
        return self._height_key(row, state_text) in self._heights

    def estimate_height(self, row: MessageRow, state_text: str) -> int:
        """A row's height from its length alone (no layout): a stand-in until it is measured."""
        metrics = QFontMetrics(self._font)
        per_line = max(8, self._text_limit(row) // max(1, metrics.averageCharWidth()))
        text = row.text or "…"
        lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
        header = self._small_metrics.height()
        footer = header + 6 + FOOTER_GAP if self._height_key(row, state_text)[3] else 0
        return V_MARGIN + header + HEADER_GAP + lines * metrics.lineSpacing() + 2 * PAD_Y + footer + V_MARGIN

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        # Every layout of the list asks this of every row: straight from the pane's model
        # when it is one (two round trips through Qt's item data a row cost as much as the
        # rest of a 400-row layout).
        model = index.model()
        if isinstance(model, MessageListModel):
            row: Any = model.row_at(index.row())
            known = self._sizes.get(row.key) if row is not None else None
            if known is not None and known[0] is row:
                return known[1]
            state_text = MessageListModel.state_text(row) if row is not None else ""
        else:
            row = index.data(MessageRoles.ROW)
            state_text = str(index.data(MessageRoles.STATE_TEXT) or "")
        if not isinstance(row, MessageRow):
            return QSize(self._width, 0)
        if self.defer_heights and not self.is_measured(row, state_text):
            if model is not None and index.row() < self._tail_start(model, option):
                return QSize(self._width, self._estimate(row, state_text, index))
        size = QSize(self._width, self.row_height(row, state_text))
        self._sizes[row.key] = (row, size)
        if len(self._sizes) > HEIGHT_CACHE_SIZE:
            # The oldest one: dropping 50,000 at once would be one long turn (~30 ms).
            self._sizes.popitem(last=False)
        return size

    def _tail_start(self, model: Any, option: QStyleOptionViewItem) -> int:
        """The first of the last rows, measured when asked: the chat's newest, shown when it
        opens at its end, back to those that fill the view (:data:`EXACT_TAIL_ROWS` at
        most; a row's document is built to measure it, 0.2 to 1 ms or more, and a chat
        opens in one turn of the event loop: rows above the view wait for the warmer).
        No row when the rows stop short of the end (scrolled far up, newer rows dropped):
        the last rows are then far below the screen, and measuring them would build their
        documents in the layout of every older page going in."""
        count = model.rowCount()
        if not isinstance(model, MessageListModel):
            return count - EXACT_TAIL_ROWS
        if model.has_newer():
            return count
        widget = option.widget
        height = widget.viewport().height() if isinstance(widget, QAbstractScrollArea) else 0
        if height <= 0 or count == 0:
            return count - EXACT_TAIL_ROWS
        newest = model.row_at(count - 1)
        key = (id(model), count, newest.key if newest is not None else "", self._width, height)
        if self._tail is not None and self._tail[0] == key:
            return self._tail[1]
        start, filled = count, 0
        while start > count - EXACT_TAIL_ROWS and start > 0 and filled < height:
            start -= 1
            row = model.row_at(start)
            if row is not None:
                filled += self.row_height(row, MessageListModel.state_text(row))
        self._tail = (key, start)
        return start

    def _estimate(self, row: MessageRow, state_text: str, index: ModelIndex) -> int:
        pending = self._pending.get(row.key)
        if pending is not None and pending[0].isValid() and pending[0].row() == index.row():
            return pending[1]
        estimate = self.estimate_height(row, state_text)
        was_empty = not self._pending
        self._pending[row.key] = (QPersistentModelIndex(index), estimate)
        if was_empty:
            self.sig_estimates_made.emit()
        return estimate

    def has_pending(self) -> bool:
        return bool(self._pending)

    # -- painting -----------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        model = index.model()
        if isinstance(model, MessageListModel):  # straight from the pane's model (see sizeHint)
            row: Any = model.row_at(index.row())
            if row is None:
                return
            state_text = MessageListModel.state_text(row)
            highlighted = model.is_highlighted(row.key)
            when = model.time_text(row)
        else:
            row = index.data(MessageRoles.ROW)
            if not isinstance(row, MessageRow):
                return
            state_text = str(index.data(MessageRoles.STATE_TEXT) or "")
            highlighted = bool(index.data(MessageRoles.HIGHLIGHTED))
            when = str(index.data(MessageRoles.TIME_TEXT) or "")
        geo = self.geometry(row, state_text)
        pending = self._pending.get(row.key)
        if pending is not None:  # on screen with an estimated height: measure it next
            self._pending.move_to_end(row.key)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.translate(option.rect.topLeft())
            self._paint_header(painter, palette, row, when, geo)
            self._paint_bubble(painter, palette, row, geo, selected, highlighted)
            exposed = (
                None
                if self.paint_area.isNull()
                else QRectF(self.paint_area.translated(-option.rect.topLeft()))
            )
            self._paint_text(painter, palette, row, geo, index.row(), index.model(), exposed)
            self._paint_footer(painter, palette, row, state_text, geo)
        finally:
            painter.restore()

    def _paint_header(
        self, painter: QPainter, palette: QPalette, row: MessageRow, when: str, geo: RowGeometry
    ) -> None:
        small = self._small
        who = "You" if row.kind == HUMAN else "Assistant"
        bold = self._bold_small
        name_w = self._bold_metrics.horizontalAdvance(who)
        time_w = self._small_metrics.horizontalAdvance(when)
        gap = 8
        if row.kind == HUMAN:
            x = geo.bubble.right() + 1 - (name_w + gap + time_w)
        else:
            x = geo.bubble.left()
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(
            QRect(x, geo.header.top(), name_w + 2, geo.header.height()),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            who,
        )
        painter.setFont(small)
        painter.setPen(self._colour(theme.muted_text, palette))
        painter.drawText(
            QRect(x + name_w + gap, geo.header.top(), time_w + 2, geo.header.height()),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            when,
        )

    def _paint_bubble(
        self,
        painter: QPainter,
        palette: QPalette,
        row: MessageRow,
        geo: RowGeometry,
        selected: bool,
        highlighted: bool,
    ) -> None:
        fill = self._colour(theme.human_bubble if row.kind == HUMAN else theme.ai_bubble, palette)
        if highlighted:
            fill = theme.revealed_bubble(palette, fill)
        painter.setBrush(fill)
        if selected:
            painter.setPen(self._colour(theme.accent, palette))
        elif row.failed or row.unsent_reason:
            painter.setPen(self._colour(theme.error, palette))
        else:
            painter.setPen(self._colour(theme.border, palette) if row.kind != HUMAN else Qt.PenStyle.NoPen)
        rect = QRectF(geo.bubble).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.drawRoundedRect(rect, theme.RADIUS + 2, theme.RADIUS + 2)
        if selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), theme.RADIUS + 1, theme.RADIUS + 1)

    def _paint_text(
        self,
        painter: QPainter,
        palette: QPalette,
        row: MessageRow,
        geo: RowGeometry,
        row_number: int,
        model: Any,
        exposed: QRectF | None = None,
    ) -> None:
        """The text; with ``exposed`` (the part of the row being repainted, in the row's
        coordinates) only the blocks of a tall row that show there are drawn."""
        doc = self.document(row)
        areas = self.code_areas(row, doc)
        painter.save()
        painter.translate(QPointF(geo.text_origin))
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette = self._text_palette(palette, muted=row.streaming and not row.text)
        context.selections = self._marks(row, doc, palette, row_number, model)
        full = QRectF(0, 0, doc.textWidth(), doc.size().height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._code_bg)
        for area in areas:
            painter.drawRoundedRect(area.rect, theme.RADIUS - 4, theme.RADIUS - 4)
        scrolled = [a for a in areas if self.code_offsets.get((row.key, a.number), 0.0) > 0]
        if scrolled:
            clip = QRegion(full.toAlignedRect())
            for area in scrolled:
                clip = clip.subtracted(QRegion(area.lines.toAlignedRect()))
            painter.setClipRegion(clip)
        else:
            painter.setClipRect(full.toAlignedRect())
        shown = full if exposed is None else full.intersected(exposed.translated(-QPointF(geo.text_origin)))
        context.clip = shown
        if not shown.isEmpty():  # (an empty clip would mean no clip: everything drawn)
            doc.documentLayout().draw(painter, context)
        for area in scrolled:
            offset = self.code_offsets[(row.key, area.number)]
            painter.save()
            painter.setClipRect(area.lines)
            painter.fillRect(area.lines, self._code_bg)
            painter.translate(-offset, 0)
            context.clip = area.lines.translated(offset, 0)
            doc.documentLayout().draw(painter, context)
            painter.restore()
        painter.setClipping(False)
        for area in areas:
            self._paint_code_chrome(painter, palette, row, area)
        self._paint_focus(painter, palette, row, doc, areas)
        painter.restore()

    def _text_palette(self, palette: QPalette, *, muted: bool) -> QPalette:
        """``palette`` with the text's colours (muted: an answer yet to start)."""
        key = (palette.cacheKey(), muted)
        found = self._text_palettes.get(key)
        if found is None:
            found = QPalette(palette)
            text = (
                self._colour(theme.muted_text, palette) if muted else palette.color(QPalette.ColorRole.Text)
            )
            found.setColor(QPalette.ColorRole.Text, text)
            found.setColor(QPalette.ColorRole.Link, self._colour(theme.accent, palette))
            if len(self._text_palettes) >= 16:
                self._text_palettes.clear()
            self._text_palettes[key] = found
        return found

    def _marks(
        self, row: MessageRow, doc: MessageDocument, palette: QPalette, row_number: int, model: Any
    ) -> list[QAbstractTextDocumentLayout.Selection]:
        """The selection and the find-in-chat hits of ``row``, as Qt paints selections."""
        marks: list[QAbstractTextDocumentLayout.Selection] = []
        if self.find_term:
            hits = self.find_hits(row, doc)
            current = self.find_current[1] if self.find_current and self.find_current[0] == row.key else -1
            if hits and current >= len(hits):
                current = len(hits) - 1
            for number, (start, end) in enumerate(hits):
                mark = QAbstractTextDocumentLayout.Selection()
                mark.cursor = cursor_for(doc, start, end)
                fmt = QTextCharFormat()
                strong = number == current
                fmt.setBackground(theme.find_mark(palette, current=strong))
                fmt.setForeground(theme.find_mark_text(palette, current=strong))
                mark.format = fmt
                marks.append(mark)
        if self.selection is not None and model is not None:
            span = self.selection.range_in(row_number, text_length(doc), model.row_for)
            if span is not None:
                mark = QAbstractTextDocumentLayout.Selection()
                mark.cursor = cursor_for(doc, *span)
                fmt = QTextCharFormat()
                fmt.setBackground(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight))
                fmt.setForeground(
                    palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
                )
                mark.format = fmt
                marks.append(mark)
        return marks

    def find_hits(self, row: MessageRow, doc: MessageDocument) -> list[tuple[int, int]]:
        """Where the find term occurs in ``doc`` (case-insensitive), cached per document."""
        key = (id(doc), self.find_term)
        hits = self._find_cache.get(key)
        if hits is None:
            hits = []
            cursor = doc.find(self.find_term, 0)
            while not cursor.isNull() and len(hits) < 10_000:
                hits.append((cursor.selectionStart(), cursor.selectionEnd()))
                cursor = doc.find(self.find_term, cursor)
            if len(self._find_cache) > DOC_CACHE_SIZE:
                self._find_cache.clear()
            self._find_cache[key] = hits
        return hits

    def _paint_code_chrome(
        self, painter: QPainter, palette: QPalette, row: MessageRow, area: CodeArea
    ) -> None:
        """A code block's header (its language, Copy) and, when it overflows, its scroll bar."""
        painter.setFont(self._small)
        muted = self._colour(theme.muted_text, palette)
        header = QRectF(
            area.rect.left() + 10,
            area.rect.top(),
            area.copy.left() - area.rect.left() - 14,
            area.lines.top() - area.rect.top(),
        )
        if area.language:
            painter.setPen(muted)
            painter.drawText(
                header, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), area.language
            )
        copied = self.copied_code == (row.key, area.number)
        painter.setPen(self._colour(theme.input_border, palette))  # a button: its outline holds 3:1
        painter.setBrush(self._colour(theme.code_button, palette))
        painter.drawRoundedRect(area.copy.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setPen(
            self._colour(theme.success, palette) if copied else palette.color(QPalette.ColorRole.Text)
        )
        painter.drawText(area.copy, int(Qt.AlignmentFlag.AlignCenter), "Copied" if copied else "Copy")
        if area.overflow > 0:  # in the header, between the language and Copy
            label_w = self._small_metrics.horizontalAdvance(area.language) + 20 if area.language else 10
            left = area.rect.left() + label_w
            middle = area.rect.top() + (area.lines.top() - area.rect.top()) / 2
            track = QRectF(
                left, middle - SCROLL_BAR_PX / 2, max(24.0, area.copy.left() - 12 - left), SCROLL_BAR_PX
            )
            offset = self.code_offsets.get((row.key, area.number), 0.0)
            share = area.lines.width() / (area.lines.width() + area.overflow)
            thumb_w = max(24.0, track.width() * share)
            x = track.left() + (track.width() - thumb_w) * (offset / area.overflow)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.blend(self._code_bg, palette.color(QPalette.ColorRole.Text), 0.08))
            painter.drawRoundedRect(track, SCROLL_BAR_PX / 2, SCROLL_BAR_PX / 2)
            painter.setBrush(self._colour(theme.scroll_thumb, palette))
            painter.drawRoundedRect(
                QRectF(x, track.top(), thumb_w, track.height()), SCROLL_BAR_PX / 2, SCROLL_BAR_PX / 2
            )

    def _paint_focus(
        self,
        painter: QPainter,
        palette: QPalette,
        row: MessageRow,
        doc: MessageDocument,
        areas: list[CodeArea],
    ) -> None:
        if self.focus_part is None or self.focus_part[0] != row.key:
            return
        _, kind, number = self.focus_part
        rect = QRectF()
        if kind == "copy" and 0 <= number < len(areas):
            rect = areas[number].copy
        elif kind == "anchor" and 0 <= number < len(doc.parts.anchors):
            rect = self.anchor_rect(doc, doc.parts.anchors[number].start, doc.parts.anchors[number].end)
        if rect.isNull():
            return
        pen = QPen(theme.accent(palette))
        pen.setWidthF(2)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(-2, -1, 2, 1), 3, 3)

    @staticmethod
    def anchor_rect(doc: MessageDocument, start: int, end: int) -> QRectF:
        """The rectangle of a link's first line, in document coordinates."""
        block = doc.findBlock(start)
        layout = block.layout()
        if layout is None or layout.lineCount() == 0:
            return QRectF()
        local = start - block.position()
        line = layout.lineForTextPosition(local)
        if not line.isValid():
            return QRectF()
        line_end = line.textStart() + line.textLength()
        x1 = line.cursorToX(local)[0]
        x2 = line.cursorToX(min(end - block.position(), line_end))[0]
        origin = doc.documentLayout().blockBoundingRect(block).topLeft() + layout.position()
        return QRectF(origin.x() + x1, origin.y() + line.y(), max(4.0, x2 - x1), line.height())

    def _paint_footer(
        self, painter: QPainter, palette: QPalette, row: MessageRow, state_text: str, geo: RowGeometry
    ) -> None:
        if geo.footer.isNull():
            return
        painter.setFont(self._small)
        metrics = self._small_metrics
        accent = self._colour(theme.accent, palette)
        if not geo.sources.isNull():
            painter.setPen(accent)  # the outline holds 3:1: the chip is a control
            painter.setBrush(self._colour(theme.chip_fill, palette))
            chip = QRectF(geo.sources).adjusted(0.5, 0.5, -0.5, -0.5)
            painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            painter.setPen(accent)
            painter.drawText(
                geo.sources, int(Qt.AlignmentFlag.AlignCenter), self.sources_label(row.source_count)
            )
        if not geo.retry.isNull():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            painter.drawRoundedRect(QRectF(geo.retry), geo.retry.height() / 2, geo.retry.height() / 2)
            painter.setPen(self._colour(theme.on_accent, palette))
            painter.drawText(geo.retry, int(Qt.AlignmentFlag.AlignCenter), "Retry")
        if state_text:
            colour = self._colour(
                theme.error if (row.failed or row.unsent_reason) else theme.muted_text, palette
            )
            painter.setPen(colour)
            if row.kind == HUMAN:
                right = (geo.retry.left() - 8) if not geo.retry.isNull() else geo.bubble.right()
                width = min(metrics.horizontalAdvance(state_text) + 2, right - geo.footer.left())
                rect = QRect(right - width, geo.footer.top(), width, geo.footer.height())
            else:
                left = (geo.sources.right() + 10) if not geo.sources.isNull() else geo.bubble.left()
                right = (geo.retry.left() - 8) if not geo.retry.isNull() else geo.footer.right()
                rect = QRect(left, geo.footer.top(), max(0, right - left), geo.footer.height())
            text = metrics.elidedText(state_text, Qt.TextElideMode.ElideRight, rect.width())
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    # -- hit testing ----------------------------------------------------------------------

    def hit(self, row: MessageRow, state_text: str, pos: QPoint) -> tuple[str, str]:
        """What is at ``pos`` (relative to the row's top-left): ("link", href), ("copy", block
        number), ("retry", ""), ("sources", ""), ("bubble", "") or ("", "")."""
        geo = self.geometry(row, state_text)
        if geo.retry.contains(pos):
            return ("retry", "")
        if geo.sources.contains(pos):
            return ("sources", "")
        if geo.bubble.contains(pos):
            doc = self.document(row)
            local = QPointF(pos - geo.text_origin)
            for area in self.code_areas(row, doc):
                if area.copy.contains(local):
                    return ("copy", str(area.number))
            href = doc.documentLayout().anchorAt(self._unscrolled(row, doc, local))
            if href:
                return ("link", href)
            return ("bubble", "")
        return ("", "")

    def _unscrolled(self, row: MessageRow, doc: MessageDocument, local: QPointF) -> QPointF:
        """A point over a code block scrolled sideways, where it is in the document."""
        for area in self.code_areas(row, doc):
            if area.lines.contains(local):
                return local + QPointF(self.code_offsets.get((row.key, area.number), 0.0), 0)
        return local

    def text_position(self, row: MessageRow, state_text: str, pos: QPoint) -> int:
        """The character nearest to ``pos`` (relative to the row's top-left): above the
        text is its start, below it its end (for selecting with the mouse)."""
        geo = self.geometry(row, state_text)
        doc = self.document(row)
        local = QPointF(pos - geo.text_origin)
        if local.y() < 0:
            return 0
        if local.y() >= doc.size().height():
            return text_length(doc)
        local.setX(max(0.0, min(local.x(), doc.textWidth())))
        hit = doc.documentLayout().hitTest(self._unscrolled(row, doc, local), Qt.HitTestAccuracy.FuzzyHit)
        return max(0, min(hit, text_length(doc)))

    def code_area_at(self, row: MessageRow, state_text: str, pos: QPoint) -> CodeArea | None:
        geo = self.geometry(row, state_text)
        local = QPointF(pos - geo.text_origin)
        for area in self.code_areas(row):
            if area.rect.contains(local):
                return area
        return None

    def scroll_code(self, row: MessageRow, number: int, overflow: float, delta: float) -> bool:
        """Scroll code block ``number`` of ``row`` sideways by ``delta`` pixels; True if it moved."""
        key = (row.key, number)
        old = self.code_offsets.get(key, 0.0)
        new = max(0.0, min(overflow, old + delta))
        if new == old:
            return False
        self.code_offsets[key] = new
        return True
