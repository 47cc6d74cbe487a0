"""The status of the operations waiting to be sent, as the library's ``status`` reports it.

Apart from the push, pull and sync results (:mod:`.results`): the window asks for the
status as its library opens, before the first chat list is read, and a frozen dataclass
costs about 0.7 ms to define (Python compiles its generated methods); the three results
are not needed until the first sync. :class:`OpInfo` is a named tuple (a tenth of that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..mirror.outbox import Op


class OpInfo(NamedTuple):
    """One queued operation, as ``status`` reports it."""

    op_id: int
    kind: str
    chat_id: str
    message_id: str | None
    created: int
    state: str
    attempts: int
    not_before: int | None
    next_attempt: int | None
    error: str | None
    error_kind: str | None
    cancellable: bool
    #: waiting for a parked operation it depends on (a chat create refused for good)
    held: bool = False
    #: an earlier attempt may have written it without us hearing back (it is checked,
    #: and written again if DynamoDB does not hold it, at the next push)
    in_doubt: bool = False

    @classmethod
    def of(cls, op: Op, held: bool = False) -> OpInfo:
        return cls(
            op_id=op.op_id,
            kind=op.kind,
            chat_id=op.chat_id,
            message_id=op.message_id or None,
            created=op.created,
            state=op.state,
            attempts=op.attempts,
            not_before=op.not_before or None,
            next_attempt=op.next_attempt or None,
            error=op.error,
            error_kind=op.error_kind,
            cancellable=op.cancellable,
            held=held,
            in_doubt=bool(op.doubt),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "opId": self.op_id,
            "kind": self.kind,
            "chatId": self.chat_id,
            "messageId": self.message_id,
            "created": self.created,
            "state": self.state,
            "attempts": self.attempts,
            "notBefore": self.not_before,
            "nextAttempt": self.next_attempt,
            "error": self.error,
            "errorKind": self.error_kind,
            "held": self.held,
            "inDoubt": self.in_doubt,
        }


@dataclass(frozen=True)
class LibraryStatus:
    pending: int
    parked: int
    operations: list[OpInfo] = field(default_factory=list)
    last_sync: int | None = None
    last_reconcile: int | None = None

    @property
    def parked_operations(self) -> list[OpInfo]:
        return [op for op in self.operations if op.state == "parked"]

    def as_json(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "parked": self.parked,
            "operations": [op.as_json() for op in self.operations],
            "lastSync": self.last_sync,
            "lastReconcile": self.last_reconcile,
        }
