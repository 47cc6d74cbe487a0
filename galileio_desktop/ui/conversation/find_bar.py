"""Find in chat (Ctrl+F): a bar above the messages that finds text in the whole open chat.

It asks the mirror (:meth:`ChatLibrary.find_in_chat`), not the rows loaded in the view,
so a hit in a message thousands of rows up is found, counted and reached: the pane loads
older pages until it is there. A hit is one occurrence of the text (see
:mod:`galileio_desktop.data.mirror.chat_find`); "3 of 12" counts occurrences.

Hits are numbered from the newest, where the reader is: "1 of 12" is the last occurrence
in the newest message holding the text. Enter (or the up arrow button) steps to the next
one up the chat, older; Shift+Enter (the down arrow) back down, newer; both wrap around.
Typing searches after a short pause; only the latest search's result is ever shown.
Esc closes the bar and gives the focus back to the messages.
"""

from __future__ import annotations

import bisect
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLineEdit, QStyle, QToolButton, QWidget

from ..shortcuts.shortcut_map import register_keys
from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.mirror.chat_find import FindHit
    from ...data.sync import ChatLibrary
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

#: Typing pauses this long before the chat is searched.
SEARCH_DELAY_MS = 150


@dataclass(frozen=True)
class FindResult:
    """The hits of ``term`` in ``chat_id``, oldest first."""

    chat_id: str
    term: str
    hits: list[FindHit]


def find_op(chat_id: str, terms: Sequence[str], message_id: str = "") -> LibraryOp[FindResult]:
    """Find the first of ``terms`` that occurs in ``message_id`` (any message when "");
    when none does, the hits of the first term."""
    return LibraryOp(functools.partial(_find_first, chat_id, tuple(terms), message_id), name="find in chat")


def _find_first(chat_id: str, terms: tuple[str, ...], message_id: str, library: ChatLibrary) -> FindResult:
    first: FindResult | None = None
    for term in terms:
        result = FindResult(chat_id, term, library.find_in_chat(chat_id, term))
        first = first or result
        if any(hit.message_id == message_id for hit in result.hits) if message_id else result.hits:
            return result
    return first or FindResult(chat_id, "", [])


