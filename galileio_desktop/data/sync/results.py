"""What the library's network work and its queue report: a push's, a pull's and a sync's
results, and the status of the operations waiting to be sent.

Apart from :mod:`.views` so that reading the first chat list defines none of them: the
library imports this module when a push, a pull, a sync or a status first needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import GalileioError
from ..mirror.outbox import Op


@dataclass(frozen=True)
class OpInfo:
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
class PushResult:
    pushed: int = 0
    parked: int = 0
    dropped: int = 0
    pending: int = 0
    error: str | None = None
    requests: int = 0
    busy: bool = False
    #: The network or throttling error that stopped the pass, if one did.
    failure: GalileioError | None = field(default=None, compare=False, repr=False)
    #: Chats created here that took the id the server made (the deployment's API): old -> new.
    moved_chats: dict[str, str] = field(default_factory=dict, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "parked": self.parked,
            "dropped": self.dropped,
            "pending": self.pending,
            "error": self.error,
            "requests": self.requests,
        }


@dataclass(frozen=True)
class PullResult:
    reconciled: bool = False
    changed: int = 0
    removed: int = 0
    requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "reconciled": self.reconciled,
            "changed": self.changed,
            "removed": self.removed,
            "requests": self.requests,
        }


@dataclass(frozen=True)
class SyncResult:
    push: PushResult
    pull: PullResult
    pending: int
    parked: int

    def as_json(self) -> dict[str, Any]:
        return {
            "push": self.push.as_json(),
            "pull": self.pull.as_json(),
            "pending": self.pending,
            "parked": self.parked,
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
