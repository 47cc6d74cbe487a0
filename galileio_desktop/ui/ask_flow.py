"""Plain rules of asking, kept apart from threads and signals so they are easy to test.

What history goes with a question, what title a new chat gets from its first
prompt, and how an answer's stop mark is stored on the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..data.schema import DEFAULT_CHAT_TITLE

if TYPE_CHECKING:
    from ..data.assistants.base import Turn
    from ..data.sync import MessageView

DEFAULT_HISTORY_LIMIT = 10
TITLE_MAX_CHARS = 60

#: The attribute an answer the user stopped carries (plain value; stored as ``{"BOOL": true}``).
#: The web app ignores attributes it does not know.
STOPPED_EXTRA: Mapping[str, Any] = {"stopped": True}

_MARKDOWN_NOISE = re.compile(r"[`*_#>\[\]]+")
_SPACES = re.compile(r"\s+")


def is_default_title(title: str) -> bool:
    """True while a chat still has the title it was created with (the user has not named it)."""
    return title.strip() == DEFAULT_CHAT_TITLE


def title_from_prompt(prompt: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A short chat title from the first prompt: its first line, plain, cut at a word."""
    first = next((line for line in prompt.splitlines() if line.strip()), "")
    text = _SPACES.sub(" ", _MARKDOWN_NOISE.sub("", first)).strip()
    if not text:
        return DEFAULT_CHAT_TITLE
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut[max_chars // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def history_turns(views: Iterable[MessageView], exclude_id: str | None, limit: int | None) -> list[Turn]:
    """The last ``limit`` turns before a question (the question itself left out)."""
    from ..data.assistants.base import Turn, bound_history

    turns = [
        Turn(view.message.type, view.message.content)
        for view in views
        if view.message.message_id != exclude_id
    ]
    return bound_history(turns, limit)
