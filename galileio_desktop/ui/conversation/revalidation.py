"""The open chat kept fresh: read again from the server once it is shown from the
mirror, and after each sync while it stays open, so that a message another device or
the web app added or deleted shows or goes within a minute (the sync interval).

The pane paints from the mirror first; the read starts only once the chat is ready
(its first page painted, the open's own fetch done), on the network lane. A chat
read whole moments ago (just fetched, or flipped back to) is not read again on opening
(:data:`~...data.sync.library.FRESH_FOR_MS`). What changed is announced as changed
data: the pane, the chat list and the find bar read the mirror again.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot

from ...data.sync.library import FRESH_FOR_MS
from ..turn_timer import TurnTimer
from ..workers.operation import LibraryOp, OpFailure

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary
    from ...data.sync.results import PullResult
    from ..workers.client import WorkerClient
    from .message_pane import MessagePane

log = logging.getLogger(__name__)


def revalidate_op(chat_id: str, fresh_for_ms: int = 0) -> LibraryOp[PullResult]:
    """Read ``chat_id``'s messages again from the server (see ``ChatLibrary.revalidate_chat``)."""
    return LibraryOp(functools.partial(_revalidate, chat_id, fresh_for_ms), name="revalidate chat")


def _revalidate(chat_id: str, fresh_for_ms: int, library: ChatLibrary) -> PullResult:
    return library.revalidate_chat(chat_id, fresh_for_ms)


class OpenChatRevalidation(QObject):
    """Reads the pane's open chat again when it is ready and after every sync."""

    def __init__(self, pane: MessagePane, client: WorkerClient) -> None:
        super().__init__(pane)
        self._pane = pane
        self._client = client
        self._op: LibraryOp[Any] | None = None
        #: How many reads were started (for tests and the benchmark).
        self.started = 0
        #: The chat that became ready, read once the paints asked for are done.
        self._ready_chat = ""
        self._ready_turn = TurnTimer(self._on_ready_turn, self)
        pane.sig_chat_ready.connect(self._on_pane_chat_ready)
        client.events.sig_sync_done.connect(self._on_events_sync_done)

    @Slot(str)
    def _on_pane_chat_ready(self, chat_id: str) -> None:
        # Once the rows just set are painted: nothing is sent before the chat is on screen.
        # (A 0 ms single shot is a posted event above Qt's paint requests: it ran first.)
        self._ready_chat = chat_id
        self._ready_turn.start()

    def _on_ready_turn(self) -> None:
        self._start(self._ready_chat, FRESH_FOR_MS)

    @Slot(object)
    def _on_events_sync_done(self, result: object) -> None:
        if result is not None and self._pane.chat_id:  # synced: the server is reachable
            self._start(self._pane.chat_id, 0)

    def _start(self, chat_id: str, fresh_for_ms: int) -> None:
        if not chat_id or chat_id != self._pane.chat_id:
            return
        if self._op is not None:
            self._op.cancel()  # not run yet: the newer read replaces it
        self.started += 1
        op = revalidate_op(chat_id, fresh_for_ms)
        self._op = op
        op.success(functools.partial(self._on_op_done, op)).failure(
            functools.partial(self._on_op_failed, op)
        ).run_in(self._client.network)

    def _on_op_done(self, op: LibraryOp[Any], result: PullResult) -> None:
        if op is self._op:
            self._op = None
        if result.changed or result.removed:
            self._client.events.sig_data_changed.emit()

    def _on_op_failed(self, op: LibraryOp[Any], failure: OpFailure) -> None:
        """Offline or refused: the mirror's copy stays shown; the next sync tries again."""
        if op is self._op:
            self._op = None
        if failure.is_bug:
            self._client.sig_failed.emit(failure)
        else:
            log.info("the open chat was not read again: %s", failure.message)
