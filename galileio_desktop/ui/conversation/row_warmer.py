"""Rows laid out before they come on screen, in idle slices of the event loop.

Scrolling a chat of rich answers brings a few rows on screen every frame, and laying
one out (Markdown, highlighted code, fitted tables) takes 1 to 10 ms of the GUI
thread. Done in the paint that first shows them, those layouts and the paint share
one turn of the event loop and frames are missed. So the warmer lays them out ahead:
in turns of their own (a :class:`.TurnTimer`: armed once the paints already asked for
are done, so a turn comes after them and after the timers that fell due meanwhile, a
frame's say), at most :data:`WARM_BUDGET_S` of layout a turn, it builds the documents
of the rows on screen, then of those just past the viewport in the direction of the
last scroll (the next to be shown), then of a few behind it; then of the rows whose
height is still an estimate
(:meth:`.MessageDelegate.pending_row`). A row is built in steps (the Markdown, the
code's colours, the tables, the layout: :meth:`.MessageDelegate.warm`), a turn ending
between two, so no turn holds the window for a whole long answer.

Heights that turn out different from their estimate are laid out again (a layout of
every row held, a few milliseconds) in a turn of its own, with the row at the top of the
view kept in its place, once such a row is within :data:`RELAYOUT_REACH_SCREENS` of the
viewport: rows measured further ahead wait, so one layout takes in the rows of several
turns, and a page going in (a layout of its own) takes them in for nothing. A scroll or
a layout is followed by a paint: the turn after one is left to it (see :meth:`scrolled`),
so warming and painting do not add up in one pass of the event loop.

The documents go into the delegate's cache, which is bounded
(:data:`.message_delegate.DOC_CACHE_SIZE`). The rows warmed are a few screens, and
never more than half of what it holds: warming more would drop rows it built itself
and build them again, turn after turn.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QPoint, Slot
from PySide6.QtWidgets import QListView

from ..turn_timer import TurnTimer
from . import message_delegate
from .message_delegate import MessageDelegate
from .message_list_model import MessageListModel, MessageRow

#: Layout a turn of the event loop, in seconds: with a relayout and a paint, a turn stays
#: within a 60 Hz frame. A step of a row's build is never split: a turn may run over by one.
WARM_BUDGET_S = 0.002
#: How far past the viewport, in viewport heights, rows are laid out ahead of a scroll...
AHEAD_SCREENS = 3.0
#: ... and behind it (where a scroll turning back goes first).
BEHIND_SCREENS = 1.0
#: Rows measured at a height other than the view's estimate are laid out again once one
#: of them is this near the viewport, in viewport heights (a frame of a fast wheel moves
#: well under one).
RELAYOUT_REACH_SCREENS = 1.0

Anchor = tuple[str, int]


class RowWarmer(QObject):
    """Builds row documents ahead of the viewport; see the module docstring.

    ``take_anchor`` and ``relayout`` are the pane's: where the top row is before a
    turn's heights change, and a layout that puts it back there.
    """

    def __init__(
        self,
        view: QListView,
        model: MessageListModel,
        delegate: MessageDelegate,
        take_anchor: Callable[[], Anchor],
        relayout: Callable[[Anchor], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._model = model
        self._delegate = delegate
        self._take_anchor = take_anchor
        self._relayout = relayout
        #: -1 when the last scroll went up (towards older rows, as a chat opens at its
        #: end), +1 when it went down.
        self.direction = -1
        self._last_value: int | None = None
        #: Set by tests: documents built by the warmer.
        self.documents_warmed = 0
        #: Also set by tests: the layouts the warmer made.
        self.relayouts = 0
        #: Rows measured at a height the view does not hold yet: row key -> that height.
        self._changed: dict[str, int] = {}
        #: A scroll or a layout was just made: its paint comes before the next warming.
        self._yield_turn = False
        self._timer = TurnTimer(self._on_timer_timeout, self)

    def start(self) -> None:
        """Warm in a turn after the paints asked for (a no-op when a turn is planned)."""
        if not self._timer.is_active():
            self._timer.start()

    def is_active(self) -> bool:
        return self._timer.is_active()

    def reset(self) -> None:
        """A new set of rows (a chat opened): shown from their end, so warm upwards."""
        self.direction = -1
        self._last_value = None
        self.start()

    def scrolled(self, value: int, *, by_user: bool = True) -> None:
        """The view moved to ``value``: by the user (which sets the direction to warm in),
        or by a layout keeping the place (rows went in above: not a direction).

        The view paints what the move uncovered in the next pass of the event loop (a
        paint is posted, and posted events go before timers): a warming turn due in this
        pass waits for the next, so it does not hold that paint up."""
        if by_user and self._last_value is not None and value != self._last_value:
            self.direction = -1 if value < self._last_value else 1
        self._last_value = value
        self._yield_turn = True
        self.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        """One slice: lay rows out, or (when a row measured at another height than the view
        holds is near the viewport) lay the view out again. Kept apart, neither waits for
        the other before a paint."""
        if self._yield_turn:
            self._yield_turn = False
            self._timer.start()  # the paint first
            return
        if self._relayout_needed():
            self._changed.clear()
            self.relayouts += 1
            self._relayout(self._take_anchor())
            self._yield_turn = True  # (a layout repaints the viewport)
            self._timer.start()  # and a look for rows the measuring pushed out of the cache
            return
        if self._warm_some(time.perf_counter() + WARM_BUDGET_S):
            self._timer.start()  # until a turn finds nothing to do

    def _relayout_needed(self) -> bool:
        """Whether a row measured at another height than the view's is near the viewport.
        Rows the view has laid out at their height since (a page went in) are let go.

        (A list view places its rows at the heights of its last layout, but gives each
        the height its delegate answers now: the room a row has is where the next one
        starts.)"""
        if not self._changed:
            return False
        height = max(1, self._view.viewport().height())
        reach = RELAYOUT_REACH_SCREENS * height
        count = self._model.rowCount()
        near = False
        for key, measured in list(self._changed.items()):
            number = self._model.row_for(key)
            if number is None:
                del self._changed[key]
                continue
            top = self._visual_top(number)
            if number + 1 < count and self._visual_top(number + 1) - top == measured:
                del self._changed[key]
            elif -reach - measured < top < height + reach:
                near = True
        return near

    def _warm_some(self, deadline: float) -> bool:
        """Build rows until ``deadline``; False when there was nothing to build. Notes in
        ``_changed`` the rows whose height the view holds turned out wrong."""
        worked = False
        for number in self.rows_to_warm():
            row = self._model.row_at(number)
            if row is None or self._delegate.has_document(row):
                continue
            if not self._warm(row, deadline):
                return True
            worked = True
            if time.perf_counter() >= deadline:
                return True
        # Then the rows still given an estimate. They take room in the document cache,
        # maybe a warmed row's: the next turn looks again.
        while (row := self._delegate.pending_row()) is not None:
            if not self._warm(row, deadline):
                return True
            worked = True
            if time.perf_counter() >= deadline:
                return True
        return worked

    def _warm(self, row: MessageRow, deadline: float) -> bool:
        """Go on laying ``row`` out until ``deadline``; True when it is done."""
        state_text = MessageListModel.state_text(row)
        changed = self._delegate.warm(row, state_text, deadline)
        if changed is None:
            return False
        if changed:
            self._changed[row.key] = self._delegate.row_height(row, state_text)
        self.documents_warmed += 1
        return True

    def rows_to_warm(self) -> Iterator[int]:
        """Row numbers in the order they are wanted: on screen, ahead, behind."""
        return itertools.islice(self._rows_wanted(), message_delegate.DOC_CACHE_SIZE // 2)

    def _rows_wanted(self) -> Iterator[int]:
        view = self._view
        count = self._model.rowCount()
        if count == 0 or not view.isVisible():
            return
        height = max(1, view.viewport().height())
        first = view.indexAt(QPoint(1, 1))
        last = view.indexAt(QPoint(1, height - 1))
        top = first.row() if first.isValid() else 0
        bottom = last.row() if last.isValid() else count - 1
        yield from range(top, bottom + 1)
        ahead, behind = (self._above, self._below) if self.direction < 0 else (self._below, self._above)
        yield from ahead(top if self.direction < 0 else bottom, AHEAD_SCREENS * height)
        yield from behind(bottom if self.direction < 0 else top, BEHIND_SCREENS * height)

    def _above(self, row: int, reach: float) -> Iterator[int]:
        """Rows above ``row`` whose top is within ``reach`` pixels of the viewport's."""
        number = row - 1
        while number >= 0 and self._visual_top(number) > -reach:
            yield number
            number -= 1

    def _below(self, row: int, reach: float) -> Iterator[int]:
        limit = self._view.viewport().height() + reach
        number = row + 1
        count = self._model.rowCount()
        while number < count and self._visual_top(number) < limit:
            yield number
            number += 1

    def _visual_top(self, number: int) -> int:
        return self._view.visualRect(self._model.index(number, 0)).top()
