"""Paints sidebar rows: group headers, chat titles with their time, a pin on pinned chats,
pending / unsent / error badges.

Every row has the same height (the view uses uniform item sizes), and headers
draw their label at the bottom of the row so the empty top part reads as the
space between groups. Colours come from the palette (see :mod:`.theme`).

A title is drawn on one line, cut to what a row can show, and bidi-isolated (see
:mod:`.bidi`): whatever direction controls or right-to-left text it holds, it cannot
reorder or overlap the time and badges drawn beside it.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from .. import bidi, theme
from .chat_list_model import ChatRoles

ModelIndex = QModelIndex | QPersistentModelIndex

H_PAD = 10
ROW_MARGIN = 4
#: More characters than any sidebar row shows: a longer title is cut before it is measured.
MAX_TITLE_CHARS = 400
#: Width the pin marker takes before a pinned chat's title.
PIN_WIDTH = 16
#: Titles kept cut to their row's width (a paint cuts each row's title again otherwise).
TITLE_CACHE_SIZE = 2048

_LEFT_MIDDLE = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT_MIDDLE = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT_BOTTOM = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
_SELECTED = QStyle.StateFlag.State_Selected
_HOVERED = QStyle.StateFlag.State_MouseOver
_FOCUSED = QStyle.StateFlag.State_HasFocus


def row_title(title: str, metrics: QFontMetrics, width: int) -> str:
    """``title`` as a row draws it: one line, elided to ``width`` pixels, bidi-isolated."""
    line = bidi.one_line(title, MAX_TITLE_CHARS)
    return bidi.isolate(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))


class _Look(NamedTuple):
    """What every row of one paint draws with, worked out once for a font and a palette."""

    title_metrics: QFontMetrics
    small: QFont
    small_metrics: QFontMetrics
    header: QFont
    header_metrics: QFontMetrics
    text: QColor
    muted: QColor
    accent: QColor
    selection: QColor
    hover: QColor


class ChatDelegate(QStyledItemDelegate):
    """One painter for header and chat rows, plus the line edit used to rename in place.

    A full paint of the list draws twenty rows and more (the list's first paint at the end
    of a first sync among them): the fonts, colours and each title cut to its width are
    kept between rows and paints, not worked out again for every row.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: The look, with the font and the palette's key it was worked out for.
        self._look: tuple[QFont, int, _Look] | None = None
        #: Titles cut to a width, for the current look's font: (title, width) -> as drawn.
        self._titles: dict[tuple[str, int], str] = {}

    def _look_for(self, option: QStyleOptionViewItem) -> _Look:
        font, palette = option.font, option.palette
        if self._look is not None and self._look[1] == palette.cacheKey() and self._look[0] == font:
            return self._look[2]
        self._titles.clear()
        small = theme.scaled_font(font, 0.85)
        header = theme.scaled_font(font, 0.85, bold=True)
        look = _Look(
            QFontMetrics(font),
            small,
            QFontMetrics(small),
            header,
            QFontMetrics(header),
            palette.color(QPalette.ColorRole.Text),
            theme.muted_text(palette),
            theme.accent(palette),
            theme.selection(palette),
            theme.hover(palette),
        )
        self._look = (QFont(font), palette.cacheKey(), look)
        return look

    def _title(self, title: str, look: _Look, width: int) -> str:
        key = (title, width)
        cut = self._titles.get(key)
        if cut is None:
            if len(self._titles) >= TITLE_CACHE_SIZE:
                self._titles.clear()
            cut = self._titles[key] = row_title(title, look.title_metrics, width)
        return cut

    def row_height(self, option: QStyleOptionViewItem) -> int:
        return max(34, QFontMetrics(option.font).height() + 18)

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        return QSize(200, self.row_height(option))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        try:
            if index.data(ChatRoles.IS_HEADER):
                self._paint_header(painter, option, index)
            else:
                self._paint_chat(painter, option, index)
        finally:
            painter.restore()

    def _paint_header(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        look = self._look_for(option)
        painter.setFont(look.header)
        painter.setPen(look.muted)
        rect = option.rect.adjusted(H_PAD + ROW_MARGIN, 0, -H_PAD, -4)
        text = look.header_metrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(rect, _LEFT_BOTTOM, text)

    def _paint_chat(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        look = self._look_for(option)
        palette = option.palette
        state = option.state
        view = index.data(ChatRoles.CHAT_VIEW)
        if view is not None:  # the list's model: one call for what the roles below give
            title, parked, unsent = view.chat.title, view.parked_error, int(view.unsent)
            pending, pinned = bool(view.pending), view.pinned
        else:
            title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
            parked = index.data(ChatRoles.PARKED_ERROR)
            unsent = int(index.data(ChatRoles.UNSENT) or 0)
            pending, pinned = bool(index.data(ChatRoles.PENDING)), bool(index.data(ChatRoles.PINNED))
        card = QRectF(option.rect.adjusted(ROW_MARGIN, 1, -ROW_MARGIN, -1))
        if state & _SELECTED:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.selection)
            painter.drawRoundedRect(card, 8, 8)
        elif state & _HOVERED:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.hover)
            painter.drawRoundedRect(card, 8, 8)
        if state & _FOCUSED and state & _SELECTED:
            painter.setPen(look.accent)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)

        inner = option.rect.adjusted(ROW_MARGIN + H_PAD, 0, -(ROW_MARGIN + H_PAD), 0)
        right = inner.right()

        # Right side, drawn right to left: time, then badges.
        time_text = str(index.data(ChatRoles.TIME_TEXT) or "")
        painter.setFont(look.small)
        painter.setPen(look.muted)
        time_width = look.small_metrics.horizontalAdvance(time_text)
        painter.drawText(
            QRect(right - time_width, inner.top(), time_width, inner.height()), _RIGHT_MIDDLE, time_text
        )
        right -= time_width + 8
        if parked:
            right = self._badge(painter, right, inner, "error", theme.error(palette))
        if unsent:
            right = self._badge(painter, right, inner, f"{unsent} unsent", look.muted)
        if pending and not unsent:
            diameter = 7
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.accent)
            painter.drawEllipse(
                QRectF(right - diameter, inner.center().y() - diameter / 2 + 1, diameter, diameter)
            )
            right -= diameter + 8

        left = inner.left()
        if pinned:
            pin_pen = palette.color(QPalette.ColorRole.Text) if state & _SELECTED else look.accent
            self._pin(painter, QRectF(left, inner.center().y() - 6, 12, 12), pin_pen)
            left += PIN_WIDTH
        painter.setFont(option.font)
        painter.setPen(look.text)
        title_rect = QRect(left, inner.top(), max(0, right - left), inner.height())
        painter.drawText(title_rect, _LEFT_MIDDLE, self._title(title, look, title_rect.width()))

    @staticmethod
    def _pin(painter: QPainter, box: QRectF, colour: QColor) -> None:
        """A push pin leaning right, drawn in ``box`` (about 12 x 12)."""
        painter.save()
        painter.translate(box.center())
        painter.rotate(35)
        pen = QPen(colour, 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(0, 1, 0, 6)  # the needle
        head = QPainterPath()
        head.moveTo(-2.5, -6)
        head.lineTo(2.5, -6)
        head.lineTo(2.5, -2)
        head.lineTo(4.5, 1)
        head.lineTo(-4.5, 1)
        head.lineTo(-2.5, -2)
        head.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(head)
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, right: int, inner: QRect, text: str, colour: QColor) -> int:
        """A rounded pill ending at ``right``; returns the x where the next item may end."""
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 2
        rect = QRectF(right - width, inner.center().y() - height / 2 + 1, width, height)
        fill = QColor(colour)
        fill.setAlphaF(0.16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(colour)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        return int(rect.left()) - 6

    # -- rename in place ----------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: ModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setAccessibleName("Chat title")
        editor.setFrame(False)
        editor.setMaxLength(500)
        return editor

    def setEditorData(self, editor: QWidget, index: ModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: ModelIndex) -> None:
        """Rename only when the user changed the text: a title longer than the editor's
        limit is shown cut, and leaving the editor untouched must not save it cut."""
        if isinstance(editor, QLineEdit) and not editor.isModified():
            return
        super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        editor.setGeometry(option.rect.adjusted(ROW_MARGIN + 4, 3, -(ROW_MARGIN + 4), -3))
