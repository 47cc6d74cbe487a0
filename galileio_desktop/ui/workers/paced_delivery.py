"""What the workers tell the window, handed to the GUI thread a few milliseconds a turn.

A signal a worker emits to the GUI thread is a posted event, and Qt delivers every
posted event waiting, and those posted while it delivers, in one pass of its event
loop: timers and the next frame wait until the pass is over. At the end of a sync the
new chat list, the open chat's page and its network top-up arrive together, each
handled in a few milliseconds (a list set, a page shown, rows laid out, and the paints
they ask for): in one pass, the window stood still for a frame and more.

So the workers put what they say in one queue, in the order they say it (all of them:
a chat's page never overtakes the list it is in), and the GUI thread hands it on in
turns of its event loop, :data:`TURN_BUDGET_S` of handlers a turn, at least one a turn.
A handler is never split, so a turn may run over by one.

A turn is a :class:`~..turn_timer.TurnTimer`: the paints and layouts a turn asked for,
and a timer that fell due meanwhile (a frame's), run before the next turn. A turn never
opens an event loop of its own: a handler that did would hold the rest of the queue
until it returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Slot

from ..turn_timer import TurnTimer

log = logging.getLogger(__name__)

#: Handlers run a turn of the event loop, in seconds (the first always runs).
TURN_BUDGET_S = 0.002


class PacedDelivery(QObject):
    """A queue any thread adds calls to, emptied in the GUI thread a budget a turn.

    ``clock``: seconds, for the budget (tests pass their own).
    """

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        budget_s: float = TURN_BUDGET_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(parent)
        self.budget_s = budget_s
        self._clock = clock
        self._lock = threading.Lock()
        self._queue: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()
        #: True from the moment an empty queue gets a call until a turn leaves it empty:
        #: the GUI thread is told once, not for every call.
        self._armed = False
        #: Set by :meth:`close`: later calls are dropped.
        self._closed = False
        self._turn = TurnTimer(self._on_turn, self)

    def post(self, call: Callable[..., object], *args: Any) -> None:
        """Call ``call(*args)`` in the GUI thread, after every call posted before; from any
        thread. Dropped once closed."""
        with self._lock:
            if self._closed:
                return
            self._queue.append((call, args))
            if self._armed:
                return
            self._armed = True
            # Under the lock: close() then knows no thread is about to touch the timer.
            self._turn.start()

    def call_unless_closed(self, call: Callable[..., object], *args: Any) -> None:
        """Call ``call(*args)`` now, in the caller's thread, unless closed (a worker's
        signal to another worker, on an object that is deleted once closed)."""
        with self._lock:
            if not self._closed:
                call(*args)

    def close(self) -> None:
        """Take no more calls, from any thread: the workers' threads can outlive the window
        (a thread let go at Quit), and this object and its timer go with the window.
        Calls already queued are still handed on while this object lives."""
        with self._lock:
            self._closed = True

    def pending(self) -> int:
        """Calls waiting for a turn."""
        with self._lock:
            return len(self._queue)

    @Slot()
    def _on_turn(self) -> None:
        """One turn: calls in order until the budget is spent; then the next is armed."""
        deadline = self._clock() + self.budget_s
        while True:
            with self._lock:
                if not self._queue:
                    self._armed = False
                    return
                call, args = self._queue.popleft()
            try:
                call(*args)
            except Exception:  # noqa: BLE001 - one failing call must not stop the others
                log.exception("handing a worker's message to the window failed")
            if self._clock() >= deadline:
                break
        with self._lock:
            if not self._queue:
                self._armed = False
                return
        self._turn.start()
