"""Questions on their way and answers streaming, per chat, shown in the open chat's model.

The pane shows one chat at a time, but answers keep streaming while the user
looks elsewhere; this object remembers every ask until it ends, updates the
model when its chat is the one on screen, and puts the transient rows back
when the user returns to a chat. A failed answer stays on its question (with
Retry) for the rest of the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from ..data.schema import now_ms
from .message_list_model import MessageListModel, MessageRow

if TYPE_CHECKING:
    from ..data.sync import MessageView
    from .worker_client import WorkerClient

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
    """Follows asks from the worker client's signals; see the module docstring.

    Signals:
        sig_question_stored(chat_id), sig_question_refused(chat_id, text, reason),
        sig_answering_changed(chat_id, running).
    """

    sig_question_stored = Signal(str)
    """A question is stored in the mirror; the composer may forget its draft."""
    sig_question_refused = Signal(str, str, str)
    """A question could not be stored at all (chat id, text, reason)."""
    sig_answering_changed = Signal(str, bool)
    """An answer started or ended in a chat."""

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
        self._asks: dict[int, Ask] = {}
        self._failures: dict[str, str] = {}

        client.sig_message_added.connect(self._on_client_message_added)
        client.sig_answer_started.connect(self._on_client_answer_started)
        client.sig_answer_delta.connect(self._on_client_answer_delta)
        client.sig_answer_done.connect(self._on_client_answer_done)
        client.sig_failed.connect(self._on_client_failed)

    # -- requests -------------------------------------------------------------------------

    def ask(self, chat_id: str, text: str) -> int:
        """Send ``text`` in ``chat_id``; the question row shows at once if the chat is open."""
        request_id = self._client.ask(chat_id, text)
        ask = Ask(chat_id, text, f"local:{request_id}", f"answer:{request_id}")
        self._asks[request_id] = ask
        if chat_id == self._open_chat():
            self._model.add_local_question(ask.question_key, text, now_ms())
        self.sig_answering_changed.emit(chat_id, True)
        return request_id

    def retry(self, chat_id: str, row: MessageRow) -> int:
        """Ask again for an answer to the stored question ``row``."""
        if row.message_id is None:
            return 0
        self._failures.pop(row.message_id, None)
        self._model.set_failed(row.key, None)
        request_id = self._client.ask(chat_id, row.text, retry_of=row.message_id)
        self._asks[request_id] = Ask(
            chat_id, row.text, row.key, f"answer:{request_id}", question_id=row.message_id
        )
        self.sig_answering_changed.emit(chat_id, True)
        return request_id

    def stop(self, chat_id: str) -> None:
        """Stop the answers streaming in ``chat_id`` (what arrived is kept)."""
        for request_id, ask in self._asks.items():
            if ask.chat_id == chat_id and ask.running:
                self._client.stop_answer(request_id)

    def is_answering(self, chat_id: str) -> bool:
        return any(a.running and a.chat_id == chat_id for a in self._asks.values())

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

    # -- results --------------------------------------------------------------------------

    @Slot(int, object)
    def _on_client_message_added(self, request_id: int, view: MessageView | None) -> None:
        ask = self._asks.get(request_id)
        if ask is None or view is None:
            return
        ask.question_id = view.message.message_id
        if ask.chat_id == self._open_chat():
            self._model.confirm_local(ask.question_key, view)
        ask.question_key = ask.question_id
        self.sig_question_stored.emit(ask.chat_id)

    @Slot(int, str)
    def _on_client_answer_started(self, request_id: int, chat_id: str) -> None:
        ask = self._asks.get(request_id)
        if ask is None:
            return
        ask.started = True
        if chat_id == self._open_chat():
            self._model.start_answer(ask.answer_key, now_ms())

    @Slot(int, str)
    def _on_client_answer_delta(self, request_id: int, text: str) -> None:
        ask = self._asks.get(request_id)
        if ask is None:
            return
        ask.text += text
        if ask.chat_id == self._open_chat():
            self._model.append_answer_text(ask.answer_key, text)

    @Slot(int, str, object)
    def _on_client_answer_done(self, request_id: int, chat_id: str, view: MessageView | None) -> None:
        ask = self._asks.pop(request_id, None)
        self._client.forget_answer(request_id)
        if ask is None:
            return
        if chat_id == self._open_chat():
            self._model.remove_key(ask.answer_key)
            if view is not None:
                self._model.upsert_view(view)
        self.sig_answering_changed.emit(chat_id, self.is_answering(chat_id))

    @Slot(int, str, bool)
    def _on_client_failed(self, request_id: int, message: str, is_bug: bool) -> None:
        ask = self._asks.pop(request_id, None)
        if ask is None:
            return
        self._client.forget_answer(request_id)
        on_screen = ask.chat_id == self._open_chat()
        if on_screen:
            self._model.remove_key(ask.answer_key)
        if ask.question_id:
            self._failures[ask.question_id] = message
            if on_screen:
                self._model.set_failed(ask.question_id, message)
        else:
            if on_screen:
                self._model.remove_key(ask.question_key)
            self.sig_question_refused.emit(ask.chat_id, ask.question, message)
        self.sig_answering_changed.emit(ask.chat_id, self.is_answering(ask.chat_id))
