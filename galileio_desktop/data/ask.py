"""Asking a question in a chat: one flow for every assistant backend.

The question is stored at once (queued like any write when offline); the answer
streams to ``on_text``; when it completes, the answer and its sources are stored as
one unit. A stopped answer keeps its partial text, marked stopped. A failure leaves
the question in place so the user can retry. The window and the CLI both use this.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .assistants.base import Answer, Assistant, Turn, bound_history
from .errors import InvalidInput, NotFound
from .schema import DEFAULT_CHAT_TITLE, Message, Source

log = logging.getLogger(__name__)

DEFAULT_HISTORY_LIMIT = 10
TITLE_MAX_CHARS = 60
#: Attribute an answer the user stopped carries; the web app ignores unknown attributes.
STOPPED_ATTRIBUTE = "stopped"
#: Backends whose server writes the question and the answer itself.
SERVER_STORED_BACKENDS = frozenset({"galileo"})

_MARKDOWN_NOISE = re.compile(r"[`*_#>\[\]]+")
_SPACES = re.compile(r"\s+")


@dataclass
class AskResult:
    """What a question produced, as stored."""

    question: Message | None
    answer: Message | None
    sources: list[Source] = field(default_factory=list)
    stopped: bool = False
    renamed_to: str | None = None
    #: The server stored the exchange but did not say what: a pull brings it in.
    needs_pull: bool = False
    #: The chat's id now: the server's, when the chat was created there to ask in it.
    chat_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question.as_json() if self.question else None,
            "answer": self.answer.as_json() if self.answer else None,
            "sources": [s.as_json() for s in self.sources],
            "stopped": self.stopped,
        }


def is_default_title(title: str) -> bool:
    """True while a chat still has the title it was created with."""
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


def history_of(messages: Iterable[Message], limit: int | None) -> list[Turn]:
    return bound_history((Turn(m.type, m.content) for m in messages), limit)


def ask(
    library: Any,
    assistant: Assistant,
    chat_id: str,
    question: str,
    *,
    on_text: Callable[[str], None] = lambda _text: None,
    cancel: threading.Event | None = None,
    history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    on_question_stored: Callable[[Message], None] | None = None,
    on_answer_started: Callable[[], None] | None = None,
    retry_of: str | None = None,
    on_chat_moved: Callable[[str], None] | None = None,
) -> AskResult:
    """Ask ``question`` in ``chat_id`` through ``library`` (a ChatLibrary): the one ask
    flow of the command line and the window.

    The question is stored first (``on_question_stored`` then), unless ``retry_of`` names
    the stored question being answered again, or the backend stores question and answer
    itself (the Galileo endpoint: then nothing is written here but what it stored). A
    chat still called by its default title, with no message but this question, is named
    after it. The answer streams to ``on_text``; a stopped one keeps its text, marked;
    one with neither text nor sources is not stored.

    A backend that stores the turn itself is asked in a chat that exists on the server:
    a chat made here is created there first, and when the server gave it an id of its
    own (the deployment's API does), the ask goes on under that id
    (``on_chat_moved(new_id)`` then; :attr:`AskResult.chat_id` has it).
    """
    if not question.strip():
        raise InvalidInput("A question cannot be empty.")
    view = library.get_chat(chat_id)
    if view is None:
        raise NotFound(f"Chat {chat_id} does not exist.")
    window = max(1, history_limit or 50) * 2 + 2
    earlier = [
        v.message for v in library.list_messages(chat_id, limit=window) if v.message.message_id != retry_of
    ]
    history = history_of(earlier, history_limit)
    server_stores = (
        bool(getattr(assistant, "stores_turns", False))
        or getattr(assistant, "name", "") in SERVER_STORED_BACKENDS
    )
    result = AskResult(question=None, answer=None, chat_id=chat_id)
    if retry_of is None and not server_stores:
        result.question = library.add_message(chat_id, "human", question)
        if on_question_stored:
            on_question_stored(result.question)
    if not earlier and is_default_title(view.chat.title):
        title = title_from_prompt(question)
        if not is_default_title(title):
            library.rename_chat(chat_id, title)
            result.renamed_to = title
    if server_stores:
        result.chat_id = library.chat_on_server(chat_id)
        if result.chat_id != chat_id:
            chat_id = result.chat_id
            if on_chat_moved:
                on_chat_moved(chat_id)
    if on_answer_started:
        on_answer_started()
    answer: Answer = assistant.answer(chat_id, question, history, on_text, cancel or threading.Event())
    result.stopped = answer.stopped or bool(cancel is not None and cancel.is_set())
    if answer.stored_remotely:
        remote = answer.remote_messages()
        result.needs_pull = not remote  # the server has them; the next pull brings them in
        for message in remote:
            library.store_remote_message(message)
            if message.type == "human":
                result.question = message
            else:
                result.answer = message
                result.sources = list(message.sources)
        return result
    if not answer.text.strip() and not answer.sources:
        return result
    extra = {STOPPED_ATTRIBUTE: True} if result.stopped else None
    stored = library.add_message(chat_id, "ai", answer.text, answer.sources, extra=extra)
    result.answer = stored
    result.sources = list(stored.sources)
    return result
