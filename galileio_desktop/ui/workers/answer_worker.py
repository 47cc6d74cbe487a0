"""The worker that answers questions, so a minute-long answer never holds up the library.

The assistant (and any boto3 client it makes) is created in this worker's thread; it
works on the library the library worker opened. An ask is an operation whose work runs
the one ask flow (:func:`galileio_desktop.data.ask.ask`) with the assistant in its
:class:`~.operation.OpContext`; stopping it is the operation's cancel event, which the
assistant reads in this thread: no Qt call crosses threads for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot

from .events import LibraryEvents
from .op_worker import OpWorker, describe_failure
from .operation import LibraryOp, OpContext

if TYPE_CHECKING:
    from ...data.assistants.base import Assistant

log = logging.getLogger(__name__)

AssistantFactory = Callable[[], "Assistant | None"]
NO_ASSISTANT = "No assistant is set up for this account, so questions cannot be answered."


class AnswerWorker(OpWorker):
    """Owns the assistant; see the module docstring."""

    def __init__(
        self, assistant_factory: AssistantFactory, events: LibraryEvents, *, name: str = "answers"
    ) -> None:
        super().__init__(events, name=name)
        self._factory = assistant_factory
        self._assistant: Assistant | None = None
        self._problem: str | None = None

    def _open(self) -> None:
        """Create the assistant (a failure is reported on the first question, not here)."""
        try:
            self._assistant = self._factory()
        except Exception as exc:  # noqa: BLE001 - shown when the user asks
            self._problem, _ = describe_failure(exc)
        if self._assistant is None and self._problem is None:
            self._problem = NO_ASSISTANT

    @Slot()
    def reload(self) -> None:
        """Make the assistant again from the factory (the account's assistant was changed).

        Before the worker's thread started there is nothing to remake: it is made then."""
        if self.thread_ident is None:
            return
        self._close()
        self._problem = None
        self._open()

    @property
    def assistant_name(self) -> str:
        return str(getattr(self._assistant, "name", "")) if self._assistant is not None else ""

    def _context(self, op: LibraryOp[Any]) -> OpContext:
        context = super()._context(op)
        context.assistant = self._assistant
        context.assistant_problem = self._problem
        return context

    def _close(self) -> None:
        close = getattr(self._assistant, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001
                log.exception("closing the assistant failed")
        self._assistant = None
