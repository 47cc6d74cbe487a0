"""Work for the chat library as one object: what to run, and what to do with the result.

The way Anki's ``CollectionOp`` works. The window says, in one place, what to run on the
library and what to do when it is done::

    LibraryOp(lambda lib: lib.rename_chat(chat_id, title)).touching(chat_id).after_write().run_in(
        client.local
    )

One generic slot of the worker thread runs :meth:`LibraryOp.execute`; the outcome comes
back to the GUI thread, where the success handler gets the result, or the failure
handler (else the window's default error display) gets an :class:`OpFailure`. Long work
reports through :meth:`OpContext.update`, and ends early when asked: :meth:`LibraryOp.stop`
keeps its outcome (an answer stopped keeps its text), :meth:`LibraryOp.cancel` discards it
(the work reads :attr:`OpContext.stopping` or waits on :attr:`OpContext.stop_event`).

A handler attached after the outcome arrived is called at once: a result asked for
before its consumer exists (the window's first chat list) is never lost. Once cancelled,
an operation's handlers are never called: a stale result cannot overwrite a newer one.

Handlers are let go, in the GUI thread, as soon as they are done with (delivered,
cancelled, or the client shut down). A handler is usually a widget's method and the
widget usually keeps its operation: held longer, the two would form a cycle that the
garbage collector may break in whichever thread it runs, a worker's included, deleting
a widget outside the GUI thread. The work itself must not hold a Qt object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary

T = TypeVar("T")

#: A write is pushed this long after it was made (several quick writes go in one push).
PUSH_DELAY_MS = 1_500
#: Qt timers take a 32-bit interval; a push planned further out is re-planned by the periodic sync.
MAX_TIMER_MS = 86_400_000


class OpFailure(NamedTuple):
    """Why an operation failed: words for the user, and whether it is a bug.

    A named tuple rather than a frozen dataclass: this module is imported on the way to
    the first paint, and defining a frozen dataclass costs about as much as the rest of
    the module (Python compiles its generated methods)."""

    message: str
    is_bug: bool
    #: The expected error (a GalileioError) when it was one, for handlers that tell kinds apart.
    error: BaseException | None = None


class OpContext:
    """What an operation's work gets besides the library: the assistant (on the answer
    thread), progress reports to the GUI thread, and its stop signal."""

    def __init__(
        self,
        op: LibraryOp[Any],
        report: Callable[[LibraryOp[Any], object], None],
        wrote: Callable[[int], None] | None = None,
    ) -> None:
        self._op = op
        self._report = report
        self._wrote = wrote
        #: The answering assistant, on the thread that owns one; None elsewhere.
        self.assistant: Any = None
        #: Why there is no assistant there, in words for the user.
        self.assistant_problem: str | None = None

    def require_assistant(self) -> Any:
        """The assistant, or the expected failure that says why there is none."""
        from ...data.errors import GalileioError

        if self.assistant is None:
            raise GalileioError(self.assistant_problem or "No assistant is set up for this account.")
        return self.assistant

    @property
    def stopping(self) -> bool:
        return self._op.stop_event.is_set()

    @property
    def stop_event(self) -> threading.Event:
        return self._op.stop_event

    def update(self, value: object) -> None:
        """Hand ``value`` to the operation's update handler, in the GUI thread, in order."""
        self._report(self._op, value)

    def wrote(self, push_in_ms: int = PUSH_DELAY_MS) -> None:
        """The work wrote something the user is waiting to see sent (a question, while its
        answer is still to come): report the queue and plan a push now, not at the end."""
        if self._wrote is not None:
            self._wrote(push_in_ms)


class OpLane(Protocol):
    """A worker thread that runs operations (see :class:`~.client.WorkerClient`)."""

    def submit(self, op: LibraryOp[Any]) -> None: ...


_UNSET: Any = object()


