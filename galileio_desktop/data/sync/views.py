"""What the library hands out: views of chats and messages, and results of network work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import GalileioError
from ..mirror.outbox import DELETE_CHAT, PUT_MESSAGE, Op
from ..schema import Chat, Message


@dataclass(frozen=True)
class ChatView:
    """A chat as the user sees it, with what is not yet confirmed by DynamoDB.

    ``pending``: some operation on the chat or its messages is still to be sent.
    ``unsent``: messages written here that DynamoDB does not have yet.
    ``parked_error``: why an operation on this chat was refused for good, if one was.
    ``pinned_at``: when the user pinned it (None: not pinned), as shown, pending pins included.
    """

    chat: Chat
    last_activity: int
    pending: bool = False
    unsent: int = 0
    parked_error: str | None = None
    pinned_at: int | None = None

    @property
    def pinned(self) -> bool:
        return self.pinned_at is not None

    def as_json(self) -> dict[str, Any]:
        out = self.chat.as_json()
        out.update(
            {
                "lastActivity": self.last_activity,
                "pinned": self.pinned,
                "pending": self.pending,
                "unsent": self.unsent,
                "error": self.parked_error,
            }
        )
        return out


@dataclass(frozen=True)
class MessageView:
    """A message as the user sees it; ``unsent_reason`` says why it was not sent, if so."""

    message: Message
    pending: bool = False
    unsent_reason: str | None = None
    stopped: bool = False

    def as_json(self, *, with_sources: bool = False) -> dict[str, Any]:
        out = self.message.as_json(with_sources=with_sources)
        out.update({"pending": self.pending, "unsentReason": self.unsent_reason, "stopped": self.stopped})
        return out


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


def chat_view(chat: Chat, last_message_at: int | None, ops: list[Op]) -> ChatView:
    return ChatView(
        chat=chat,
        last_activity=max(chat.created_at, last_message_at or 0),
        pending=bool(ops),
        unsent=sum(1 for op in ops if op.kind == PUT_MESSAGE),
        parked_error=next((op.error for op in ops if op.parked), None),
        pinned_at=chat.pinned_at,
    )


def is_ghost(ops: list[Op]) -> bool:
    """Unsent messages of a chat that is not shown, and not deleted by the user here."""
    has_messages = any(op.kind == PUT_MESSAGE for op in ops)
    deleted_here = any(op.kind == DELETE_CHAT and op.applies_locally for op in ops)
    return has_messages and not deleted_here
