"""What the window's library thread needs, imported before PySide6 is.

Once PySide6 is imported, its import hook reads the source text of every module
imported after it (to see whether the module uses PySide6, for the opt-in
``__feature__`` syntax): for the data layer and the standard library modules below it,
about 3% of everything a start does before its first paint. Imported before Qt, they
skip that; the library thread then finds them loaded. This module itself imports no Qt
(the ``ui`` package's ``__init__`` imports nothing), and the window's entry point and
the start-up benchmark call :func:`import_library` before anything imports Qt.
"""

from __future__ import annotations

import gc
import sys


def import_library() -> None:
    """Import the mirror, the library and the views the first screen of chats needs, and
    the preferences the window reads as it is built.

    The garbage collector is turned off first: what a start imports lives as long as the
    process, and the dozens of young collections Python would run over it on the way to
    the first paint found nothing to free (about 1% of the instructions to the paint).
    The GUI thread's collector takes over once the application exists, and freezes what
    was made before it (see :mod:`.collector`).

    Does nothing useful once Qt is in (the modules would pay the hook): call it first.
    """
    if "PySide6.QtCore" in sys.modules:
        return
    gc.disable()
    import galileio_desktop.data.preferences  # noqa: F401 - imported for its side effect
    import galileio_desktop.data.sync.library  # noqa: F401
