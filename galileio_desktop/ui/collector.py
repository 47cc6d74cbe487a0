"""The garbage collector, set for a window with busy threads behind it.

A full collection walks every container object alive while holding the interpreter
lock; with Qt's wrappers, botocore's service models and a chat list in memory it took
30-60 ms, and a first sync allocates enough to run several of them: the window could
not paint meanwhile. What exists once the window is up lives as long as the window, so
it is frozen out of the collector's reach, and full collections come ten times less
often (the young generations still collect short-lived cycles as usual).

And the collector runs in the GUI thread only. Left to itself, Python collects in
whichever thread happens to allocate, a worker's included; a cycle holding a Qt object
(a widget and the handler it gave a worker, say) would then be destroyed outside the
thread that owns it, which crashes Qt. So with a window, automatic collection is off
and a timer in the GUI thread collects each generation when its count passes its
threshold, as the automatic collector would (the way pyqtgraph does it).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: Collections of the middle generation between two full ones (Python's default: 10).
FULL_COLLECTION_EVERY = 100

#: How often the GUI thread looks whether a generation is due.
CHECK_EVERY_MS = 100

_settled = False


def settle_long_lived() -> None:
    """Call once a window is built: freeze what exists, space out full collections.

    The first time (the app's start) without a collection first, to keep start-up short;
    after that (another account's window) everything frozen before is let go and
    collected first, so the previous window's cycles are not kept for good.
    """
    global _settled
    if _settled:
        gc.unfreeze()
        gc.collect()
    _settled = True
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


class GuiThreadCollector(QObject):
    """Collects cycles in the GUI thread, generation by generation, when they are due."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("guiThreadCollector")
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()
        gc.disable()

    @staticmethod
    def collect_due() -> None:
        """Collect each generation whose count passed its threshold."""
        young, middle, old = gc.get_count()
        young_max, middle_max, old_max = gc.get_threshold()
        if young > young_max:
            gc.collect(0)
        if middle > middle_max:
            gc.collect(1)
        if old > old_max:
            gc.collect(2)


def collect_in_gui_thread() -> None:
    """From now on the collector runs only in the GUI thread (once per application)."""
    app = QCoreApplication.instance()
    if app is None or app.findChild(GuiThreadCollector, "guiThreadCollector") is not None:
        return
    GuiThreadCollector(app)
