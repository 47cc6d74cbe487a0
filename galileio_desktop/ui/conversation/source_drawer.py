"""The sources of the selected answer, one card each (see :mod:`.source_card`).

Numbers follow the answer's order, which is what its ``[n]`` citation markers count:
:meth:`SourceDrawer.show_source` opens, highlights, focuses and scrolls to source n,
now or as soon as the sources being loaded arrive.

A few sources open fully; more than :data:`MANY` start as one line each, with a
filter by document and "Collapse all" / "Expand all" above them. Cards are built in
batches, one batch a turn of the event loop, so thousands of sources never hold the
window up.

Opening anything asks first, showing the address: http(s) locations and passage links
in the browser, ``s3://`` objects on their AWS console page in the account's region
(:meth:`SourceDrawer.set_region`). Only http(s) is ever handed to the desktop (see
:mod:`..links`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .. import bidi, links, theme
from ..workers.operation import LibraryOp
from . import source_metadata as sm
from .s3_console import console_url, parse_s3_uri, valid_region
from .source_card import SourceCard, readable, tint

if TYPE_CHECKING:
    from ...data.schema import Source
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

#: More sources than this start collapsed, with the filter and "Collapse all" shown.
MANY = 5
#: Cards built at once when sources arrive (the first screen), then a batch a turn.
FIRST_BATCH = 30
BATCH = 40
#: "Expand all" opens at most this many cards (filter by document to open more).
EXPAND_ALL_LIMIT = 100
#: The most characters of an address a confirmation shows.
MAX_SHOWN_URL = 600
_ALL = ""  # the filter's "all documents" choice


def document_key(metadata: Mapping[str, Any]) -> str:
    """What the filter groups sources by: their location, else their name."""
    return sm.source_location(metadata) or sm.document_name(metadata)


class SourceDrawer(QWidget):
    """Lists the sources of one answer.

    Signals:
        sig_sources_shown(message_id, count): the cards of an answer are on screen.
        sig_source_revealed(number): source ``number`` was opened, highlighted and scrolled to.
    """

    sig_sources_shown = Signal(str, int)
    """An answer's sources are displayed (message id, number of sources)."""
    sig_source_revealed = Signal(int)
    """:meth:`show_source` finished: the card is open, highlighted, focused and in view."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._load_op: LibraryOp[list[Source]] | None = None
        self._message_id = ""
        self._sources: list[Source] = []
        self._keys: list[str] = []
        self._filter = _ALL
        self._pending_number: int | None = None
        self._revealing: SourceCard | None = None
        self._highlighted: SourceCard | None = None
        self._region = ""
        self.cards: list[SourceCard] = []
        #: Each group of cards built together, with the numbers (0-based, end excluded) it holds.
        self._groups: list[tuple[QWidget, int, int]] = []
        self.confirmation: QMessageBox | None = None
        self._confirm_url = ""
        self._build_timer = QTimer(self)
        self._reveal_timer = QTimer(self)

        # Widgets
        self.title_label = QLabel("Sources", self)
        self.subtitle_label = QLabel(self)
        self.toolbar = QWidget(self)
        self.filter_combo = QComboBox(self.toolbar)
        self.collapse_button = QPushButton("Collapse all", self.toolbar)
        self.scroll_area = QScrollArea(self)
        self._container = QWidget(self.scroll_area)
        self._cards_layout = QVBoxLayout(self._container)
        self.empty_label = QLabel(self)

        # Setup
        self.setObjectName("sourceDrawer")
        self.setAccessibleName("Sources")
        self.setMinimumWidth(220)
        self._build_timer.setInterval(0)
        self._reveal_timer.setSingleShot(True)
        self._reveal_timer.setInterval(0)
        self.title_label.setFont(theme.scaled_font(self.title_label.font(), 1.15, bold=True))
        self.title_label.setAccessibleName("Sources heading")
        self.subtitle_label.setAccessibleName("Sources summary")
        self.subtitle_label.setWordWrap(True)
        self.filter_combo.setAccessibleName("Show sources of")
        self.filter_combo.view().setAccessibleName("Documents cited")
        self.filter_combo.setToolTip("Show only the sources of one document")
        self.filter_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.filter_combo.setMinimumContentsLength(8)
        self.filter_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.collapse_button.setAccessibleName("Collapse or expand all sources")
        self.collapse_button.setAutoDefault(False)
        self.toolbar.hide()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setAccessibleName("Source list")
        self._set_up_container()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setAccessibleName("No sources")

        # Layout
        tools = QHBoxLayout(self.toolbar)
        tools.setContentsMargins(0, 0, 6, 0)
        tools.setSpacing(6)
        tools.addWidget(self.filter_combo, 1)
        tools.addWidget(self.collapse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title_label)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.empty_label, 1)
        self._apply_colours()
        self._show_empty("Select an answer to see the sources it cites.")

        # Signals
        self._build_timer.timeout.connect(self._on_build_timer_timeout)
        self._reveal_timer.timeout.connect(self._on_reveal_timer_timeout)
        self.filter_combo.activated.connect(self._on_filter_combo_activated)
        self.collapse_button.clicked.connect(self._on_collapse_button_clicked)

    # -- public API -------------------------------------------------------------------
    @property
    def message_id(self) -> str:
        return self._message_id

    @property
    def source_count(self) -> int:
        """How many sources the shown answer has (cards may still be being built)."""
        return len(self._sources)

    @property
    def region(self) -> str:
        return self._region

    def set_region(self, region: str) -> None:
        """The account's AWS region, for the console pages of s3 sources ("" for none)."""
        region = region.strip()
        if region and not valid_region(region):
            log.warning("not an AWS region name, console links go without one")
            region = ""
        self._region = region

    @Slot(str)
    def show_answer(self, message_id: str) -> None:
        """Load the sources of ``message_id`` ("" clears the drawer)."""
        if message_id == self._message_id and (self._sources or self._load_op):
            return
        self._message_id = message_id
        self._pending_number = None
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

    def set_sources(self, message_id: str, sources: Sequence[Source]) -> None:
        """Show ``sources`` as the sources of ``message_id``, numbered from 1."""
        self._message_id = message_id
        self._clear_cards()
        if not sources:
            self._show_empty("This answer cites no sources.")
            self.sig_sources_shown.emit(message_id, 0)
            return
        self._sources = list(sources)
        self._keys = [document_key(source.metadata) for source in self._sources]
        self._fill_filter()
        many = len(self._sources) > MANY
        self.toolbar.setVisible(many)
        self.empty_label.hide()
        self.scroll_area.show()
        self.subtitle_label.show()
        self._build_cards(FIRST_BATCH)
        self._update_summary()
        self.scroll_area.verticalScrollBar().setValue(0)
        if len(self.cards) < len(self._sources):
            self._build_timer.start()
        self.sig_sources_shown.emit(message_id, len(self._sources))

    def show_source(self, number: int, message_id: str = "") -> bool:
        """Open, highlight, focus and scroll to source ``number`` (1-based, the answer's
        order). With ``message_id``, that answer's sources are shown first. While the
        sources load, the request waits for them. False when there is no such source."""
        if message_id and message_id != self._message_id:
            self.show_answer(message_id)
        if self._load_op is not None:
            self._pending_number = number
            return True
        self._pending_number = None
        if not 1 <= number <= len(self._sources):
            return False
        if self._filter != _ALL and self._keys[number - 1] != self._filter:
            self._set_filter(_ALL)
        self._build_cards(number - len(self.cards))
        card = self.cards[number - 1]
        if self._highlighted is not None and self._highlighted is not card:
            self._highlighted.set_highlighted(False)
        self._highlighted = card
        card.set_expanded(True)
        card.set_highlighted(True)
        card.focus_target().setFocus(Qt.FocusReason.OtherFocusReason)
        self._update_collapse_button()
        self._revealing = card
        self._reveal_timer.start()  # scroll once the opened card has its height
        return True

    def focus_cards(self) -> None:
        """Give the keyboard focus to the first card shown (or the list when there is none)."""
        for card in self.cards:
            if not card.isHidden():
                card.focus_target().setFocus(Qt.FocusReason.ShortcutFocusReason)
                return
        self.scroll_area.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @property
    def highlighted_number(self) -> int:
        """The number of the highlighted source, 0 for none."""
        return self._highlighted.number if self._highlighted is not None else 0

    # -- loading and building -----------------------------------------------------------
    def _on_sources_loaded(self, message_id: str, sources: Sequence[Source]) -> None:
        self._load_op = None
        pending, self._pending_number = self._pending_number, None
        self.set_sources(message_id, sources)
        if pending is not None and not self.show_source(pending):
            log.info("a citation points past the answer's sources")

    def _build_cards(self, count: int) -> None:
        """Build the next ``count`` cards (as the filter and the number of sources say).

        Cards go into a group widget that is shown once, filled: showing a card in a
        visible list lays the whole list out again, so one card at a time would cost
        the square of their number."""
        start = len(self.cards)
        end = min(len(self._sources), start + max(0, count))
        expanded = len(self._sources) <= MANY
        for group_start in range(start, end, BATCH):
            group = QWidget(self._container)
            group_layout = QVBoxLayout(group)
            group_layout.setContentsMargins(0, 0, 0, 0)
            group_layout.setSpacing(self._cards_layout.spacing())
            for index in range(group_start, min(end, group_start + BATCH)):
                card = SourceCard(index + 1, self._sources[index], group)
                if self._filter != _ALL and self._keys[index] != self._filter:
                    card.setHidden(True)
                if expanded:
                    card.set_expanded(True)
                card.sig_open_requested.connect(self._on_card_open_requested)
                card.sig_console_requested.connect(self._on_card_console_requested)
                card.sig_toggled.connect(self._on_card_toggled)
                group_layout.addWidget(card)
                self.cards.append(card)
            self._groups.append((group, group_start, len(self.cards)))
            self._cards_layout.insertWidget(self._cards_layout.count() - 1, group)
            group.setVisible(any(not card.isHidden() for card in self.cards[group_start:]))
        if len(self.cards) >= len(self._sources):
            self._build_timer.stop()

    @Slot()
    def _on_build_timer_timeout(self) -> None:
        self._build_cards(BATCH)

    def _set_up_container(self) -> None:
        self._cards_layout.setContentsMargins(0, 0, 6, 0)
        self._cards_layout.setSpacing(8)
        self._cards_layout.addStretch(1)
        self.scroll_area.setWidget(self._container)

    def _clear_cards(self) -> None:
        """Drop every card at once: the container goes with them (no relayout per card)."""
        self._build_timer.stop()
        self._reveal_timer.stop()
        self._revealing = self._highlighted = None
        self._sources, self._keys, self._filter = [], [], _ALL
        if self.cards:
            old = self.scroll_area.takeWidget()
            if old is not None:
                old.hide()
                old.deleteLater()
            self._container = QWidget(self.scroll_area)
            self._cards_layout = QVBoxLayout(self._container)
            self._set_up_container()
        self.cards = []
        self._groups = []
        self.toolbar.hide()

    def _show_empty(self, text: str) -> None:
        self._clear_cards()
        self.empty_label.setText(text)
        self.empty_label.show()
        self.scroll_area.hide()
        self.subtitle_label.hide()

    # -- filter and collapse ------------------------------------------------------------
    def _fill_filter(self) -> None:
        counts = Counter(self._keys)
        names: dict[str, str] = {}
        for key, source in zip(self._keys, self._sources, strict=True):
            names.setdefault(key, sm.document_name(source.metadata) or "Unknown location")
        repeated = Counter(names.values())
        self.filter_combo.clear()
        self.filter_combo.addItem(f"All documents ({len(self._sources):,})", _ALL)
        for key, name in names.items():
            label = name if repeated[name] == 1 else f"{name} · {key}"
            self.filter_combo.addItem(bidi.inline(f"{label} ({counts[key]:,})", 120), key)

    def _set_filter(self, key: str) -> None:
        self._filter = key
        index = self.filter_combo.findData(key)
        if index >= 0 and index != self.filter_combo.currentIndex():
            self.filter_combo.setCurrentIndex(index)
        for card, card_key in zip(self.cards, self._keys, strict=False):
            card.setHidden(key != _ALL and card_key != key)
        for group, start, end in self._groups:
            group.setVisible(any(not card.isHidden() for card in self.cards[start:end]))
        self._update_summary()
        self.scroll_area.verticalScrollBar().setValue(0)

    def _shown_count(self) -> int:
        if self._filter == _ALL:
            return len(self._sources)
        return sum(1 for key in self._keys if key == self._filter)

    def _update_summary(self) -> None:
        total, shown = len(self._sources), self._shown_count()
        noun = "source" if total == 1 else "sources"
        if shown == total:
            self.subtitle_label.setText(f"{total:,} {noun} cited by the selected answer")
        else:
            self.subtitle_label.setText(f"{shown:,} of {total:,} {noun}, from one document")
        self._update_collapse_button()

    def _update_collapse_button(self) -> None:
        if any(card.expanded and not card.isHidden() for card in self.cards):
            self.collapse_button.setText("Collapse all")
            self.collapse_button.setEnabled(True)
            self.collapse_button.setToolTip("Show each source as one line")
            return
        self.collapse_button.setText("Expand all")
        fits = self._shown_count() <= EXPAND_ALL_LIMIT
        self.collapse_button.setEnabled(fits)
        self.collapse_button.setToolTip(
            "Show every source in full"
            if fits
            else f"Too many to open at once: choose a document to open at most {EXPAND_ALL_LIMIT}"
        )

    @Slot(int)
    def _on_filter_combo_activated(self, index: int) -> None:
        key = self.filter_combo.itemData(index)
        self._set_filter(key if isinstance(key, str) else _ALL)

    @Slot()
    def _on_collapse_button_clicked(self) -> None:
        shown = [card for card in self.cards if not card.isHidden()]
        if any(card.expanded for card in shown):
            for card in self.cards:
                card.set_expanded(False)
        elif self._shown_count() <= EXPAND_ALL_LIMIT:
            self._build_cards(len(self._sources))  # a filtered few may sit in unbuilt batches
            for card in self.cards:
                if not card.isHidden():
                    card.set_expanded(True)
        self._update_collapse_button()

    @Slot(bool)
    def _on_card_toggled(self, expanded: bool) -> None:
        self._update_collapse_button()

    # -- revealing a source -------------------------------------------------------------
    @Slot()
    def _on_reveal_timer_timeout(self) -> None:
        card, self._revealing = self._revealing, None
        if card is None or card not in self.cards:
            return
        # Lay out the opened card and the list (posted layout requests) before measuring.
        for _ in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        viewport = self.scroll_area.viewport().height()
        if card.height() + 8 > viewport:
            self.scroll_area.verticalScrollBar().setValue(card.y() - 4)
        else:
            self.scroll_area.ensureWidgetVisible(card, 0, 8)
        self.sig_source_revealed.emit(card.number)

    # -- opening, after asking ------------------------------------------------------------
    @Slot(str)
    def _on_card_open_requested(self, url: str) -> None:
        if not links.is_openable(url):
            log.info("not offering to open a link with a scheme other than http(s)")
            return
        self._confirm(url, "Open this link in your browser?", "Open")

    @Slot(str)
    def _on_card_console_requested(self, location: str) -> None:
        obj = parse_s3_uri(location)
        if obj is None:
            return
        url = console_url(obj, self._region)
        where = f" ({self._region})" if self._region else ""
        self._confirm(url, f"Open this object in the AWS console{where}?", "Open console")

    def _confirm(self, url: str, question: str, action: str) -> None:
        """Ask before opening ``url``, showing it; opens only on the user's yes."""
        if self.confirmation is not None:
            self.confirmation.close()
        shown = sm.reveal_controls(bidi.one_line(url, MAX_SHOWN_URL))
        box = QMessageBox(
            QMessageBox.Icon.Question, "Open in browser", question, QMessageBox.StandardButton.Cancel, self
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(shown)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirmation = box
        self._confirm_url = url
        box.buttonClicked.connect(self._on_confirmation_button_clicked)
        box.destroyed.connect(self._on_confirmation_destroyed)
        box.open()

    def confirmation_accept_button(self) -> QAbstractButton | None:
        """The button of the open confirmation that opens the address (for keyboard and tests)."""
        if self.confirmation is None:
            return None
        for button in self.confirmation.buttons():
            if self.confirmation.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
                return button
        return None

    @Slot(QAbstractButton)
    def _on_confirmation_button_clicked(self, button: QAbstractButton) -> None:
        box = self.confirmation
        if box is None:
            return
        if box.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
            links.open_on_click(self._confirm_url)
        self._confirm_url = ""

    @Slot()
    def _on_confirmation_destroyed(self) -> None:
        self.confirmation = None

    # -- theme ------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()

    def _apply_colours(self) -> None:
        palette = self.palette()
        text = palette.color(palette.ColorRole.Text)
        muted = theme.muted_text(palette)
        for background in (palette.color(palette.ColorRole.Window), palette.color(palette.ColorRole.Base)):
            muted = readable(muted, background, text)  # the drawer's panel lies between the two
        for label in (self.subtitle_label, self.empty_label):
            tint(label, muted)
