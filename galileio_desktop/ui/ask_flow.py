"""Plain rules of asking, kept apart from threads and signals so they are easy to test.

What history goes with a question, what title a new chat gets from its first
prompt, and how an answer's stop mark is stored on the message.

The rules live in :mod:`galileio_desktop.data.ask`, which brings the assistant
backends with it; they are imported on first use, so the window does not load
them before its first paint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..data.assistants.base import Turn
    from ..data.sync import MessageView

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "STOPPED_EXTRA",
    "history_turns",
    "is_default_title",
    "title_from_prompt",
]

# The data layer's values (a test holds them equal), as plain constants here: default
# arguments and module constants would otherwise import the assistants at start-up.
#: Turns of history sent with a question (:data:`galileio_desktop.data.ask.DEFAULT_HISTORY_LIMIT`).
DEFAULT_HISTORY_LIMIT = 10
#: The attribute an answer the user stopped carries (plain value; stored as ``{"BOOL": true}``).
#: The web app ignores attributes it does not know.
STOPPED_EXTRA: Mapping[str, Any] = {"stopped": True}


def is_default_title(title: str) -> bool:
    """True for a chat still called by its default name."""
    from ..data.ask import is_default_title as rule

    return rule(title)


def title_from_prompt(prompt: str) -> str:
    """The title a chat gets from its first prompt."""
    from ..data.ask import title_from_prompt as rule

    return rule(prompt)


def history_turns(views: Iterable[MessageView], exclude_id: str | None, limit: int | None) -> list[Turn]:
    """The last ``limit`` turns before a question (the question itself left out)."""
    from ..data.assistants.base import Turn, bound_history

    turns = [
        Turn(view.message.type, view.message.content)
        for view in views
        if view.message.message_id != exclude_id
    ]
    return bound_history(turns, limit)
