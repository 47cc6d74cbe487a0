"""The assistant on a thread of its own, so a minute-long answer never holds up the library.

The assistant (and any boto3 client it makes) is created inside this thread.
Questions arrive from the library worker, already stored with their history;
text streams out by ``sig_answer_delta``; the finished :class:`Answer` goes back
to the library worker to be stored. Stopping is a ``threading.Event`` the GUI
sets directly: no Qt call crosses threads for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from .worker import describe_failure

if TYPE_CHECKING:
    from ..data.assistants.base import Assistant, Turn

log = logging.getLogger(__name__)

AssistantFactory = Callable[[], "Assistant | None"]


class AnswerWorker(QObject):
    """Runs ``assistant.answer`` for one question at a time.

    Signals:
        sig_answer_started(request_id, chat_id), sig_answer_delta(request_id, text),
        sig_answer_ready(request_id, chat_id, answer, question_id), sig_failed(request_id, message, is_bug),
        sig_stopped().
    """

    sig_answer_started = Signal(int, str)
    """(request id, chat id) the assistant started on a question."""
    sig_answer_delta = Signal(int, str)
    """(request id, a new piece of the answer's text)."""
    sig_answer_ready = Signal(int, str, object, str)
    """(request id, chat id, Answer, question id) to be stored by the library worker."""
    sig_failed = Signal(int, str, bool)
    """(request id, message, is a bug): no answer; the question stays, with Retry."""
    sig_stopped = Signal()
    """The thread is about to end."""

    def __init__(self, assistant_factory: AssistantFactory) -> None:
        super().__init__()
        self._factory = assistant_factory
        self._assistant: Assistant | None = None
        self._failure: str | None = None
        self.thread_ident: int | None = None

    @Slot()
    def start(self) -> None:
        """Create the assistant in this thread (a failure is reported on the first question)."""
        self.thread_ident = threading.get_ident()
        try:
            self._assistant = self._factory()
        except Exception as exc:  # noqa: BLE001 - shown when the user asks
            self._failure, _ = describe_failure(exc)
        if self._assistant is None and self._failure is None:
            self._failure = "No assistant is set up for this account, so questions cannot be answered."

    @property
    def assistant_name(self) -> str:
        return str(getattr(self._assistant, "name", "")) if self._assistant is not None else ""

    @Slot(int, str, str, object, object, str)
    def answer(
        self,
        request_id: int,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        cancel: threading.Event,
        question_id: str,
    ) -> None:
        if self._assistant is None:
            self.sig_failed.emit(request_id, self._failure or "No assistant.", False)
            return
        self.sig_answer_started.emit(request_id, chat_id)

        def on_text(piece: str) -> None:
            self.sig_answer_delta.emit(request_id, piece)

        try:
            result = self._assistant.answer(chat_id, question, list(history), on_text, cancel)
        except Exception as exc:  # noqa: BLE001
            message, is_bug = describe_failure(exc)
            self.sig_failed.emit(request_id, message, is_bug)
            return
        if cancel.is_set() and not result.stopped:
            result.stopped = True
        self.sig_answer_ready.emit(request_id, chat_id, result, question_id)

    @Slot()
    def shutdown(self) -> None:
        close = getattr(self._assistant, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001
                log.exception("closing the assistant failed")
        self._assistant = None
        self.sig_stopped.emit()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()
