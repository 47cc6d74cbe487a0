"""Work held back from the pass of the event loop between a scroll and its paint.

A scroll of the message list posts its paint, handled in the next pass of the event
loop. Work that falls due in the same pass as the scroll (a timer's, a worker's result
handed on in a turn: an older page going in, a layout of every row held) runs before
that paint, and the window holds both in one go: a frame missed while a fast scroll
brings pages in. :class:`ScrollPaintWait` runs such work after the paint instead, in a
turn of a :class:`.TurnTimer` (armed below Qt's paint requests). A view that paints
nothing (hidden, or its window not exposed) holds the work a few turns at most.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from ..turn_timer import TurnTimer
from .message_view import MessageListView

#: Turns a piece of work waits for a scroll's paint at most.
MOST_WAITS = 3


class ScrollPaintWait(QObject):
    """Runs work at once, or after the paint of the scroll just made; see the module docstring."""

    def __init__(self, view: MessageListView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        #: The view's paint count when the user last scrolled it.
        self._scroll_paints = -1
        #: Work waiting for the paint, with the turns it has waited.
        self._waiting: list[tuple[Callable[[], None], int]] = []
        self._turn = TurnTimer(self._on_turn, self)

    def scrolled(self) -> None:
        """The user scrolled the view: its paint is to come."""
        self._scroll_paints = self._view.paints

    def paint_due(self) -> bool:
        """Whether the view scrolled and has not painted since."""
        return self._view.paints == self._scroll_paints and self._view.isVisible()

    def run(self, work: Callable[[], None]) -> None:
        """Call ``work`` now, or in a turn after the paint of the scroll just made."""
        if self.paint_due():
            self._waiting.append((work, 1))
            self._turn.start()
        else:
            work()

    def is_waiting(self) -> bool:
        return bool(self._waiting)

    def _on_turn(self) -> None:
        waiting, self._waiting = self._waiting, []
        for work, waits in waiting:
            if waits < MOST_WAITS and self.paint_due():  # scrolled again before this turn
                self._waiting.append((work, waits + 1))
            else:
                work()
        if self._waiting:
            self._turn.start()
