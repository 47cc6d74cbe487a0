"""The list view under the message pane: smooth pixel scrolling, text selection, and
links and buttons inside bubbles.

Bubbles are painted, not widgets, so the view does the clicking: it asks the
delegate what lies under the mouse (a link, a citation, a code block's Copy,
Retry, the Sources chip) and reports it by signal. Links are reported only on a
real click (press and release on the same link) or Enter on a focused one, never
on hover alone.

Text is selected the way a page is: drag across one message or several, double
click a word, triple click a paragraph, Shift+click or Shift+arrows to extend,
Ctrl+A for the current message, Esc to clear (see :mod:`.text_selection`). A code
block too wide for its bubble scrolls sideways with a horizontal wheel or
Shift+wheel. Tab and Shift+Tab move through the messages and, inside each, its
links, citations and code Copy buttons, then on out of the list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QElapsedTimer,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QToolTip, QWidget

from .. import bidi, links
from ..shortcuts.shortcut_map import register_keys
from .message_delegate import HEADER_GAP, PAD_Y, V_MARGIN, MessageDelegate
from .message_document import MessageDocument, citation_number, table_number
from .message_list_model import MessageListModel, MessageRoles, MessageRow
from .text_selection import (
    MESSAGE_SEPARATOR,
    TextPoint,
    TextSelection,
    cursor_for,
    markdown_text,
    paragraph_at,
    plain_text,
    text_length,
    word_at,
)

log = logging.getLogger(__name__)

RELAYOUT_DELAY_MS = 40
#: No row is lower than this (margins, header gap and bubble padding, no text at all):
#: rows that many times taller than the viewport need the scroll bar.
LEAST_ROW_PX = 2 * V_MARGIN + HEADER_GAP + 2 * PAD_Y
#: How long a code block's Copy button reads "Copied".
COPIED_FEEDBACK_MS = 1500
#: Scrolling while a selection is dragged past the top or bottom edge.
AUTOSCROLL_MS = 30
AUTOSCROLL_STEP_PX = 18
#: The most characters of a link's address its tooltip shows.
LINK_TIP_CHARS = 500


class MessageListView(QListView):
    """Chat rows top to bottom; see the module docstring.

    Signals:
        sig_link_clicked(href), sig_retry_clicked(row key), sig_sources_clicked(row key),
        sig_width_changed().
    """

    sig_link_clicked = Signal(str)
    """A link inside a bubble was clicked (any scheme: the pane decides what to open)."""
    sig_retry_clicked = Signal(str)
    """Retry under a failed question was clicked."""
    sig_sources_clicked = Signal(str)
    """The "N sources" chip of an answer was clicked."""
    sig_width_changed = Signal()
    """The view's width settled after a resize: the pane re-wraps its rows, keeping its place."""
    sig_citation_clicked = Signal(str, int)
    """A citation [n] of an answer was clicked (row key, source number)."""
    sig_citation_hovered = Signal(str, int, QPoint)
    """The mouse rests on a citation (row key, source number, global position)."""
    sig_table_requested = Signal(str, int)
    """"Open table" under a table was clicked (row key, table index)."""
    sig_code_copied = Signal(str)
    """A code block's Copy put its code on the clipboard (the code)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pressed: tuple[str, str, str] | None = None
        #: Set by the pane: runs every layout of the rows it is handed, Qt's own delayed
        #: ones included (a row changed, rows went in), so it can keep the row read in
        #: its place (rows above it may take the heights measured since the last layout).
        self.layout_guard: Callable[[Callable[[], None]], None] | None = None
        self._in_layout = False
        #: Paints of the viewport so far (see :mod:`.scroll_paint`).
        self.paints = 0
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(RELAYOUT_DELAY_MS)
        self._relayout.timeout.connect(self._on_relayout_timeout)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Fixed: a resize re-wraps once it settles (the timer below), not on every pixel.
        self.setResizeMode(QListView.ResizeMode.Fixed)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalScrollBar().setSingleStep(24)
        self._selecting = False
        self._last_double_click = QElapsedTimer()
        self._last_double_pos = QPoint()
        self._drag_pos = QPoint()
        self._hovered_citation: tuple[str, int] | None = None
        self._autoscroll = QTimer(self)
        self._autoscroll.setInterval(AUTOSCROLL_MS)
        self._autoscroll.timeout.connect(self._on_autoscroll_timeout)
        self._copied_reset = QTimer(self)
        self._copied_reset.setSingleShot(True)
        self._copied_reset.setInterval(COPIED_FEEDBACK_MS)
        self._copied_reset.timeout.connect(self._on_copied_reset_timeout)
        register_keys(
            self,
            [
                ("Shift+Arrows", "Select text (across messages with Up and Down)"),
                ("Ctrl+Shift+Left/Right", "Select by word"),
                ("Ctrl+A", "Select the current message's text"),
                ("Esc", "Clear the selection"),
                ("Tab", "Next link, citation or code Copy button"),
                ("Shift+Tab", "Previous link, citation or code Copy button"),
                ("Return", "Open the focused link or press the focused button"),
                ("Shift+Wheel", "Scroll a code block sideways"),
            ],
        )

    def message_delegate(self) -> MessageDelegate:
        delegate = self.itemDelegate()
        assert isinstance(delegate, MessageDelegate)
        return delegate

    def message_model(self) -> MessageListModel:
        model = self.model()
        assert isinstance(model, MessageListModel)
        return model

    # -- the text selection -------------------------------------------------------------

    def text_selection(self) -> TextSelection | None:
        selection = self.message_delegate().selection
        return selection if selection is not None and not selection.is_empty else None

    def set_text_selection(self, selection: TextSelection | None) -> None:
        self.message_delegate().selection = selection
        self.viewport().update()

    def clear_text_selection(self) -> bool:
        """Drop the text selection; True when there was one."""
        had = self.text_selection() is not None
        self.set_text_selection(None)
        return had

    def _point_at(self, pos: QPoint) -> TextPoint | None:
        """The text position nearest to ``pos`` (viewport coordinates); above the first
        row is its start, below the last row the end of the last."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return None
        index = self.indexAt(pos)
        if not index.isValid():
            last = model.index(model.rowCount() - 1, 0)
            first = model.index(0, 0)
            index = first if pos.y() < self.visualRect(first).top() else last
            if not self.visualRect(index).isValid():
                return None
        row = index.data(MessageRoles.ROW)
        if not isinstance(row, MessageRow):
            return None
        local = pos - self.visualRect(index).topLeft()
        state = str(index.data(MessageRoles.STATE_TEXT) or "")
        return TextPoint(row.key, self.message_delegate().text_position(row, state, local))

    def _row_document(self, key: str) -> tuple[MessageRow | None, MessageDocument | None]:
        """The row ``key`` and its laid-out document (None, None when it is not loaded)."""
        model = self.message_model()
        number = model.row_for(key)
        row = model.row_at(number) if number is not None else None
        return (row, self.message_delegate().document(row)) if row is not None else (None, None)

    def selected_text(self, *, markdown: bool = False) -> str:
        """The selected text of every row it spans, as read (or as Markdown)."""
        selection = self.text_selection()
        model = self.message_model()
        span = selection.ordered(model.row_for) if selection is not None else None
        if span is None or selection is None:
            return ""
        parts: list[str] = []
        for number in range(span[0], span[2] + 1):
            row = model.row_at(number)
            if row is None:
                continue
            doc = self.message_delegate().document(row)
            part = selection.range_in(number, text_length(doc), model.row_for)
            if part is None:
                continue
            text = markdown_text(doc, *part, row.text) if markdown else plain_text(doc, *part)
            if text:
                parts.append(text)
        return MESSAGE_SEPARATOR.join(parts)

    def message_plain_text(self, key: str) -> str:
        """A whole message as the user reads it (no Markdown marks)."""
        row, doc = self._row_document(key)
        if row is None or doc is None:
            return ""
        return plain_text(doc, 0, text_length(doc))

    def _select_in_row(self, key: str, start: int, end: int) -> None:
        self.set_text_selection(TextSelection(TextPoint(key, start), TextPoint(key, end)))

    # -- mouse ----------------------------------------------------------------------------

    def _hit(self, pos: QPoint) -> tuple[str, str, str]:
        """(what, detail, row key) under ``pos`` in viewport coordinates."""
        index = self.indexAt(pos)
        if not index.isValid():
            return ("", "", "")
        row = index.data(MessageRoles.ROW)
        if not isinstance(row, MessageRow):
            return ("", "", "")
        rect = self.visualRect(index)
        what, detail = self.message_delegate().hit(
            row, str(index.data(MessageRoles.STATE_TEXT) or ""), pos - rect.topLeft()
        )
        return (what, detail, row.key)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._pressed = self._hit(pos)
        self.message_delegate().focus_part = None
        super().mousePressEvent(event)
        what = self._pressed[0]
        if what not in ("bubble", ""):
            return  # a link, a button: clicked on release
        point = self._point_at(pos)
        if point is None:
            return
        triple = (
            self._last_double_click.isValid()
            and self._last_double_click.elapsed() < QApplication.styleHints().mouseDoubleClickInterval()
            and (pos - self._last_double_pos).manhattanLength()
            < QApplication.styleHints().startDragDistance()
        )
        if triple:
            _, doc = self._row_document(point.key)
            if doc is not None:
                self._select_in_row(point.key, *paragraph_at(doc, point.pos))
            self._last_double_click.invalidate()
            return
        current = self.message_delegate().selection
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and current is not None:
            self.set_text_selection(TextSelection(current.anchor, point))
        else:
            self.set_text_selection(TextSelection(point, point))
        self._selecting = what == "bubble"

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if event.button() != Qt.MouseButton.LeftButton or self._hit(pos)[0] != "bubble":
            super().mouseDoubleClickEvent(event)
            return
        point = self._point_at(pos)
        _, doc = self._row_document(point.key) if point is not None else (None, None)
        if point is not None and doc is not None:
            self._select_in_row(point.key, *word_at(doc, point.pos))
            self._last_double_click.start()
            self._last_double_pos = pos
        event.accept()  # not the view's double click (it would open an editor or "activate")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        selecting, self._selecting = self._selecting, False
        self._autoscroll.stop()
        super().mouseReleaseEvent(event)
        pressed, self._pressed = self._pressed, None
        if event.button() != Qt.MouseButton.LeftButton or pressed is None:
            return
        if selecting:
            return
        released = self._hit(event.position().toPoint())
        if released != pressed or not released[0]:
            return
        self._activate(*released)

    def _activate(self, what: str, detail: str, key: str) -> None:
        """A click (or Enter) on a part of a row."""
        if what == "link":
            number = citation_number(detail)
            table = table_number(detail)
            if number:
                self.sig_citation_clicked.emit(key, number)
            elif table >= 0:
                self.sig_table_requested.emit(key, table)
            else:
                self.sig_link_clicked.emit(detail)
        elif what == "copy":
            self.copy_code(key, int(detail))
        elif what == "retry":
            self.sig_retry_clicked.emit(key)
        elif what == "sources":
            self.sig_sources_clicked.emit(key)

    def copy_code(self, key: str, number: int) -> None:
        """Put code block ``number`` of row ``key`` on the clipboard; its button says so."""
        row, doc = self._row_document(key)
        if row is None or doc is None or not 0 <= number < len(doc.parts.code):
            return
        code = doc.parts.code[number].text
        links.copy_text(code)
        self.message_delegate().copied_code = (key, number)
        self._copied_reset.start()
        self.viewport().update()
        self.sig_code_copied.emit(code)

    def _on_copied_reset_timeout(self) -> None:
        self.message_delegate().copied_code = None
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self._selecting and event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_to(pos)
            outside = pos.y() < 0 or pos.y() > self.viewport().height()
            if outside and not self._autoscroll.isActive():
                self._autoscroll.start()
            elif not outside:
                self._autoscroll.stop()
            return  # not the view's drag-selection of rows
        super().mouseMoveEvent(event)
        what, detail, key = self._hit(pos)
        if what in ("link", "retry", "sources", "copy"):
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        elif what == "bubble":
            self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        else:
            self.viewport().unsetCursor()
        number = citation_number(detail) if what == "link" else 0
        if number:
            if self._hovered_citation != (key, number):
                self._hovered_citation = (key, number)
                self.sig_citation_hovered.emit(key, number, event.globalPosition().toPoint())
            return
        self._hovered_citation = None
        if what == "link" and table_number(detail) < 0:  # the address as written: one line, cut
            QToolTip.showText(
                event.globalPosition().toPoint(), bidi.one_line(detail, LINK_TIP_CHARS), self.viewport()
            )

    def hovered_citation(self) -> tuple[str, int] | None:
        """(row key, source number) of the citation under the mouse, if any."""
        return self._hovered_citation

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered_citation = None
        super().leaveEvent(event)

    def _drag_to(self, pos: QPoint) -> None:
        self._drag_pos = pos
        current = self.message_delegate().selection
        point = self._point_at(pos)
        if current is not None and point is not None and point != current.focus:
            self.set_text_selection(TextSelection(current.anchor, point))

    def _on_autoscroll_timeout(self) -> None:
        if not self._selecting:
            self._autoscroll.stop()
            return
        scroll = self.verticalScrollBar()
        step = -AUTOSCROLL_STEP_PX if self._drag_pos.y() < 0 else AUTOSCROLL_STEP_PX
        scroll.setValue(scroll.value() + step)
        self._drag_to(self._drag_pos)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Sideways over a code block that overflows: scroll that block."""
        delta = event.angleDelta()
        dx = delta.x() or (delta.y() if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0)
        if dx:
            pos = event.position().toPoint()
            index = self.indexAt(pos)
            row = index.data(MessageRoles.ROW) if index.isValid() else None
            if isinstance(row, MessageRow):
                delegate = self.message_delegate()
                state = str(index.data(MessageRoles.STATE_TEXT) or "")
                area = delegate.code_area_at(row, state, pos - self.visualRect(index).topLeft())
                if area is not None and area.overflow > 0:
                    if delegate.scroll_code(row, area.number, area.overflow, -dx / 2):
                        self.viewport().update(self.visualRect(index))
                    event.accept()
                    return
        super().wheelEvent(event)

    # -- keyboard -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if event.matches(QKeySequence.StandardKey.SelectAll):
            current = self.currentIndex()
            row = current.data(MessageRoles.ROW) if current.isValid() else None
            if isinstance(row, MessageRow):
                self._select_in_row(row.key, 0, text_length(self.message_delegate().document(row)))
            event.accept()
            return
        if key == Qt.Key.Key_Escape and self.clear_text_selection():
            event.accept()
            return
        if mods & Qt.KeyboardModifier.ShiftModifier and self._extend_by_key(event):
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.activate_focus_part():
            event.accept()
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self._scroll_focused_code(key):
            event.accept()
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.message_delegate().focus_part = None
        super().keyPressEvent(event)

    _MOVES = {
        Qt.Key.Key_Left: QTextCursor.MoveOperation.PreviousCharacter,
        Qt.Key.Key_Right: QTextCursor.MoveOperation.NextCharacter,
        Qt.Key.Key_Up: QTextCursor.MoveOperation.Up,
        Qt.Key.Key_Down: QTextCursor.MoveOperation.Down,
        Qt.Key.Key_Home: QTextCursor.MoveOperation.StartOfLine,
        Qt.Key.Key_End: QTextCursor.MoveOperation.EndOfLine,
    }
    _WORD_MOVES = {
        Qt.Key.Key_Left: QTextCursor.MoveOperation.PreviousWord,
        Qt.Key.Key_Right: QTextCursor.MoveOperation.NextWord,
        Qt.Key.Key_Home: QTextCursor.MoveOperation.Start,
        Qt.Key.Key_End: QTextCursor.MoveOperation.End,
    }

    def _extend_by_key(self, event: QKeyEvent) -> bool:
        """Shift+arrows, Shift+Home/End (Ctrl for words and the whole message) extend the
        selection; past a message's first or last line it goes on into the next one."""
        word = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        moves = self._WORD_MOVES if word else self._MOVES
        move = moves.get(Qt.Key(event.key()))
        if move is None:
            return False
        model = self.message_model()
        selection = self.message_delegate().selection
        if selection is None:
            current = self.currentIndex()
            row = current.data(MessageRoles.ROW) if current.isValid() else None
            if not isinstance(row, MessageRow):
                return False
            backwards = event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Home)
            start = text_length(self.message_delegate().document(row)) if backwards else 0
            selection = TextSelection(TextPoint(row.key, start), TextPoint(row.key, start))
        focus = selection.focus
        row, doc = self._row_document(focus.key)
        if row is None or doc is None:
            return False
        cursor = cursor_for(doc, focus.pos, focus.pos)
        moved = cursor.movePosition(move)
        point = TextPoint(focus.key, cursor.position())
        number = model.row_for(focus.key)
        if (
            not moved
            and number is not None
            and move in (QTextCursor.MoveOperation.Up, QTextCursor.MoveOperation.Down)
        ):
            step = -1 if move == QTextCursor.MoveOperation.Up else 1
            neighbour = model.row_at(number + step)
            if neighbour is not None:
                end = text_length(self.message_delegate().document(neighbour))
                point = TextPoint(neighbour.key, end if step < 0 else 0)
                self.scrollTo(model.index(number + step, 0))
        self.set_text_selection(TextSelection(selection.anchor, point))
        return True

    # -- focus within rows (Tab) ----------------------------------------------------------------

    def _parts(self, row: MessageRow) -> list[tuple[str, int]]:
        """The focusable parts of a row in reading order: its links, then code Copy buttons."""
        doc = self.message_delegate().document(row)
        return [("anchor", n) for n in range(len(doc.parts.anchors))] + [
            ("copy", n) for n in range(len(doc.parts.code))
        ]

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's signature
        """Tab: the current message's links and Copy buttons, then the next message; past the
        last (or before the first) row, on to the next widget."""
        if self._move_focus_part(next):
            return True
        return super().focusNextPrevChild(next)

    def _move_focus_part(self, forward: bool) -> bool:
        model = self.message_model()
        delegate = self.message_delegate()
        current = self.currentIndex()
        if model.rowCount() == 0:
            return False
        if not current.isValid():
            index = model.index(model.rowCount() - 1 if not forward else 0, 0)
            self.setCurrentIndex(index)
            delegate.focus_part = None
            return True
        row = current.data(MessageRoles.ROW)
        if not isinstance(row, MessageRow):
            return False
        parts = self._parts(row)
        focus = delegate.focus_part
        at = (
            parts.index(focus[1:]) if focus is not None and focus[0] == row.key and focus[1:] in parts else -1
        )
        target = at + 1 if forward else (at - 1 if at >= 0 else len(parts) - 1)
        if at == -1 and not forward:
            target = -1  # from the message itself, back to the previous message's last part
        if 0 <= target < len(parts):
            delegate.focus_part = (row.key, *parts[target])
            self.scrollTo(current)
            self.viewport().update()
            return True
        step = 1 if forward else -1
        neighbour = current.row() + step
        if not 0 <= neighbour < model.rowCount():
            delegate.focus_part = None
            self.viewport().update()
            return False
        index = model.index(neighbour, 0)
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        delegate.focus_part = None
        neighbour_row = index.data(MessageRoles.ROW)
        if not forward and isinstance(neighbour_row, MessageRow):
            neighbour_parts = self._parts(neighbour_row)
            if neighbour_parts:
                delegate.focus_part = (neighbour_row.key, *neighbour_parts[-1])
        self.viewport().update()
        return True

    def activate_focus_part(self) -> bool:
        """Enter on a focused link, citation or Copy button: as if it were clicked."""
        focus = self.message_delegate().focus_part
        if focus is None:
            return False
        key, kind, number = focus
        row, doc = self._row_document(key)
        if row is None or doc is None:
            return False
        if kind == "copy":
            self.copy_code(key, number)
            return True
        if kind == "anchor" and 0 <= number < len(doc.parts.anchors):
            self._activate("link", doc.parts.anchors[number].href, key)
            return True
        return False

    def _scroll_focused_code(self, key: int) -> bool:
        focus = self.message_delegate().focus_part
        if focus is None or focus[1] != "copy":
            return False
        row, doc = self._row_document(focus[0])
        if row is None or doc is None:
            return False
        areas = self.message_delegate().code_areas(row, doc)
        if not 0 <= focus[2] < len(areas) or areas[focus[2]].overflow <= 0:
            return False
        step = 60 if key == Qt.Key.Key_Right else -60
        self.message_delegate().scroll_code(row, focus[2], areas[focus[2]].overflow, step)
        self.viewport().update()
        return True

    def link_at(self, pos: QPoint) -> str:
        what, detail, _ = self._hit(pos)
        return detail if what == "link" else ""

    def layout_in_place(self, change: Callable[[], None]) -> None:
        """Run ``change`` (a layout of the rows, and the scroll keeping the row read in its
        place) and repaint the viewport only if the rows it shows moved or changed. Rows
        going in, or measured, above the screen leave it as it was, and a layout would
        repaint all of it (3 to 5 ms of rich rows) for nothing.

        While ``change`` runs the viewport takes no updates: a scroll does not move its
        pixels either (a viewport with no child widgets), so when a row shown is not where
        it was, or not the same row, the whole viewport is repainted."""
        viewport = self.viewport()
        if not viewport.updatesEnabled() or viewport.children():
            change()
            return
        before = self._rows_shown()
        viewport.setAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled, True)
        try:
            change()
        finally:
            viewport.setAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled, False)
        after = self._rows_shown()
        if len(after) != len(before) or any(
            a[0] is not b[0] or a[1] != b[1] for a, b in zip(after, before, strict=True)
        ):
            viewport.update()

    def _rows_shown(self) -> list[tuple[object, QRect]]:
        """Each row on screen, top to bottom, with its rectangle in the viewport."""
        model = self.model()
        count = model.rowCount() if model is not None else 0
        if count == 0:
            return []
        height = self.viewport().height()
        first = self.indexAt(QPoint(1, 0))
        last = self.indexAt(QPoint(1, max(0, height - 1)))
        top = first.row() if first.isValid() else 0
        bottom = last.row() if last.isValid() else count - 1
        shown = []
        for number in range(top, bottom + 1):
            index = model.index(number, 0)
            shown.append((index.data(MessageRoles.ROW), self.visualRect(index)))
        return shown

    def doItemsLayout(self) -> None:
        """Lay the rows out, through :attr:`layout_guard` when there is one."""
        guard = self.layout_guard
        if guard is None or self._in_layout:
            super().doItemsLayout()
            return
        self._in_layout = True
        try:
            guard(super().doItemsLayout)
        finally:
            self._in_layout = False

    def paintEvent(self, event: QPaintEvent) -> None:
        """Tell the delegate what is repainted (see :attr:`.MessageDelegate.paint_area`)."""
        delegate = self.message_delegate()
        delegate.paint_area = event.rect()
        self.paints += 1
        try:
            super().paintEvent(event)
        finally:
            delegate.paint_area = QRect()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        model = self.model()
        if model is None or model.rowCount() == 0:
            self.sync_width()  # nothing to re-wrap yet: take the width at once
        else:
            self._relayout.start()  # re-wrap once the user has finished resizing

    def _on_relayout_timeout(self) -> None:
        """The resize has settled: the pane re-wraps the bubbles (see :meth:`take_width`)."""
        self.sig_width_changed.emit()

    def sync_width(self) -> None:
        """Wrap to the current width now (before a page is laid out)."""
        if self.take_width():
            self.scheduleDelayedItemsLayout()

    def take_width(self) -> bool:
        """Wrap to the current width from now on; True when it changed (rows need a layout)."""
        self._relayout.stop()
        return self.message_delegate().set_width(self._wrap_width())

    def _wrap_width(self) -> int:
        """The viewport's width; while the scroll bar is hidden and the rows held cannot fit
        without it, the width the viewport will have once it shows. (Laid out wider, the
        newest rows, measured at once, were built again when the bar showed, and shown
        cut meanwhile: a chat opened, or a first page arriving, was laid out twice.)"""
        width = self.viewport().width()
        bar = self.verticalScrollBar()
        if self.verticalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAsNeeded or bar.isVisibleTo(self):
            return width
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        if rows * LEAST_ROW_PX > self.viewport().height():
            width -= bar.sizeHint().width()
        return width

    def row_changed(self, index: QModelIndex) -> None:
        """A row's text or footer changed: its height must be measured again."""
        self.message_delegate().sizeHintChanged.emit(index)
