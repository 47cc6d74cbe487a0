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

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
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


def row_title(title: str, metrics: QFontMetrics, width: int) -> str:
    """``title`` as a row draws it: one line, elided to ``width`` pixels, bidi-isolated."""
    line = bidi.one_line(title, MAX_TITLE_CHARS)
    return bidi.isolate(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))


class ChatDelegate(QStyledItemDelegate):
    """One painter for header and chat rows, plus the line edit used to rename in place."""

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
        palette = option.palette
        font = theme.scaled_font(option.font, 0.85, bold=True)
        painter.setFont(font)
        painter.setPen(theme.muted_text(palette))
        metrics = QFontMetrics(font)
        rect = option.rect.adjusted(H_PAD + ROW_MARGIN, 0, -H_PAD, -4)
        text = metrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), text)

    def _paint_chat(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        palette = option.palette
        state = option.state
        card = QRectF(option.rect.adjusted(ROW_MARGIN, 1, -ROW_MARGIN, -1))
        if state & QStyle.StateFlag.State_Selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.selection(palette))
            painter.drawRoundedRect(card, 8, 8)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.hover(palette))
            painter.drawRoundedRect(card, 8, 8)
        if state & QStyle.StateFlag.State_HasFocus and state & QStyle.StateFlag.State_Selected:
            painter.setPen(theme.accent(palette))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)

        inner = option.rect.adjusted(ROW_MARGIN + H_PAD, 0, -(ROW_MARGIN + H_PAD), 0)
        right = inner.right()
        small = theme.scaled_font(option.font, 0.85)
        small_metrics = QFontMetrics(small)

        # Right side, drawn right to left: time, then badges.
        time_text = str(index.data(ChatRoles.TIME_TEXT) or "")
        painter.setFont(small)
        painter.setPen(theme.muted_text(palette))
        time_width = small_metrics.horizontalAdvance(time_text)
        painter.drawText(
            QRect(right - time_width, inner.top(), time_width, inner.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            time_text,
        )
        right -= time_width + 8
        if index.data(ChatRoles.PARKED_ERROR):
            right = self._badge(painter, right, inner, "error", theme.error(palette))
        unsent = int(index.data(ChatRoles.UNSENT) or 0)
        if unsent:
            right = self._badge(painter, right, inner, f"{unsent} unsent", theme.muted_text(palette))
        if index.data(ChatRoles.PENDING) and not unsent:
            diameter = 7
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.accent(palette))
            painter.drawEllipse(
                QRectF(right - diameter, inner.center().y() - diameter / 2 + 1, diameter, diameter)
            )
            right -= diameter + 8

        left = inner.left()
        if index.data(ChatRoles.PINNED):
            pin_pen = theme.accent(palette)
            if state & QStyle.StateFlag.State_Selected:
                pin_pen = palette.color(QPalette.ColorRole.Text)
            self._pin(painter, QRectF(left, inner.center().y() - 6, 12, 12), pin_pen)
            left += PIN_WIDTH
        painter.setFont(option.font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title_rect = QRect(left, inner.top(), max(0, right - left), inner.height())
        title = row_title(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), QFontMetrics(option.font), title_rect.width()
        )
        painter.drawText(title_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)

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