class FindBar(QWidget):
    """The find bar of the message pane; see the module docstring.

    Signals:
        sig_marks_changed(term, message_id, occurrence): mark every occurrence of ``term``
            ("" for none) and, when ``message_id`` is not "", that message's occurrence
            number ``occurrence`` (counted from 0 in its text) as the current one.
        sig_hit_chosen(message_id, newer): go to this message (the current hit is in it, or
            it is the message :meth:`find` was asked to land on); ``newer``: how many
            messages of the chat come after it (-1: not known).
        sig_results_shown(count): the latest search's result is shown (occurrences found).
        sig_closed(): the user closed the bar.
    """

    sig_marks_changed = Signal(str, str, int)
    """What the messages mark changed."""
    sig_hit_chosen = Signal(str, int)
    """The current hit moved to a message: show it."""
    sig_results_shown = Signal(int)
    """A search's result is in (how many occurrences)."""
    sig_closed = Signal()
    """The bar was closed by the user (Esc or its close button)."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._chat_id = ""
        #: The hits shown, newest first, and where each one's occurrences start in the count.
        self._term = ""
        self._hits: list[FindHit] = []
        self._starts: list[int] = []
        self._total = 0
        #: The current hit, as a place in the count from the newest (None: none yet).
        self._position: int | None = None
        #: Where the next result should land: (message id, occurrence), and whether to go
        #: there (False: counting again keeps the current hit, if any, without moving).
        self._landing: tuple[str, int] | None = None
        self._go_on_landing = True
        self._find_op: LibraryOp[FindResult] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)

        # Widgets
        self.term_edit = QLineEdit(self)
        self.term_edit.setPlaceholderText("Find in chat")
        self.term_edit.setAccessibleName("Find in chat")
        self.term_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Matches")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.next_button = QToolButton(self)
        self.next_button.setAccessibleName("Next match, older")
        self.next_button.setToolTip("Next match, older (Enter)")
        self.previous_button = QToolButton(self)
        self.previous_button.setAccessibleName("Previous match, newer")
        self.previous_button.setToolTip("Previous match, newer (Shift+Enter)")
        self.close_button = QToolButton(self)
        self.close_button.setAccessibleName("Close find")
        self.close_button.setToolTip("Close (Esc)")

        # Setup
        self.setObjectName("findBar")
        self.setAccessibleName("Find in chat")
        # The application's style, not the widget's: see ui/screens.py for what PySide does
        # with a parentless Qt object a widget returns (a style-sheet style can be one).
        style = QApplication.style()
        self.next_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
        self.previous_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowDown))
        self.close_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogCloseButton))
        for button in (self.next_button, self.previous_button, self.close_button):
            button.setAutoRaise(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.count_label.setProperty("muted", True)  # the window's style sheet colours it
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance("888 of 8,888") + 8)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.term_edit.installEventFilter(self)
        register_keys(
            self.term_edit,
            [
                ("Return", "Next match (older)"),
                ("Shift+Return", "Previous match (newer)"),
                ("Esc", "Close find"),
            ],
        )
        self._show_count()

        # Layout
        layout = QHBoxLayout(self)
        layout.setContentsMargins(18, 2, 12, 6)
        layout.setSpacing(4)
        layout.addWidget(self.term_edit, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.next_button)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.close_button)

        # Signals
        self.term_edit.textChanged.connect(self._on_term_edit_text_changed)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.next_button.clicked.connect(self.next_hit)
        self.previous_button.clicked.connect(self.previous_hit)
        self.close_button.clicked.connect(self.close_bar)
        client.events.sig_data_changed.connect(self._on_events_data_changed)

    # -- public -------------------------------------------------------------------------

    @property
    def term(self) -> str:
        """The text the hits shown are for ("" when none are)."""
        return self._term

    @property
    def total(self) -> int:
        """How many occurrences the latest search found."""
        return self._total

    @property
    def position(self) -> int | None:
        """The current hit, 1 for the newest (None when there is none)."""
        return None if self._position is None else self._position + 1

    def current_hit(self) -> tuple[str, int] | None:
        """(message id, occurrence within its text) of the current hit."""
        return None if self._position is None else self._place(self._position)

    def set_chat(self, chat_id: str) -> None:
        """Another chat is open: the bar closes and forgets what it found."""
        self._chat_id = chat_id
        self._hide(clear_text=True)

    def open_bar(self) -> None:
        """Show the bar with its text selected. Text left from before is searched again
        and marked, without moving the view: Enter goes to the newest hit."""
        was_hidden = self.isHidden()
        self.show()
        self.term_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.term_edit.selectAll()
        if was_hidden and self.term_edit.text():
            self._search([self.term_edit.text()], go=False)

    def find(self, terms: Sequence[str], message_id: str = "") -> None:
        """Show the bar searching the first of ``terms`` found in ``message_id`` and make
        its first occurrence there current; without ``message_id``, the newest hit.
        The message is gone to whether a term is found in it or not."""
        terms = [term for term in terms if term]
        if not terms:
            return
        self.show()
        self._set_text(terms[0])
        self._search(terms, (message_id, 0) if message_id else None)

    @Slot()
    def next_hit(self) -> None:
        """One hit up the chat (older), wrapping around to the newest."""
        self._step(1)

    @Slot()
    def previous_hit(self) -> None:
        """One hit down the chat (newer), wrapping around to the oldest."""
        self._step(-1)

    @Slot()
    def close_bar(self) -> None:
        """Hide the bar and its marks (the text stays for the next Ctrl+F)."""
        self._hide(clear_text=False)
        self.sig_closed.emit()

    def search_now(self) -> None:
        """Search what is typed without waiting for the pause (tests, Enter while typing)."""
        self._timer.stop()
        self._search([self.term_edit.text()])

    # -- searching ------------------------------------------------------------------------

    def _search(
        self, terms: Sequence[str], landing: tuple[str, int] | None = None, *, go: bool = True
    ) -> None:
        self._timer.stop()
        if self._find_op is not None:
            self._find_op.cancel()  # only the latest search's hits are shown
            self._find_op = None
        self._landing, self._go_on_landing = landing, go
        if not terms or not terms[0] or not self._chat_id:
            self._set_hits("", [])
            self._show_count()
            self.sig_marks_changed.emit("", "", 0)
            return
        self._find_op = (
            find_op(self._chat_id, terms, landing[0] if landing else "")
            .success(functools.partial(self._on_found, self._chat_id))
            .run_in(self._client.local)
        )

    def _on_found(self, chat_id: str, result: FindResult) -> None:
        if chat_id != self._chat_id:
            return
        self._find_op = None
        if result.term != self.term_edit.text():
            self._set_text(result.term)  # an alternative term of a search hit was found
        landing, self._landing = self._landing, None
        if not self._go_on_landing:
            landing = self.current_hit()  # counted again: the current hit stays current
        self._set_hits(result.term, result.hits)
        if landing is not None:
            self._position = self._position_of(*landing)
        elif self._go_on_landing and self._total:
            self._position = 0  # as typed: the newest hit
        self._show_count()
        self.sig_results_shown.emit(self._total)
        if self._position is None:
            self.sig_marks_changed.emit(self._term, "", 0)
            if landing is not None and self._go_on_landing:
                self.sig_hit_chosen.emit(landing[0], -1)  # shown, though the term is not in it
        elif self._go_on_landing:
            self._go()
        else:
            self._emit_marks()

    def _set_hits(self, term: str, hits: list[FindHit]) -> None:
        self._term = term
        self._hits = list(reversed(hits))
        self._starts = []
        total = 0
        for hit in self._hits:
            self._starts.append(total)
            total += hit.count
        self._total = total
        self._position = None

    def _place(self, position: int) -> tuple[str, int]:
        """(message id, occurrence in its text) of a place in the count from the newest."""
        index = bisect.bisect_right(self._starts, position) - 1
        hit = self._hits[index]
        return hit.message_id, hit.count - 1 - (position - self._starts[index])

    def _position_of(self, message_id: str, occurrence: int) -> int | None:
        for index, hit in enumerate(self._hits):
            if hit.message_id == message_id:
                return self._starts[index] + hit.count - 1 - min(max(occurrence, 0), hit.count - 1)
        return None

    # -- moving ---------------------------------------------------------------------------

    def _step(self, step: int) -> None:
        if self._timer.isActive():
            self.search_now()  # Enter while typing: find what is typed, go to its newest hit
            return
        if self._find_op is not None and self._go_on_landing:
            return  # a search is on its way and goes to its newest hit
        if not self._total:
            return
        if self._position is None:
            self._position = 0 if step > 0 else self._total - 1
        else:
            self._position = (self._position + step) % self._total
        self._show_count()
        self._go()

    def _go(self) -> None:
        self._emit_marks()
        if self._position is not None:
            hit = self._hits[bisect.bisect_right(self._starts, self._position) - 1]
            self.sig_hit_chosen.emit(hit.message_id, hit.newer)

    def _emit_marks(self) -> None:
        current = self.current_hit()
        if current is None:
            self.sig_marks_changed.emit(self._term, "", 0)
        else:
            self.sig_marks_changed.emit(self._term, current[0], current[1])

    # -- display --------------------------------------------------------------------------

    def _show_count(self) -> None:
        if not self._term:
            text = ""
        elif not self._total:
            text = "No matches"
        elif self._position is None:
            text = f"{self._total:,} match" if self._total == 1 else f"{self._total:,} matches"
        else:
            text = f"{self._position + 1:,} of {self._total:,}"
        self.count_label.setText(text)
        # Read out by screen readers as the field's description changes.
        self.count_label.setAccessibleDescription(text)
        self.term_edit.setAccessibleDescription(text)
        for button in (self.next_button, self.previous_button):
            button.setEnabled(self._total > 0)

    def _set_text(self, text: str) -> None:
        blocked = self.term_edit.blockSignals(True)
        try:
            self.term_edit.setText(text)
        finally:
            self.term_edit.blockSignals(blocked)

    def _hide(self, *, clear_text: bool) -> None:
        self._timer.stop()
        if self._find_op is not None:
            self._find_op.cancel()
            self._find_op = None
        if clear_text:
            self._set_text("")
        had_marks = bool(self._term)
        self._set_hits("", [])
        self._landing = None
        self._show_count()
        self.hide()
        if had_marks:
            self.sig_marks_changed.emit("", "", 0)

    # -- events ---------------------------------------------------------------------------

    @Slot(str)
    def _on_term_edit_text_changed(self, text: str) -> None:
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._search([self.term_edit.text()])

    @Slot()
    def _on_events_data_changed(self) -> None:
        """Messages came or went: count again, keeping the current hit without moving."""
        if not self.isHidden() and self._term and self._find_op is None and not self._timer.isActive():
            self._search([self._term], go=False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.term_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                    self.previous_hit()
                else:
                    self.next_hit()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return super().eventFilter(watched, event)
