"""What the library's reads hand out: views of chats and messages.

The results of network work and the queue's status are in :mod:`.results` and
:mod:`.queue_status`: the window's first chat list needs only these two classes (a
frozen dataclass costs about 0.7 ms to define in Python 3.11, most of it compiling its
generated methods; a named tuple, as both are, a tenth of that).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..mirror.outbox import DELETE_CHAT, PUT_MESSAGE, Op
from ..schema import Chat, Message


class ChatView(NamedTuple):
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


class MessageView(NamedTuple):
    """A message as the user sees it; ``unsent_reason`` says why it was not sent, if so."""

    message: Message
    pending: bool = False
    unsent_reason: str | None = None
    stopped: bool = False

    def as_json(self, *, with_sources: bool = False) -> dict[str, Any]:
        out = self.message.as_json(with_sources=with_sources)
        out.update({"pending": self.pending, "unsentReason": self.unsent_reason, "stopped": self.stopped})
        return out


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
