"""A 0 ms timer for work done a slice a turn of the event loop, that lets frames through.

Work cut in slices (worker results handed on to the window, say) runs a slice a turn
from a 0 ms timer, so timers and paints get the turns between. But Qt runs due timers
in the order they fell due: a 0 ms timer started at the end of a slice falls due at
once, and if that slice asked for a paint (a posted event, handled before timers), the
paint runs, then the next slice, and only then a timer that fell due during the paint
(a frame's, a 60 Hz animation's). Slice, paint and slice hold the window in one go.

:class:`TurnTimer` starts its 0 ms timer from an event posted below Qt's paint
requests (``Qt.LowEventPriority``): the paints and layouts already asked for run
first, then the timers due by then, then the next slice. It is also the way to do
something once what was just set is painted: a 0 ms single shot is a posted event of
normal priority, handled before the paint.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer

_ARM = QEvent.Type(QEvent.registerEventType())
#: Below a paint request (an UpdateRequest is posted at LowEventPriority).
ARM_PRIORITY = Qt.EventPriority.LowEventPriority.value - 1


class TurnTimer(QObject):
    """Calls ``slot`` in a later turn, once the paints already asked for are done.

    :meth:`start` may be called from another thread when no call is planned (it reads no
    Qt state: a QTimer's is for its own thread); the rest in the object's own thread.
    """

    def __init__(self, slot: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: An arming event is on its way (and not stopped since).
        self._arming = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(slot)

    def start(self) -> None:
        """Call the slot in a later turn, once (started again while a call is planned, the
        call comes a little later, still once)."""
        if self._arming:
            return
        self._arming = True
        QCoreApplication.postEvent(self, QEvent(_ARM), ARM_PRIORITY)

    def stop(self) -> None:
        self._arming = False
        self._timer.stop()

    def is_active(self) -> bool:
        """True while a call is planned."""
        return self._arming or self._timer.isActive()

    def event(self, event: QEvent) -> bool:
        if event.type() == _ARM:
            if self._arming:
                self._arming = False
                self._timer.start()
            return True
        return super().event(event)
