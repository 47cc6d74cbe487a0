"""The whole chat list read a page at a time, each page an operation of its own on the
library's lane.

Read in one go, 100,000 chats held the lane for 2-4 s: a chat opened, a rename or a
search asked for meanwhile waited behind it. A page is a few thousand chats (tens of
milliseconds), and each asks for the next only as it arrives, so anything asked for
meanwhile runs between two pages. The next page is asked for before this one is
handed on: the worker reads it while the GUI thread adds this one.

What a page says of a chat can be older than what the window was told since the read
began (a write's report that the chat was renamed, deleted or added): such chats are
``touched``, and pages handed on from then on leave their rows out. A write nobody
reported (yet) can also move a chat the window holds from below the pages' cursor to
above it (a question stored while its answer streams; another process): no page finds
it, so the chats held that no page brought are read once more, by id, after the last
page. The read ends with the set of chats it found (pages, that last look and touched
ones alike): any other the window holds is gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from . import chat_ops
from .chat_ops import chats_by_id_op, chats_page_op

if TYPE_CHECKING:
    from ...data.mirror.items import ChatCursor
    from ...data.sync import ChatView
    from ..workers.operation import LibraryOp, OpFailure, OpLane

#: Pages arriving closer together than this are handed on together: each hand-on has the
#: list view lay out all its rows again (about 30 ms of the GUI thread at 100,000 chats,
#: spread over turns). Measured at 100,000 chats: 37 -> 24 ms of GUI thread time a page.
HAND_ON_EVERY_MS = 100

PageHandler = Callable[[list["ChatView"]], None]
DoneHandler = Callable[[set[str]], None]
FailedHandler = Callable[["OpFailure"], None]
HeldChats = Callable[[], Iterable[str]]


class ListRead:
    """One read of the whole list; see the module docstring.

    A page that fails ends the read: the pages arrived are handed on and stay, nothing is
    taken away for want of the rest, and ``on_failed`` gets the failure.
    """

    def __init__(
        self,
        lane: OpLane,
        on_page: PageHandler,
        on_done: DoneHandler,
        on_failed: FailedHandler,
        held: HeldChats = tuple,
        parent: QObject | None = None,
    ) -> None:
        self._lane = lane
        #: The chats the window holds (read after the last page; see the module docstring).
        self._held = held
        self._on_page: PageHandler | None = on_page
        self._on_done: DoneHandler | None = on_done
        self._on_failed: FailedHandler | None = on_failed
        self._op: LibraryOp[Any] | None = None
        #: Chats the pages brought so far.
        self.listed: set[str] = set()
        #: Chats the window was told about since the read began: their page rows are older.
        self.touched: set[str] = set()
        #: Pages arrived so far.
        self.pages = 0
        self._pending: list[ChatView] = []
        self._last_page = False
        #: Chats held that no page brought, still to be read by id after the last page.
        self._unseen: list[str] = []
        self._handed_on_at = float("-inf")
        # The window's child: gone with it, a hand-on it planned never comes to its
        # deleted widgets (a window closed and dropped while pages arrive).
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._hand_on)

    @property
    def active(self) -> bool:
        """True from :meth:`start` until the last page is handed on or the read is cancelled."""
        return self._on_done is not None

    def start(self) -> None:
        self._ask(None)

    def touch(self, chat_id: str) -> None:
        """The window was told about ``chat_id`` (by a write): later pages leave it be."""
        self.touched.add(chat_id)

    def cancel(self) -> None:
        """Stop here: no page is handed on any more."""
        if self._op is not None:
            self._op.cancel()
        self._timer.stop()
        self._pending = []
        self._release()

    def _ask(self, after: ChatCursor | None) -> None:
        self._op = chats_page_op(after).success(self._on_arrived).failure(self._on_failure).run_in(self._lane)

    def _on_arrived(self, page: tuple[list[ChatView], ChatCursor | None]) -> None:
        views, cursor = page
        self._op = None
        if cursor is not None:
            self._ask(cursor)
        self.pages += 1
        self.listed.update(v.chat.chat_id for v in views)
        self._pending.extend(views)
        if cursor is None:
            listed, touched = self.listed, self.touched
            self._unseen = [cid for cid in self._held() if cid not in listed and cid not in touched]
            self._look_again()
        elif not self._timer.isActive():
            since_ms = (time.monotonic() - self._handed_on_at) * 1000
            self._timer.start(int(min(HAND_ON_EVERY_MS, max(0.0, HAND_ON_EVERY_MS - since_ms))))

    def _look_again(self) -> None:
        """Read the next page of the chats held that no page brought; the read ends
        once none is left. A page each, as the list is: many chats deleted elsewhere
        hold the lane no longer than a page does."""
        if self._unseen:
            size = chat_ops.LIST_PAGE_CHATS
            chat_ids, self._unseen = self._unseen[:size], self._unseen[size:]
            self._op = chats_by_id_op(chat_ids).success(self._on_looked).failure(self._on_failure)
            self._op.run_in(self._lane)
            return
        self._last_page = True
        self._hand_on()

    def _on_looked(self, views: list[ChatView]) -> None:
        """Chats held that no page brought, as they are now (those gone are not here)."""
        self._op = None
        self.listed.update(v.chat.chat_id for v in views)
        self._pending.extend(views)
        self._look_again()

    def _on_failure(self, failure: OpFailure) -> None:
        self._op = None
        on_failed = self._on_failed
        self._on_done = None  # the read ends without its last page: nothing is taken away
        self._hand_on()
        self._release()
        if on_failed is not None:
            on_failed(failure)

    def _hand_on(self) -> None:
        """The pages arrived since the last hand-on, less the chats touched since they were read."""
        self._timer.stop()
        views, self._pending = self._pending, []
        self._handed_on_at = time.monotonic()
        touched = self.touched
        if touched:
            views = [v for v in views if v.chat.chat_id not in touched]
        if self._on_page is not None:
            self._on_page(views)
        on_done = self._on_done  # None when the page's handler cancelled the read
        if self._last_page and on_done is not None:
            self._release()
            on_done(self.listed | self.touched)

    def _release(self) -> None:
        """Let the handlers go (they are the sidebar's: no cycle left behind), and the
        timer with this object, not with the window (one left behind a read)."""
        self._on_page = self._on_done = self._on_failed = None
        self._timer.setParent(None)
