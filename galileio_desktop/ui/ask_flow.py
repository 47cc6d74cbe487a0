"""Plain rules of asking, kept apart from threads and signals so they are easy to test.

What history goes with a question, what title a new chat gets from its first
prompt, and how an answer's stop mark is stored on the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..data.ask import (
    DEFAULT_HISTORY_LIMIT,
    STOPPED_ATTRIBUTE,
    TITLE_MAX_CHARS,
    is_default_title,
    title_from_prompt,
)

if TYPE_CHECKING:
    from ..data.assistants.base import Turn
    from ..data.sync import MessageView

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "STOPPED_EXTRA",
    "TITLE_MAX_CHARS",
    "history_turns",
    "is_default_title",
    "title_from_prompt",
]

#: The attribute an answer the user stopped carries (plain value; stored as ``{"BOOL": true}``).
#: The web app ignores attributes it does not know.
STOPPED_EXTRA: Mapping[str, Any] = {STOPPED_ATTRIBUTE: True}


def history_turns(views: Iterable[MessageView], exclude_id: str | None, limit: int | None) -> list[Turn]:
    """The last ``limit`` turns before a question (the question itself left out)."""
    from ..data.assistants.base import Turn, bound_history

    turns = [
        Turn(view.message.type, view.message.content)
        for view in views
        if view.message.message_id != exclude_id
    ]
    return bound_history(turns, limit)
