"""The garbage collector, set for a window with busy threads behind it.

A full collection walks every container object alive while holding the interpreter
lock; with Qt's wrappers, botocore's service models and a chat list in memory it took
30-60 ms, and a first sync allocates enough to run several of them: the window could
not paint meanwhile. What exists once the window is up lives as long as the window, so
it is frozen out of the collector's reach, and full collections come ten times less
often (the young generations still collect short-lived cycles as usual).
"""

from __future__ import annotations

import gc

#: Collections of the middle generation between two full ones (Python's default: 10).
FULL_COLLECTION_EVERY = 100

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
