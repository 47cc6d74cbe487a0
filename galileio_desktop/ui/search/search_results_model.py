"""Search hits for the Ctrl+K dialog, and the painter that highlights the matched words.

The mirror marks matches in a snippet with control characters; they are turned
into highlight spans here and painted as text, so a snippet can never inject
markup. Titles and snippets are other writers' text: drawn one line long and
bidi-isolated piece by piece (see :mod:`.bidi`), so a direction control in one cannot
reorder the kind label, the title or the snippet beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .. import bidi, theme

if TYPE_CHECKING:
    from ...data.mirror.search import SearchHit

ModelIndex = QModelIndex | QPersistentModelIndex

SNIPPET_START = "\u0002"
SNIPPET_END = "\u0003"
KIND_LABELS = {"CHAT": "Chat title", "MESSAGE": "Message", "SOURCE": "Source"}
#: More characters than a result line shows: a longer title is cut before it is measured.
MAX_TITLE_CHARS = 400


def snippet_segments(snippet: str) -> list[tuple[str, bool]]:
    """(text, is a match) runs of a marked snippet, whitespace folded to single spaces."""
    segments: list[tuple[str, bool]] = []
    highlighted = False
    buffer = ""
    for char in snippet:
        if char in (SNIPPET_START, SNIPPET_END):
            if buffer:
                segments.append((buffer, highlighted))
            buffer = ""
            highlighted = char == SNIPPET_START
            continue
        buffer += " " if char.isspace() else char
    if buffer:
        segments.append((buffer, highlighted))
    return segments


def plain(snippet: str) -> str:
    return "".join(text for text, _ in snippet_segments(snippet))


class SearchRoles:
    HIT = Qt.ItemDataRole.UserRole + 1
    SNIPPET = Qt.ItemDataRole.UserRole + 2
    KIND = Qt.ItemDataRole.UserRole + 3


class SearchResultsModel(QAbstractListModel):
    """The hits of the latest query, best first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{bidi.inline(hit.title)}: {bidi.inline(plain(hit.snippet))}"
        if role == SearchRoles.HIT:
            return hit
        if role == SearchRoles.SNIPPET:
            return hit.snippet
        if role == SearchRoles.KIND:
            return KIND_LABELS.get(getattr(hit, "kind", "MESSAGE"), "Message")
        return None

    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        """New results replace the old ones wholesale (a new query: a reset is right here)."""
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hit_at(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None


class SearchResultDelegate(QStyledItemDelegate):
    """Title and kind on the first line, the snippet with its matches highlighted on the second."""

    PAD = 8

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        metrics = QFontMetrics(option.font)
        return QSize(300, metrics.height() * 2 + 3 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        palette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = option.rect.adjusted(4, 2, -4, -2)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.selection(palette))
            painter.drawRoundedRect(rect, 8, 8)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.hover(palette))
            painter.drawRoundedRect(rect, 8, 8)
        inner = rect.adjusted(self.PAD + 2, self.PAD, -(self.PAD + 2), -self.PAD)
        metrics = QFontMetrics(option.font)
        line_h = metrics.height()

        small = theme.scaled_font(option.font, 0.85)
        kind = str(index.data(SearchRoles.KIND) or "")
        painter.setFont(small)
        painter.setPen(theme.muted_text(palette))
        kind_w = QFontMetrics(small).horizontalAdvance(kind)
        painter.drawText(
            QRect(inner.right() - kind_w, inner.top(), kind_w, line_h),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            kind,
        )

        bold = theme.scaled_font(option.font, 1.0, bold=True)
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title_rect = QRect(inner.left(), inner.top(), inner.width() - kind_w - 10, line_h)
        title = QFontMetrics(bold).elidedText(
            bidi.one_line(str(index.data(Qt.ItemDataRole.DisplayRole) or ""), MAX_TITLE_CHARS),
            Qt.TextElideMode.ElideRight,
            title_rect.width(),
        )
        painter.drawText(
            title_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), bidi.isolate(title)
        )

        x = inner.left()
        y = inner.top() + line_h + self.PAD // 2
        right = inner.right()
        ellipsis_w = metrics.horizontalAdvance("…")
        for segment, highlighted in snippet_segments(str(index.data(SearchRoles.SNIPPET) or "")):
            if x >= right:
                break
            text = bidi.one_line(segment)
            available = right - x
            width = metrics.horizontalAdvance(text)
            if width > available:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(available, ellipsis_w))
                width = metrics.horizontalAdvance(text)
            if highlighted:
                fill = theme.blend(palette.color(QPalette.ColorRole.Base), theme.warning(palette), 0.3)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(fill)
                painter.drawRoundedRect(QRect(x - 1, y, width + 2, line_h), 3, 3)
            painter.setFont(option.font)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(
                QRect(x, y, width + 1, line_h),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                bidi.isolate(text),
            )
            x += width
        painter.restore()
