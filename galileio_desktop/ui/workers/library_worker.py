"""The worker that opens the account's chat library and runs the window's local work on it.

The library (one SQLite connection: the only one that writes the mirror in the window's
process) is made in this worker's thread when it starts; the sync and answer workers
are handed the same library object, which is thread-safe (one lock around its
connection, one around its network work). Reads and local writes run here, so what is
on disk shows at once whatever the network does.

It reads no queue status as it starts (the status bar's pending count): the sync worker
reports one as it starts, just after the chat list's first paint, and the classes of that
status are not defined before the paint (about 1% of a start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .events import LibraryEvents
from .op_worker import OpWorker

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary

log = logging.getLogger(__name__)

LibraryFactory = Callable[[], "ChatLibrary"]


class LibraryWorker(OpWorker):
    """Owns the library; see the module docstring."""

    def __init__(
        self, library_factory: LibraryFactory, events: LibraryEvents, *, name: str = "library"
    ) -> None:
        super().__init__(events, name=name)
        self._factory = library_factory
        #: Set when the mirror was found damaged at opening and replaced (the window says so).
        self.recovery: Any = None

    def _open(self) -> None:
        self._library = self._factory()
        self.recovery = getattr(self._library, "recovery", None)

    def _close(self) -> None:
        library, self._library = self._library, None
        if library is not None:
            try:
                library.close()
            except Exception:  # noqa: BLE001 - closing must not keep the app from quitting
                log.exception("closing the library failed")
