"""The sources of the selected answer: number, passage, location and the rest of the metadata.

Source text is untrusted, so every label is plain text. A location can always
be copied; it opens in the browser only when it is an http(s) URL and only on
the user's click. s3 URIs are copied, never opened.

Any value another writer stored must show: a location that is no valid URL is shown
as written, and a very long one is cut in its label and tooltip, kept to one line
(see :mod:`.bidi`); Copy takes it whole.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .. import bidi, links, theme
from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.schema import Source
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

#: Metadata keys that name the location; shown as the location, not again below.
LOCATION_KEYS = ("source_location", "source", "url", "location", "file")
MAX_METADATA_CHARS = 300
MAX_KEY_CHARS = 60
#: The most characters of a location its label and tooltip show (Copy takes it whole).
MAX_LOCATION_CHARS = 500


def location_name(location: str) -> str:
    """The short name a card shows for ``location`` (see :func:`links.location_label`),
    the text itself when it is no URL Python can split (``http://[`` is one)."""
    try:
        name = links.location_label(location)
    except ValueError:
        name = location.strip()
    return bidi.one_line(name, MAX_LOCATION_CHARS)


def source_location(source: Source) -> str:
    """The location of a source, the way :attr:`Source.location` finds it."""
    for name in LOCATION_KEYS:
        value = source.metadata.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def metadata_rows(source: Source) -> list[tuple[str, str]]:
    """The other metadata as (key, text) pairs, sorted, values shortened."""
    location = source_location(source)
    rows = []
    for key in sorted(source.metadata):
        value: Any = source.metadata[key]
        if key in LOCATION_KEYS and value == location:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        if len(text) > MAX_METADATA_CHARS:
            text = text[: MAX_METADATA_CHARS - 1] + "…"
        rows.append((bidi.one_line(str(key), MAX_KEY_CHARS), text))
    return rows


class SourceCard(QFrame):
    """One source; the Copy and Open buttons act on its location."""

    def __init__(self, number: int, source: Source, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self.source = source
        self.location = source_location(source)

        # Widgets
        self.number_label = QLabel(str(number), self)
        self.location_label = QLabel(location_name(self.location) or "Unknown location", self)
        self.copy_button = QPushButton("Copy location", self)
        self.open_button = QPushButton("Open", self)
        self.passage_label = QLabel(source.page_content or "(no passage text)", self)
        self.metadata_labels: list[QLabel] = []

        # Setup
        self.setObjectName("sourceCard")
        self.setAccessibleName(f"Source {number}")
        self.setFrameShape(QFrame.Shape.NoFrame)
        palette = self.palette()
        self.setStyleSheet(
            "QFrame#sourceCard {"
            f" background: {theme.ai_bubble(palette).name()};"
            f" border: 1px solid {theme.border(palette).name()};"
            f" border-radius: {theme.RADIUS}px; }}"
        )
        accent = theme.accent(palette)
        self.number_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.number_label.setFixedSize(24, 24)
        self.number_label.setAccessibleName(f"Source number {number}")
        self.number_label.setStyleSheet(
            f"background: {accent.name()}; color: {palette.color(QPalette.ColorRole.HighlightedText).name()};"
            " border-radius: 12px; font-weight: bold;"
        )
        for label in (self.location_label, self.passage_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
        tip = bidi.one_line(self.location, MAX_LOCATION_CHARS)
        self.location_label.setToolTip(tip or "This source names no location")
        self.location_label.setAccessibleName("Location")
        self.location_label.setAccessibleDescription(self.location)
        self.location_label.setFont(theme.scaled_font(self.location_label.font(), 1.0, bold=True))
        self.location_label.setWordWrap(True)  # long file names wrap instead of being cut
        self.location_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.passage_label.setWordWrap(True)
        self.passage_label.setAccessibleName("Passage")
        self.copy_button.setAccessibleName(f"Copy location of source {number}")
        self.copy_button.setEnabled(bool(self.location))
        self.copy_button.setToolTip(tip)
        self.open_button.setAccessibleName(f"Open source {number} in the browser")
        self.open_button.setToolTip(tip)
        self.open_button.setVisible(links.is_openable(self.location))
        for button in (self.copy_button, self.open_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setFlat(True)
            button.setStyleSheet(f"color: {accent.name()}; padding: 2px 6px;")

        # Layout
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.number_label)
        top.addWidget(self.location_label, 1)
        actions = QHBoxLayout()
        actions.setSpacing(4)
        actions.addStretch(1)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.passage_label)
        rows = metadata_rows(source)
        if rows:
            grid = QGridLayout()
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(2)
            small = theme.scaled_font(self.font(), 0.85)
            muted = theme.muted_text(palette).name()
            for line, (key, value) in enumerate(rows):
                key_label = QLabel(key, self)
                value_label = QLabel(value, self)
                for label in (key_label, value_label):
                    label.setTextFormat(Qt.TextFormat.PlainText)
                    label.setFont(small)
                value_label.setWordWrap(True)
                value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                key_label.setStyleSheet(f"color: {muted};")
                key_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                grid.addWidget(key_label, line, 0)
                grid.addWidget(value_label, line, 1)
                self.metadata_labels.append(value_label)
            grid.setColumnStretch(1, 1)
            layout.addLayout(grid)
        layout.addLayout(actions)

        # Signals
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.open_button.clicked.connect(self._on_open_button_clicked)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        links.copy_text(self.location)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        links.open_on_click(self.location)


class SourceDrawer(QWidget):
    """Lists the sources of one answer.

    Signals:
        sig_sources_shown(message_id, count): the cards of an answer are on screen.
    """

    sig_sources_shown = Signal(str, int)
    """An answer's sources are displayed (message id, number of sources)."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._load_op: LibraryOp[list[Source]] | None = None
        self._message_id = ""
        self.cards: list[SourceCard] = []

        # Widgets
        self.title_label = QLabel("Sources", self)
        self.subtitle_label = QLabel(self)
        self.scroll_area = QScrollArea(self)
        self._container = QWidget(self.scroll_area)
        self._cards_layout = QVBoxLayout(self._container)
        self.empty_label = QLabel("Select an answer to see the sources it cites.", self)

        # Setup
        self.setObjectName("sourceDrawer")
        self.setAccessibleName("Sources")
        self.title_label.setFont(theme.scaled_font(self.title_label.font(), 1.15, bold=True))
        self.title_label.setAccessibleName("Sources heading")
        self.subtitle_label.setAccessibleName("Sources summary")
        self.subtitle_label.setStyleSheet(f"color: {theme.muted_text(self.palette()).name()};")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self._container)
        self.scroll_area.setAccessibleName("Source list")
        self._cards_layout.setContentsMargins(0, 0, 6, 0)
        self._cards_layout.setSpacing(10)
        self._cards_layout.addStretch(1)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)
        self.empty_label.setAccessibleName("No sources")
        self.setMinimumWidth(220)

        # Layout
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title_label)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.empty_label, 1)
        self._show_empty("Select an answer to see the sources it cites.")

        # Signals

    @property
    def message_id(self) -> str:
        return self._message_id

    @Slot(str)
    def show_answer(self, message_id: str) -> None:
        """Load the sources of ``message_id`` ("" clears the drawer)."""
        if message_id == self._message_id and (self.cards or self._load_op):
            return
        self._message_id = message_id
        if self._load_op is not None:
            self._load_op.cancel()  # the answer chosen before: its sources are not wanted now
            self._load_op = None
        if not message_id:
            self._show_empty("Select an answer to see the sources it cites.")
            return
        self._load_op = (
            LibraryOp(lambda lib: lib.list_sources(message_id), name="load sources")
            .success(lambda sources: self._on_sources_loaded(message_id, sources))
            .run_in(self._client.local)
        )

    def _on_sources_loaded(self, message_id: str, sources: Sequence[Source]) -> None:
        self._load_op = None
        self.set_sources(message_id, sources)

    def set_sources(self, message_id: str, sources: Sequence[Source]) -> None:
        self._message_id = message_id
        self._clear_cards()
        if not sources:
            self._show_empty("This answer cites no sources.")
            self.sig_sources_shown.emit(message_id, 0)
            return
        self.subtitle_label.setText(f"{len(sources)} cited by the selected answer")
        for number, source in enumerate(sources, start=1):
            card = SourceCard(number, source, self._container)
            self._cards_layout.insertWidget(self._cards_layout.count() - 1, card)
            self.cards.append(card)
        self.empty_label.hide()
        self.scroll_area.show()
        self.subtitle_label.show()
        self.scroll_area.verticalScrollBar().setValue(0)
        self.sig_sources_shown.emit(message_id, len(sources))

    def _clear_cards(self) -> None:
        for card in self.cards:
            card.hide()
            card.deleteLater()
        self.cards.clear()

    def _show_empty(self, text: str) -> None:
        self._clear_cards()
        self.empty_label.setText(text)
        self.empty_label.show()
        self.scroll_area.hide()
        self.subtitle_label.hide()
