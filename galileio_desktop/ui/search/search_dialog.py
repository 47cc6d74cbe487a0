"""Ctrl+K: full-text search over the mirror, results as you type, Enter opens the hit.

Searches run in the worker (SQLite FTS5); only the latest query's results are
shown, so fast typing never shows an older answer last. A message hit opens with the
query marked in it by find in chat: the query as typed when the message holds it,
else its first word (see :func:`~galileio_desktop.data.mirror.search.highlight_terms`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from ...data.mirror.search import highlight_terms
from ..workers.operation import LibraryOp
from .search_results_model import SearchResultDelegate, SearchResultsModel

if TYPE_CHECKING:
    from ...data.mirror.search import SearchHit
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
MAX_HITS = 50


class SearchDialog(QDialog):
    """A command-palette style search.

    Signals:
        sig_hit_chosen(chat_id, message_id): open this chat at this message ("" for a title hit).
        sig_results_shown(count): results of the latest query are displayed.
    """

    sig_hit_chosen = Signal(str, str)
    """The user picked a result."""
    sig_results_shown = Signal(int)
    """The list now shows the results of the latest query."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        #: The search in flight; an older one still coming is cancelled, never shown.
        self._search_op: LibraryOp[list[SearchHit]] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self.model = SearchResultsModel(self)
        #: What to mark in the message last chosen, best first ([] for a title or a source).
        self.chosen_terms: list[str] = []

        # Widgets
        self.query_edit = QLineEdit(self)
        self.query_edit.setPlaceholderText("Search all chats, messages and sources")
        self.query_edit.setAccessibleName("Search")
        self.query_edit.setClearButtonEnabled(True)
        self.results_view = QListView(self)
        self.results_view.setAccessibleName("Search results")
        self.status_label = QLabel(self)
        self.status_label.setAccessibleName("Search status")

        # Setup
        self.setWindowTitle("Search")
        self.setAccessibleName("Search chats")
        self.resize(640, 460)
        self.results_view.setModel(self.model)
        self.results_view.setItemDelegate(SearchResultDelegate(self.results_view))
        self.results_view.setUniformItemSizes(True)
        self.results_view.setMouseTracking(True)
        self.results_view.setFrameShape(QListView.Shape.NoFrame)
        self.query_edit.installEventFilter(self)
        font = self.query_edit.font()
        font.setPointSizeF(max(font.pointSizeF(), 1) * 1.15)
        self.query_edit.setFont(font)
        self.query_edit.setMinimumHeight(36)

        # Layout
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.query_edit)
        layout.addWidget(self.results_view, 1)
        layout.addWidget(self.status_label)

        # Signals
        self.query_edit.textChanged.connect(self._on_query_edit_text_changed)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.results_view.activated.connect(self._on_results_view_activated)
        self.results_view.doubleClicked.connect(self._on_results_view_activated)

    def open_search(self, text: str = "") -> None:
        """Show the dialog with the query box focused (its previous text selected)."""
        if text:
            self.query_edit.setText(text)
        self.show()
        self.raise_()
        self.activateWindow()
        self.query_edit.setFocus()
        self.query_edit.selectAll()

    def search_now(self) -> None:
        self._timer.stop()
        self._on_timer_timeout()

    @Slot(str)
    def _on_query_edit_text_changed(self, text: str) -> None:
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        query = self.query_edit.text().strip()
        if self._search_op is not None:
            self._search_op.cancel()  # only the latest query's hits are shown
            self._search_op = None
        if not query:
            self.model.set_hits([])
            self.status_label.setText("")
            return
        self._search_op = (
            LibraryOp(lambda lib: lib.search(query, limit=MAX_HITS), name=f"search {query}")
            .success(self._on_searched)
            .run_in(self._client.local)
        )

    def _on_searched(self, hits: list[SearchHit]) -> None:
        self._search_op = None
        self.model.set_hits(hits)
        count = len(hits)
        self.status_label.setText(
            "No matches" if count == 0 else (f"{count} match" if count == 1 else f"{count} matches")
        )
        if count:
            self.results_view.setCurrentIndex(self.model.index(0, 0))
        self.sig_results_shown.emit(count)

    @Slot(QModelIndex)
    def _on_results_view_activated(self, index: QModelIndex) -> None:
        self.choose(index.row())

    def choose(self, row: int) -> None:
        hit = self.model.hit_at(row)
        if hit is None:
            return
        query = self.query_edit.text()
        self.chosen_terms = highlight_terms(query) if hit.kind == "MESSAGE" and hit.message_id else []
        self.accept()
        self.sig_hit_chosen.emit(hit.chat_id, hit.message_id or "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.query_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                rows = self.model.rowCount()
                if rows:
                    current = self.results_view.currentIndex().row()
                    step = {
                        Qt.Key.Key_Down: 1,
                        Qt.Key.Key_Up: -1,
                        Qt.Key.Key_PageDown: 8,
                        Qt.Key.Key_PageUp: -8,
                    }[Qt.Key(key)]
                    row = max(0, min(rows - 1, current + step))
                    self.results_view.setCurrentIndex(self.model.index(row, 0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._timer.isActive():
                    self.search_now()
                    return True
                self.choose(self.results_view.currentIndex().row())
                return True
        return super().eventFilter(watched, event)
