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

A pass stops the GUI thread for as long as it takes to walk the objects of the
generations it collects, so the timer looks often while objects are being made (a sync
parsing pages in a worker, say): a young generation collected every 10 ms holds what
10 ms made, not what a tenth of a second made, and each pass stays a millisecond or
two instead of the 10-30 ms that broke a frame; the middle generation waits for a quiet
moment when it can. Once nothing is due the timer goes back to its slow pace, so an
idle window wakes no more often than before.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

#: Collections of the middle generation between two full ones (Python's default: 10).
#: The middle generation is collected up to ten times more often while busy (see
#: :data:`BUSY_CHECK_EVERY_MS`), so this keeps full collections as rare in time as 100
#: would at the slow pace.
FULL_COLLECTION_EVERY = 1000

#: How often the GUI thread looks whether a generation is due, when the last look found
#: nothing to do.
CHECK_EVERY_MS = 100

#: How often it looks while the last look found a generation due.
BUSY_CHECK_EVERY_MS = 10

#: While objects keep coming, the middle generation is collected only once its count is
#: this many times its threshold (else at the first quiet look). What is young while a
#: worker parses a page is mostly alive until the page is stored: collected then, the
#: pass walks all of it (20-35 ms); once the work is done most of it is gone.
MIDDLE_WAITS_UP_TO = 10

_settled = False
#: This many modules imported since a look make an import burst (see ``collect_due``):
#: boto3's first client imports about 200; a dialog's module imported late, a few.
IMPORT_BURST_MODULES = 50

#: How many modules were imported at the collector's last look (see ``collect_due``).
_modules_seen = len(sys.modules)


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
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        # What exists now (the modules imported, the app) lives as long as the process:
        # frozen, no collection walks it. The window's start imports with the collector
        # off (qt_free_first): unfrozen, the first look would walk all of it.
        gc.freeze()
        gc.disable()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._busy = self.collect_due(self._busy)
        self._timer.setInterval(BUSY_CHECK_EVERY_MS if self._busy else CHECK_EVERY_MS)

    @staticmethod
    def collect_due(busy: bool = False) -> bool:
        """Collect the oldest generation whose count passed its threshold (the younger
        ones with it); True when one was. ``busy``: the last look collected too, objects
        keep coming, and the middle generation waits (see :data:`MIDDLE_WAITS_UP_TO`).

        When a library was imported since the last look (at least
        :data:`IMPORT_BURST_MODULES` modules), what is young is mostly what came with
        it (boto3 and its service models, imported by the first network call: 60,000
        objects, a 20-30 ms pass), alive as long as the process: it is frozen like what
        existed at the start, instead of being walked now and again at every full
        collection. A cycle that became garbage just then is kept until the next
        account's window (see :func:`settle_long_lived`); imports that big come once.
        """
        young, middle, old = gc.get_count()
        young_max, middle_max, old_max = gc.get_threshold()
        if young <= young_max and middle <= middle_max and old <= old_max:
            return False
        global _modules_seen
        if len(sys.modules) >= _modules_seen + IMPORT_BURST_MODULES:
            _modules_seen = len(sys.modules)
            gc.freeze()
        elif old > old_max:
            gc.collect(2)
        elif middle > middle_max and (not busy or middle > middle_max * MIDDLE_WAITS_UP_TO):
            gc.collect(1)
        elif young > young_max:
            gc.collect(0)
        return True


def collect_in_gui_thread() -> None:
    """From now on the collector runs only in the GUI thread (once per application)."""
    app = QCoreApplication.instance()
    if app is None or app.findChild(GuiThreadCollector, "guiThreadCollector") is not None:
        return
    GuiThreadCollector(app)