class LibraryOp(Generic[T]):
    """One piece of work for the library; see the module docstring."""

    def __init__(self, work: Callable[[ChatLibrary], T], *, name: str = "") -> None:
        self._work: Callable[[ChatLibrary, OpContext], T] = lambda library, _context: work(library)
        self.name = name or getattr(work, "__name__", "operation")
        #: Set to end the work early (by :meth:`stop` or :meth:`cancel`).
        self.stop_event = threading.Event()
        self._cancelled = False
        #: Re-read this chat after the work and tell every view (see :meth:`touching`).
        self.chat_id: str | None = None
        #: Push this long after a successful write; None: the work wrote nothing.
        self.push_in_ms: int | None = None
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[OpFailure], None] | None = None
        self._on_update: Callable[[Any], None] | None = None
        self._result: Any = _UNSET
        self._failure: OpFailure | None = None
        self._updates: list[object] = []
        self._default_failure: Callable[[OpFailure], None] | None = None

    @classmethod
    def reporting(cls, work: Callable[[ChatLibrary, OpContext], T], *, name: str = "") -> LibraryOp[T]:
        """An operation whose work also gets an :class:`OpContext` (progress, cancel, assistant)."""
        op: LibraryOp[T] = cls(lambda _library: None, name=name or getattr(work, "__name__", ""))  # type: ignore[arg-type]
        op._work = work
        return op

    # -- building ---------------------------------------------------------------------------

    def success(self, handler: Callable[[T], None]) -> LibraryOp[T]:
        if self.done:
            if self._result is not _UNSET and not self.cancelled:
                handler(self._result)
        else:
            self._on_success = handler
        return self

    def failure(self, handler: Callable[[OpFailure], None]) -> LibraryOp[T]:
        """Handle failures here instead of the window's default error display."""
        if self.done:
            if self._failure is not None and not self.cancelled:
                handler(self._failure)
        else:
            self._on_failure = handler
        return self

    def updates(self, handler: Callable[[Any], None]) -> LibraryOp[T]:
        for value in self._updates:
            handler(value)
        self._updates.clear()
        if not self.done:
            self._on_update = handler
        return self

    def touching(self, chat_id: str) -> LibraryOp[T]:
        """The work changes this chat: afterwards (success or not) it is read again and
        every view showing it is told (the title really stored, or that it is gone)."""
        self.chat_id = chat_id
        return self

    def after_write(self, push_in_ms: int = PUSH_DELAY_MS) -> LibraryOp[T]:
        """The work writes: afterwards the queue is reported and a push planned."""
        self.push_in_ms = push_in_ms
        return self

    def run_in(self, lane: OpLane) -> LibraryOp[T]:
        lane.submit(self)
        return self

    def stop(self) -> None:
        """End the work early if it can; its outcome still comes (what it had done)."""
        self.stop_event.set()

    def cancel(self) -> None:
        """End the work early if it can, and never call a handler of it again."""
        self._cancelled = True
        self.stop_event.set()
        self.release()

    def release(self) -> None:
        """Let the handlers go (see the module docstring); GUI thread only."""
        self._on_success = self._on_failure = self._on_update = self._default_failure = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def done(self) -> bool:
        return self._result is not _UNSET or self._failure is not None

    # -- running (worker thread) ------------------------------------------------------------

    def execute(self, library: ChatLibrary, context: OpContext) -> T:
        return self._work(library, context)

    # -- outcome (GUI thread) ---------------------------------------------------------------

    def set_default_failure(self, handler: Callable[[OpFailure], None]) -> None:
        self._default_failure = handler

    def deliver_update(self, value: object) -> None:
        if self.cancelled:
            return
        if self._on_update is None:
            self._updates.append(value)
        else:
            self._on_update(value)

    def deliver(self, result: object, failure: OpFailure | None) -> None:
        if failure is not None:
            self._failure = failure
            handler: Callable[[Any], None] | None = self._on_failure or self._default_failure
            value: object = failure
        else:
            self._result = result
            handler, value = self._on_success, result
        self.release()
        if handler is not None and not self.cancelled:
            handler(value)

    def __repr__(self) -> str:
        return f"<LibraryOp {self.name}{' cancelled' if self.cancelled else ''}>"
