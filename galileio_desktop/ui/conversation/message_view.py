"""The list view under the message pane: smooth pixel scrolling, links and buttons inside bubbles.

Bubbles are painted, not widgets, so the view does the clicking: it asks the
delegate what lies under the mouse (a link, Retry, the Sources chip) and
reports it by signal. Links are reported only on a real click (press and
release on the same link), never on hover or by keyboard focus alone.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QToolTip, QWidget

from .. import bidi
from .message_delegate import MessageDelegate
from .message_list_model import MessageListModel, MessageRoles, MessageRow

log = logging.getLogger(__name__)

RELAYOUT_DELAY_MS = 40
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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pressed: tuple[str, str, str] | None = None
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

    def message_delegate(self) -> MessageDelegate:
        delegate = self.itemDelegate()
        assert isinstance(delegate, MessageDelegate)
        return delegate

    def message_model(self) -> MessageListModel:
        model = self.model()
        assert isinstance(model, MessageListModel)
        return model

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
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = self._hit(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        pressed, self._pressed = self._pressed, None
        if event.button() != Qt.MouseButton.LeftButton or pressed is None:
            return
        released = self._hit(event.position().toPoint())
        if released != pressed or not released[0]:
            return
        what, detail, key = released
        if what == "link":
            self.sig_link_clicked.emit(detail)
        elif what == "retry":
            self.sig_retry_clicked.emit(key)
        elif what == "sources":
            self.sig_sources_clicked.emit(key)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        what, detail, _ = self._hit(event.position().toPoint())
        if what in ("link", "retry", "sources"):
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().unsetCursor()
        if what == "link":  # the address as written by the message's author: one line, cut
            QToolTip.showText(
                event.globalPosition().toPoint(), bidi.one_line(detail, LINK_TIP_CHARS), self.viewport()
            )

    def link_at(self, pos: QPoint) -> str:
        what, detail, _ = self._hit(pos)
        return detail if what == "link" else ""

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
        return self.message_delegate().set_width(self.viewport().width())

    def row_changed(self, index: QModelIndex) -> None:
        """A row's text or footer changed: its height must be measured again."""
        self.message_delegate().sizeHintChanged.emit(index)
