"""The operations the conversation runs on the library: pages of messages, fetching a
chat the mirror lacks, and asking. Their work runs in a worker thread (no Qt here);
the pane and the ask tracker attach what to do with the outcome.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...data.errors import GalileioError
from ..workers.operation import LibraryOp, OpContext

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary, MessageView

log = logging.getLogger(__name__)

#: Messages per page of the message pane.
PAGE_SIZE = 50
#: What an open operation reports once the chat's newest page is in the mirror and
#: older pages follow (the pane reads the newest page again).
FIRST_PAGE_IN = "first-page-in"


@dataclass(frozen=True)
class MessagePage:
    """Messages of a chat, oldest first, answers with their sources; ``total``: how many
    the chat holds; ``more_older`` / ``more_newer``: whether messages older (newer) than
    the page are left, when the read knows (None: judge by ``total``)."""

    chat_id: str
    views: list[MessageView]
    total: int
    more_older: bool | None = None
    more_newer: bool = False


def read_page(library: ChatLibrary, chat_id: str, limit: int | None, before: int | None) -> MessagePage:
    views = library.list_messages(chat_id, limit=limit, before=before, with_sources=True)
    return MessagePage(chat_id, views, library.count_messages(chat_id))


def page_op(
    chat_id: str, limit: int | None = PAGE_SIZE, before: int | None = None, after: int | None = None
) -> LibraryOp[MessagePage]:
    """A page from the mirror: the newest ``limit`` messages, those before ``before``, or
    (with ``after``) the oldest ``limit`` newer than it. The page says whether more are
    left beyond it, judged by whether it came full."""
    return LibraryOp(functools.partial(_read_page, chat_id, limit, before, after), name="read messages")


def _read_page(
    chat_id: str, limit: int | None, before: int | None, after: int | None, library: ChatLibrary
) -> MessagePage:
    views = library.list_messages(chat_id, limit=limit, before=before, after=after, with_sources=True)
    full = limit is not None and len(views) >= limit
    total = library.count_messages(chat_id)
    if after is not None:
        return MessagePage(chat_id, views, total, more_newer=full)
    return MessagePage(chat_id, views, total, more_older=full if before is not None else None)


def around_op(chat_id: str, message_id: str, each_side: int = PAGE_SIZE) -> LibraryOp[MessagePage]:
    """The messages around ``message_id``: it, ``each_side`` older and ``each_side`` newer
    (to show a message far from those loaded without reading all between)."""
    return LibraryOp(functools.partial(_read_around, chat_id, message_id, each_side), name="read around")


def _read_around(chat_id: str, message_id: str, each_side: int, library: ChatLibrary) -> MessagePage:
    when = library.message_time(chat_id, message_id)
    total = library.count_messages(chat_id)
    if when is None:
        return MessagePage(chat_id, [], total)
    older = library.list_messages(chat_id, limit=each_side + 1, before=when + 1, with_sources=True)
    newer = library.list_messages(chat_id, limit=each_side, after=when, with_sources=True)
    return MessagePage(
        chat_id,
        older + newer,
        total,
        more_older=len(older) >= each_side + 1,
        more_newer=len(newer) >= each_side,
    )


def fetch_op(chat_id: str) -> LibraryOp[int]:
    """Opening a chat, on the network: its messages fetched if the mirror lacks them (the
    newest page reported as soon as it is in), then the newest page reported (always: the
    chat is as complete as it can be right now), then the answers' sources the mirror
    lacks. The result: how many sources arrived."""
    return LibraryOp.reporting(functools.partial(_fetch_chat, chat_id), name="open chat")


def _fetch_chat(chat_id: str, library: ChatLibrary, context: OpContext) -> int:
    library.open_chat(chat_id, on_first_page=lambda: context.update(FIRST_PAGE_IN))
    context.update(read_page(library, chat_id, PAGE_SIZE, None))
    try:
        return library.fetch_sources(chat_id)
    except GalileioError as exc:  # offline or refused: the next sync of this chat brings them
        log.info("sources not fetched yet: %s", exc.message)
        return 0


@dataclass
class AskUpdate:
    """What an ask reports while it runs: the stored question, the answer starting, text."""

    question: MessageView | None = None
    started: bool = False
    text: str = ""
    #: The chat was created on the server first and has the server's id now.
    moved_to: str = ""


@dataclass
class AskOutcome:
    """The stored answer (with its sources), the question as stored, and whether the
    server stored them and a pull must bring them in."""

    chat_id: str
    answer: MessageView | None = None
    question: MessageView | None = None
    needs_pull: bool = False
    stopped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def ask_op(
    chat_id: str, question: str, history_limit: int | None, retry_of: str | None = None
) -> LibraryOp[AskOutcome]:
    """Ask ``question`` in ``chat_id`` with the one ask flow of the data layer (run on the
    answer worker, which owns the assistant); ``retry_of``: the stored question answered
    again. Reports :class:`AskUpdate` values; :meth:`LibraryOp.stop` ends the answer early
    and keeps what arrived, marked stopped."""
    return (
        LibraryOp.reporting(functools.partial(_ask, chat_id, question, history_limit, retry_of), name="ask")
        .touching(chat_id)
        .after_write()
    )


def _question_stored(library: ChatLibrary, context: OpContext, chat_id: str, message_id: str) -> None:
    context.wrote()  # sent while the answer is still streaming
    context.update(AskUpdate(question=library.message_view(chat_id, message_id)))


def _ask(
    chat_id: str,
    question: str,
    history_limit: int | None,
    retry_of: str | None,
    library: ChatLibrary,
    context: OpContext,
) -> AskOutcome:
    from ...data.ask import ask

    assistant = context.require_assistant()
    result = ask(
        library,
        assistant,
        chat_id,
        question,
        on_text=lambda piece: context.update(AskUpdate(text=piece)),
        cancel=context.stop_event,
        history_limit=history_limit,
        on_question_stored=lambda message: _question_stored(library, context, chat_id, message.message_id),
        on_answer_started=lambda: context.update(AskUpdate(started=True)),
        retry_of=retry_of,
        on_chat_moved=lambda new_id: context.update(AskUpdate(moved_to=new_id)),
    )
    chat_id = result.chat_id or chat_id
    outcome = AskOutcome(chat_id, needs_pull=result.needs_pull, stopped=result.stopped)
    if result.needs_pull:
        context.wrote(0)  # the server stored the exchange: a sync now brings it in
    if result.answer is not None:
        outcome.answer = library.message_view(chat_id, result.answer.message_id)
    if result.question is not None:
        outcome.question = library.message_view(chat_id, result.question.message_id)
    return outcome
