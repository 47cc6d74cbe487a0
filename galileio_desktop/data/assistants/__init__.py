"""Assistant backends: a question in, a streamed answer with its sources out.

Every backend speaks :class:`Assistant`; :func:`make_assistant` builds the one an
account's :class:`AssistantSettings` describe.
"""

from __future__ import annotations

from .base import AI, HUMAN, Answer, Assistant, AssistantError, Turn, bound_history, conversation
from .factory import make_assistant
from .settings import BACKENDS, AssistantSettings

__all__ = [
    "AI",
    "BACKENDS",
    "HUMAN",
    "Answer",
    "Assistant",
    "AssistantError",
    "AssistantSettings",
    "Turn",
    "bound_history",
    "conversation",
    "make_assistant",
]
