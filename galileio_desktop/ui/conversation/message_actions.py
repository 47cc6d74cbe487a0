"""Regenerate an answer, edit and resend a question, delete messages with Undo.

Regenerate asks the latest answer's question again, through the same ask path as
a new question (stored first, answered by whichever assistant the account uses,
queued when offline), so the new question and answer are stored after the old
ones. When the new answer is in, a toast offers to remove the earlier question and
answer; removing them, like deleting any message, hides them at once and sends the
delete only after the Undo toast has gone (the outbox's ``not_before``), so Undo
takes it back without the server ever seeing it.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from ...data.schema import now_ms
from ..toast import DEFAULT_TIMEOUT_MS, Toast
from ..workers.operation import LibraryOp
from .message_list_model import AI, HUMAN, MessageListModel, MessageRow

if TYPE_CHECKING:
    from ...data.sync import MessageView
    from ..workers.client import WorkerClient
    from .message_pane import MessagePane

log = logging.getLogger(__name__)

#: The delete is sent this long after the toast is gone, so a late Undo still wins.
UNDO_GRACE_MS = 2_000


class MessageActions(QObject):
    """The pane's message actions; see the module docstring.

    Signals:
        sig_edit_requested(text): put a question's text in the composer to edit and send.
        sig_deleted(chat_id, message_ids): messages were hidden, their delete queued.
        sig_restored(chat_id, message_ids): Undo took a delete back.
    """

    sig_edit_requested = Signal(str)
    """A question's text, to be edited in the composer and sent again."""
    sig_deleted = Signal(str, list)
    """(chat id, message ids) hidden now; deleted on the server after the Undo toast."""
    sig_restored = Signal(str, list)
    """(chat id, message ids) whose delete Undo took back."""

    def __init__(self, client: WorkerClient, pane: MessagePane, toast: Toast) -> None:
        super().__init__(pane)
        self._client = client
        self._pane = pane
        self.toast = toast
        self.undo_timeout_ms = DEFAULT_TIMEOUT_MS
        #: chat id -> (question id, answer id) of the answer being regenerated.
        self._regenerating: dict[str, tuple[str, str]] = {}
        #: What the toast's button does now: ("remove", chat, ids) or ("undo", chat, op ids, ids).
        self._toast_action: tuple[object, ...] = ()
        toast.sig_action_clicked.connect(self._on_toast_action_clicked)
        pane.asks.sig_answer_finished.connect(self._on_answer_finished)

    @property
    def model(self) -> MessageListModel:
        return self._pane.model

    # -- what applies to a row ------------------------------------------------------------

    def latest_answer(self) -> tuple[MessageRow, MessageRow] | None:
        """(question, answer) of the newest stored answer, when its question is stored too."""
        rows = self.model.rows()
        for number in range(len(rows) - 1, -1, -1):
            row = rows[number]
            if row.kind == AI and row.message_id and not row.streaming:
                for before in range(number - 1, -1, -1):
                    question = rows[before]
                    if question.kind == HUMAN:
                        return (question, row) if question.message_id else None
                return None
            if row.kind == AI:
                return None  # the newest answer is still streaming
        return None

    def can_regenerate(self, row: MessageRow) -> bool:
        latest = self.latest_answer()
        return (
            latest is not None
            and latest[1].key == row.key
            and not self._pane.is_answering()
            and bool(latest[0].text.strip())
        )

    # -- actions --------------------------------------------------------------------------

    def regenerate(self) -> bool:
        """Ask the latest answer's question again; False when there is none to ask."""
        latest = self.latest_answer()
        chat_id = self._pane.chat_id
        if latest is None or not chat_id or self._pane.is_answering():
            return False
        question, answer = latest
        self._regenerating[chat_id] = (question.message_id or "", answer.message_id or "")
        self._pane.ask(question.text)
        return True

    def edit_and_resend(self, row: MessageRow) -> None:
        if row.kind == HUMAN and row.text:
            self.sig_edit_requested.emit(row.text)

    def delete(self, message_ids: list[str], what: str) -> None:
        """Hide ``message_ids`` of the open chat now; their delete waits for the Undo toast."""
        chat_id = self._pane.chat_id
        ids = [m for m in message_ids if m]
        if not chat_id or not ids:
            return
        not_before = now_ms() + self.undo_timeout_ms + UNDO_GRACE_MS

        def work(lib) -> list[int]:  # noqa: ANN001 - a ChatLibrary, on the worker
            return [lib.delete_message(chat_id, m, not_before_ms=not_before) for m in ids]

        LibraryOp(work, name="delete messages").touching(chat_id).after_write(
            self.undo_timeout_ms + UNDO_GRACE_MS + 250
        ).success(functools.partial(self._on_deleted, chat_id, ids, what)).run_in(self._client.local)

    def undo(self) -> None:
        if not self._toast_action or self._toast_action[0] != "undo":
            return
        _, chat_id, op_ids, ids = self._toast_action
        self._toast_action = ()

        def work(lib) -> None:  # noqa: ANN001 - a ChatLibrary, on the worker
            for op_id in op_ids:  # type: ignore[union-attr]
                lib.cancel(op_id)

        LibraryOp(work, name="undo delete messages").touching(str(chat_id)).after_write().success(
            functools.partial(self._on_restored, str(chat_id), ids)
        ).run_in(self._client.local)

    # -- results --------------------------------------------------------------------------

    def _on_deleted(self, chat_id: str, ids: list[str], what: str, op_ids: list[int]) -> None:
        self._pane.refresh()  # the rows go now
        self._toast_action = ("undo", chat_id, op_ids, ids)
        self.toast.show_message(what, "Undo", self.undo_timeout_ms)
        self.sig_deleted.emit(chat_id, ids)

    def _on_restored(self, chat_id: str, ids: list[str], _result: None) -> None:
        self._pane.refresh()  # the rows come back
        self.sig_restored.emit(chat_id, ids)

    @Slot(str, object)
    def _on_answer_finished(self, chat_id: str, answer: MessageView | None) -> None:
        earlier = self._regenerating.pop(chat_id, None)
        if earlier is None or answer is None or chat_id != self._pane.chat_id:
            return
        self._toast_action = ("remove", chat_id, list(earlier))
        self.toast.show_message("New answer below.", "Remove earlier answer", self.undo_timeout_ms * 2)

    @Slot()
    def _on_toast_action_clicked(self) -> None:
        action = self._toast_action
        if not action:
            return
        if action[0] == "remove" and action[1] == self._pane.chat_id:
            self._toast_action = ()
            self.delete(list(action[2]), "Removed the earlier question and answer.")  # type: ignore[arg-type]
        elif action[0] == "undo":
            self.undo()
