"""One asking flow for every backend: question first, answer and sources as one unit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from galileio_desktop.data.ask import ask, title_from_prompt
from galileio_desktop.data.assistants.base import Answer, AssistantError, Turn
from galileio_desktop.data.errors import ItemTooLarge
from galileio_desktop.data.schema import Message, Source
from galileio_desktop.data.sync.library import ChatLibrary

USER = "asker"


class ScriptedBackend:
    """A backend that streams a fixed answer: the flow, not a model, is under test."""

    def __init__(
        self,
        pieces: Sequence[str],
        sources: list[dict] | None = None,
        *,
        name: str = "scripted",
        stop_after: int | None = None,
        fail: Exception | None = None,
        remote: list | None = None,
    ) -> None:
        self.name = name
        self.pieces = pieces
        self.sources = sources or []
        self.stop_after = stop_after
        self.fail = fail
        self.remote = remote
        self.history: list[Turn] = []

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: Callable[[str], None],
        cancel: threading.Event,
    ) -> Answer:
        self.history = list(history)
        if self.fail:
            raise self.fail
        text = ""
        for index, piece in enumerate(self.pieces):
            if self.stop_after is not None and index >= self.stop_after:
                cancel.set()
            if cancel.is_set():
                return Answer(text, [], stopped=True)
            text += piece
            on_text(piece)
        if self.remote is not None:
            return Answer(text, self.sources, stored_remotely=True, remote_items=self.remote)
        return Answer(text, self.sources)


@pytest.fixture
def library(tmp_path: Path) -> ChatLibrary:
    lib = ChatLibrary(tmp_path / "mirror.sqlite3", USER, None)
    yield lib
    lib.close()


def kinds(library: ChatLibrary, chat_id: str) -> list[str]:
    return [v.message.type for v in library.list_messages(chat_id)]


def test_question_then_streamed_answer_with_sources(library: ChatLibrary) -> None:
    chat = library.create_chat()
    sources = [
        {"pageContent": f"p{i}", "metadata": {"source_location": f"s3://b/{i}.pdf"}} for i in range(40)
    ]
    streamed: list[str] = []
    result = ask(
        library,
        ScriptedBackend(["Forty ", "sources."], sources),
        chat.chat_id,
        "What do the **policies** say?",
        on_text=streamed.append,
    )
    assert streamed == ["Forty ", "sources."]
    assert kinds(library, chat.chat_id) == ["human", "ai"]
    assert result.answer is not None and result.answer.content == "Forty sources."
    stored = library.list_sources(result.answer.message_id)
    assert [s.source_id for s in stored] == [str(i) for i in range(40)]
    assert library.get_chat(chat.chat_id).chat.title == "What do the policies say?"
    assert library.status().pending == 4  # create, question, rename, answer: queued for the server


def test_history_is_bounded(library: ChatLibrary) -> None:
    chat = library.create_chat("Named")
    for i in range(6):
        library.add_message(chat.chat_id, "human" if i % 2 == 0 else "ai", f"turn {i}")
    backend = ScriptedBackend(["ok"])
    ask(library, backend, chat.chat_id, "next", history_limit=3)
    assert [t.text for t in backend.history] == ["turn 3", "turn 4", "turn 5"]
    assert library.get_chat(chat.chat_id).chat.title == "Named"  # a named chat keeps its name


def test_an_answer_over_the_item_limit_is_refused_and_the_question_kept(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    with pytest.raises(ItemTooLarge, match="409,600"):
        ask(library, ScriptedBackend(["x" * (401 * 1024)]), chat.chat_id, "Give me everything")
    assert [v.message.content for v in library.list_messages(chat.chat_id)] == ["Give me everything"]


def test_stop_keeps_the_partial_answer_marked_stopped(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    result = ask(library, ScriptedBackend(["one ", "two ", "three"], stop_after=2), chat.chat_id, "count")
    assert result.stopped and result.answer is not None
    (question, answer) = library.list_messages(chat.chat_id)
    assert answer.message.content == "one two " and answer.stopped and not question.stopped


def test_a_backend_failure_keeps_the_question(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    with pytest.raises(AssistantError):
        ask(
            library,
            ScriptedBackend([], fail=AssistantError("The assistant answered HTTP 500.")),
            chat.chat_id,
            "why?",
        )
    assert kinds(library, chat.chat_id) == ["human"]


def test_server_stored_answers_are_mirrored_not_written_again(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    pending_before = library.status().pending
    question = Message("q1", chat.chat_id, USER, "human", "hi", 10)
    answer = Message("a1", chat.chat_id, USER, "ai", "hello", 11)
    source = Source("0", "a1", chat.chat_id, USER, "passage", {"source_location": "s3://b/k"}, 11)
    remote = [question.to_item(), answer.to_item(), source.to_item()]
    result = ask(library, ScriptedBackend(["hello"], name="galileo", remote=remote), chat.chat_id, "hi")
    assert kinds(library, chat.chat_id) == ["human", "ai"]
    assert [s.page_content for s in result.sources] == ["passage"]
    assert library.status().pending == pending_before  # nothing queued: the server wrote it


def test_titles_from_prompts() -> None:
    assert title_from_prompt("  \n## Revenue by *region*?\nmore") == "Revenue by region?"
    long = title_from_prompt("word " * 40)
    assert len(long) <= 60 and long.endswith("…")
