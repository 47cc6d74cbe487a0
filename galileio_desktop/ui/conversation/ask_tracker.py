"""Questions on their way and answers streaming, per chat, shown in the open chat's model.

The pane shows one chat at a time, but answers keep streaming while the user
looks elsewhere; this object remembers every ask until it ends, updates the
model when its chat is the one on screen, and puts the transient rows back
when the user returns to a chat. A failed answer stays on its question (with
Retry) for the rest of the session.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ...data.schema import now_ms
from ..workers.operation import LibraryOp, OpFailure
from .message_list_model import MessageListModel, MessageRow
from .message_ops import AskOutcome, AskUpdate, ask_op

if TYPE_CHECKING:
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)


@dataclass
class Ask:
    """One question on its way: where its rows are, and how far it got."""

    chat_id: str
    question: str
    question_key: str
    answer_key: str
    question_id: str = ""
    text: str = ""
    running: bool = True
    started: bool = False


class AskTracker(QObject):
    """Runs asks as operations on the answer worker and follows them; see the module docstring.

    Signals:
        sig_question_stored(chat_id), sig_question_refused(chat_id, text, reason),
        sig_answering_changed(chat_id, running), sig_answer_text(chat_id, piece),
        sig_answer_finished(chat_id, answer), sig_chat_moved(old_id, new_id).
    """

    sig_question_stored = Signal(str)
    """A question is stored in the mirror; the composer may forget its draft."""
    sig_question_refused = Signal(str, str, str)
    """A question could not be stored at all (chat id, text, reason)."""
    sig_answering_changed = Signal(str, bool)
    """An answer started or ended in a chat."""
    sig_answer_text = Signal(str, str)
    """(chat id, a new piece of an answer's text) as it streams."""
    sig_answer_finished = Signal(str, object)
    """(chat id, the stored answer's MessageView, or None when nothing was stored)."""
    sig_chat_moved = Signal(str, str)
    """(old id, new id) A chat made here was created on the server to ask in it, and
    took the id the server made (the deployment's API makes its own)."""

    def __init__(
        self,
        client: WorkerClient,
        model: MessageListModel,
        open_chat: Callable[[], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._model = model
        self._open_chat = open_chat
        self._asks: dict[LibraryOp[AskOutcome], Ask] = {}
        self._failures: dict[str, str] = {}
        self._count = itertools.count(1)

    # -- requests -------------------------------------------------------------------------

    def ask(self, chat_id: str, text: str) -> LibraryOp[AskOutcome]:
        """Send ``text`` in ``chat_id``; the question row shows at once if the chat is open."""
        number = next(self._count)
        ask = Ask(chat_id, text, f"local:{number}", f"answer:{number}")
        op = self._start(ask, ask_op(chat_id, text, self._client.history_limit))
        if chat_id == self._open_chat():
            self._model.add_local_question(ask.question_key, text, now_ms())
        return op

    def retry(self, chat_id: str, row: MessageRow) -> LibraryOp[AskOutcome] | None:
        """Ask again for an answer to the stored question ``row``."""
        if row.message_id is None:
            return None
        self._failures.pop(row.message_id, None)
        self._model.set_failed(row.key, None)
        ask = Ask(chat_id, row.text, row.key, f"answer:{next(self._count)}", question_id=row.message_id)
        return self._start(
            ask, ask_op(chat_id, row.text, self._client.history_limit, retry_of=row.message_id)
        )

    def _start(self, ask: Ask, op: LibraryOp[AskOutcome]) -> LibraryOp[AskOutcome]:
        self._asks[op] = ask
        op.updates(functools.partial(self._on_updated, op))
        op.success(functools.partial(self._on_answered, op))
        op.failure(functools.partial(self._on_failed, op))
        op.run_in(self._client.answers)
        self.sig_answering_changed.emit(ask.chat_id, True)
        return op

    def stop(self, chat_id: str) -> None:
        """Stop the answers streaming in ``chat_id`` (what arrived is kept)."""
        for op, ask in self._asks.items():
            if ask.chat_id == chat_id and ask.running:
                op.stop()  # the assistant stops; what arrived is stored, marked stopped

    def is_answering(self, chat_id: str) -> bool:
        return any(a.running and a.chat_id == chat_id for a in self._asks.values())

    def follow_chat(self, old_id: str, new_id: str) -> None:
        """The asks of chat ``old_id`` go on in ``new_id`` (the same chat, the server's id)."""
        for ask in self._asks.values():
            if ask.chat_id == old_id:
                ask.chat_id = new_id

    def reapply(self, chat_id: str) -> None:
        """Put back the rows only the GUI knows (after the model was reloaded for ``chat_id``)."""
        model = self._model
        for ask in self._asks.values():
            if ask.chat_id != chat_id:
                continue
            if not ask.question_id and model.row_for(ask.question_key) is None:
                model.add_local_question(ask.question_key, ask.question, now_ms())
            if ask.running and ask.started and model.row_for(ask.answer_key) is None:
                model.start_answer(ask.answer_key, now_ms())
                model.append_answer_text(ask.answer_key, ask.text)
        for message_id, error in self._failures.items():
            model.set_failed(message_id, error)

    # -- outcomes -------------------------------------------------------------------------

    def _on_updated(self, op: LibraryOp[AskOutcome], update: AskUpdate) -> None:
        ask = self._asks.get(op)
        if ask is None:
            return
        if update.moved_to:
            old_id = ask.chat_id
            self.follow_chat(old_id, update.moved_to)
            self.sig_chat_moved.emit(old_id, update.moved_to)
        on_screen = ask.chat_id == self._open_chat()
        if update.question is not None:
            ask.question_id = update.question.message.message_id
            if on_screen:
                self._model.confirm_local(ask.question_key, update.question)
            ask.question_key = ask.question_id
            self.sig_question_stored.emit(ask.chat_id)
        if update.started:
            ask.started = True
            if on_screen:
                self._model.start_answer(ask.answer_key, now_ms())
        if update.text:
            ask.text += update.text
            if on_screen:
                self._model.append_answer_text(ask.answer_key, update.text)
            self.sig_answer_text.emit(ask.chat_id, update.text)

    def _on_answered(self, op: LibraryOp[AskOutcome], outcome: AskOutcome) -> None:
        ask = self._asks.pop(op, None)
        if ask is None:
            return
        if ask.chat_id == self._open_chat():
            self._model.remove_key(ask.answer_key)
            if outcome.question is not None and not ask.question_id:
                # stored by the server, not here: its row replaces the one shown meanwhile
                self._model.remove_key(ask.question_key)
                self._model.upsert_view(outcome.question)
            if outcome.answer is not None:
                self._model.upsert_view(outcome.answer)
        if outcome.question is not None and not ask.question_id:
            self.sig_question_stored.emit(ask.chat_id)
        self.sig_answering_changed.emit(ask.chat_id, self.is_answering(ask.chat_id))
        self.sig_answer_finished.emit(ask.chat_id, outcome.answer)

    def _on_failed(self, op: LibraryOp[AskOutcome], failure: OpFailure) -> None:
        ask = self._asks.pop(op, None)
        if ask is None:
            return
        on_screen = ask.chat_id == self._open_chat()
        if on_screen:
            self._model.remove_key(ask.answer_key)
        if ask.question_id:
            self._failures[ask.question_id] = failure.message
            if on_screen:
                self._model.set_failed(ask.question_id, failure.message)
        else:
            if on_screen:
                self._model.remove_key(ask.question_key)
            self.sig_question_refused.emit(ask.chat_id, ask.question, failure.message)
        self._client.sig_failed.emit(failure)  # the window's display too (the status bar)
        self.sig_answering_changed.emit(ask.chat_id, self.is_answering(ask.chat_id))
        self.sig_answer_finished.emit(ask.chat_id, None)
