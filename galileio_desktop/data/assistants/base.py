"""What every assistant backend speaks: turns in, a streamed answer with sources out.

The window and the CLI only know the :class:`Assistant` protocol; each backend turns
its own wire format into :class:`Answer`. Sources are drafts in the web app's shape
(``{"pageContent": ..., "metadata": {...}}``) so the caller can store them as
SOURCE items without knowing which backend produced them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import GalileioError
from ..schema import Message, Source, TypedItem, decode

log = logging.getLogger(__name__)

#: Roles of a turn, as the table's message ``type`` spells them.
HUMAN = "human"
AI = "ai"

TextCallback = Callable[[str], None]


class AssistantError(GalileioError):
    """The assistant backend failed or refused the question; the message says why."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        #: The HTTP status the backend answered with, when there was one.
        self.status = status
        self.transient = transient


@dataclass(frozen=True)
class Turn:
    """One earlier message of the chat, as context for the next answer."""

    role: str  # "human" or "ai"
    text: str


@dataclass
class Answer:
    """An answer as the backend gave it: the text, its sources, and how it ended."""

    text: str
    #: Each ``{"pageContent": str, "metadata": dict}``, in citation order.
    sources: list[dict[str, Any]] = field(default_factory=list)
    #: True when the user stopped it; ``text`` is what had arrived by then.
    stopped: bool = False
    #: True when the server already wrote the turn to DynamoDB (Galileo endpoint).
    stored_remotely: bool = False
    #: The typed items the server wrote (question, answer, sources), when known.
    remote_items: list[TypedItem] = field(default_factory=list)

    def remote_messages(self) -> list[Message]:
        """The server-written messages of ``remote_items``, each with its sources attached."""
        messages: list[Message] = []
        sources: dict[str, list[Source]] = {}
        for item in self.remote_items:
            entity = decode(item)
            if isinstance(entity, Message):
                messages.append(entity)
            elif isinstance(entity, Source):
                sources.setdefault(entity.message_id, []).append(entity)
        return [m.with_sources(tuple(sources.get(m.message_id, ()))) for m in messages]


@runtime_checkable
class Assistant(Protocol):
    """A backend that answers a question in a chat, streaming its text as it comes."""

    name: str

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: TextCallback,
        cancel: threading.Event,
    ) -> Answer:
        """Answer ``question``; call ``on_text`` with each new piece of text.

        Returns ``Answer(stopped=True)`` with the partial text when ``cancel`` is set
        mid-way; raises :class:`GalileioError` subclasses for expected failures.
        """
        ...


def bound_history(history: Iterable[Turn], limit: int | None) -> list[Turn]:
    """The last ``limit`` turns (all when ``limit`` is None, none when it is 0 or less).

    Empty turns and unknown roles are dropped first: they only cost tokens.
    """
    turns = [t for t in history if t.role in (HUMAN, AI) and t.text.strip()]
    if limit is None:
        return turns
    if limit <= 0:
        return []
    return turns[-limit:]


def conversation(history: Iterable[Turn], question: str, limit: int | None) -> list[Turn]:
    """Bounded history plus the question, alternating human/ai and starting with human.

    Chat APIs such as Bedrock's Converse refuse two turns of the same role in a row
    or a conversation that opens with the assistant. Consecutive turns of one role
    are joined; a trailing unanswered question (a failed earlier try) is dropped, so
    a retry does not send the same question twice.
    """
    turns = bound_history(history, limit)
    while turns and turns[-1].role == HUMAN:
        turns.pop()
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            merged[-1] = Turn(turn.role, f"{merged[-1].text}\n\n{turn.text}")
        else:
            merged.append(turn)
    while merged and merged[0].role != HUMAN:
        merged.pop(0)
    merged.append(Turn(HUMAN, question))
    return merged


def make_source(page_content: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """A source draft in the web app's shape."""
    return {"pageContent": page_content, "metadata": dict(metadata)}


class TextCollector:
    """Accumulates streamed text and forwards each piece to the caller's callback."""

    def __init__(self, on_text: TextCallback) -> None:
        self._on_text = on_text
        self._parts: list[str] = []

    def add(self, piece: str) -> None:
        if not piece:
            return
        self._parts.append(piece)
        self._on_text(piece)

    @property
    def text(self) -> str:
        return "".join(self._parts)
