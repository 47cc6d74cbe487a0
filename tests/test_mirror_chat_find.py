"""Find in chat over the mirror: occurrences counted, Unicode-aware, every term literal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from galileio_desktop.data.mirror import chat_find
from galileio_desktop.data.mirror.search import highlight_terms
from galileio_desktop.data.schema import Chat, Message
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"


@pytest.fixture
def library(tmp_path: Path) -> ChatLibrary:
    lib = ChatLibrary(tmp_path / "mirror.sqlite3", USER)
    yield lib
    lib.close()


def _chat(library: ChatLibrary, *texts: str) -> tuple[str, list[str]]:
    chat = library.create_chat("Notes")
    ids = [library.add_message(chat.chat_id, "human", text).message_id for text in texts]
    return chat.chat_id, ids


def _found(library: ChatLibrary, chat_id: str, term: str) -> list[tuple[str, int]]:
    return [(hit.message_id, hit.count) for hit in library.find_in_chat(chat_id, term)]


def test_hits_are_occurrences_oldest_first_inside_words_too(library: ChatLibrary) -> None:
    chat_id, (a, _b, c, d) = _chat(
        library, "Hello, hotel.", "no match here", "HELLO hello HeLLo", "shell and spell"
    )
    assert _found(library, chat_id, "ell") == [(a, 1), (c, 3), (d, 2)]
    assert _found(library, chat_id, "HELLO") == [(a, 1), (c, 3)]
    hits = library.find_in_chat(chat_id, "hello")
    assert [h.created_at for h in hits] == sorted(h.created_at for h in hits)
    assert [h.newer for h in hits] == [3, 1]  # how many messages come after each
    assert _found(library, chat_id, "aaa") == []


def test_occurrences_do_not_overlap(library: ChatLibrary) -> None:
    chat_id, (a,) = _chat(library, "aaaa aaa")
    assert _found(library, chat_id, "aa") == [(a, 3)]


def test_empty_term_finds_nothing(library: ChatLibrary) -> None:
    chat_id, _ = _chat(library, "anything")
    assert library.find_in_chat(chat_id, "") == []


def test_unicode_case_folding_and_composed_forms(library: ChatLibrary) -> None:
    chat_id, (street, cafe, greek, turkish) = _chat(
        library, "Die Straße ist lang", "Cafe\u0301 au lait", "ΣΊΣΥΦΟΣ and σίσυφος", "İstanbul"
    )
    assert _found(library, chat_id, "STRASSE") == [(street, 1)]
    assert _found(library, chat_id, "straße") == [(street, 1)]
    assert _found(library, chat_id, "café") == [(cafe, 1)]  # composed term, decomposed text
    assert _found(library, chat_id, "σίσυφος") == [(greek, 2)]  # final sigma folds too
    assert _found(library, chat_id, "İstanbul") == [(turkish, 1)]
    assert _found(library, chat_id, "cafe au") == []  # an accent is not ignored


@pytest.mark.parametrize(
    "term",
    [
        "%",
        "_",
        "'",
        '"',
        "\\",
        "' OR 1=1 --",
        "%_%",
        "*",
        "[a]",
        "😀",
        "שלום",
        "\u202e",
        "\x00",
        "$.data",
        "NEAR(a b)",
    ],
)
def test_every_term_is_literal(library: ChatLibrary, term: str) -> None:
    holder = f"before {term} after {term}"
    chat_id, (plain, holding) = _chat(library, "plain words only", holder)
    assert _found(library, chat_id, term) == [(holding, 2)]


def test_only_visible_messages_of_that_chat(library: ChatLibrary) -> None:
    chat_id, (kept, deleted) = _chat(library, "okapi one", "okapi two")
    other_id, _ = _chat(library, "okapi elsewhere")
    library.delete_message(chat_id, deleted)
    assert _found(library, chat_id, "okapi") == [(kept, 1)]
    assert len(library.find_in_chat(other_id, "okapi")) == 1
    library.delete_chat(other_id)
    assert library.find_in_chat(other_id, "okapi") == []
    assert library.find_in_chat("no-such-chat", "okapi") == []


def test_a_message_whose_text_is_not_a_string_is_skipped(library: ChatLibrary) -> None:
    good = Message("m-good", "c1", USER, "human", "zebra crossing", 2_000).to_item()
    odd = {
        **Message("m-odd", "c1", USER, "human", "x", 1_000).to_item(),
        "data": {"M": {"content": {"N": "7"}}},
    }
    library.store_remote_items([Chat("c1", USER, "Hostile", 1).to_item(), odd, good])
    assert _found(library, "c1", "zebra") == [("m-good", 1)]
    assert _found(library, "c1", "7") == []


def test_a_10000_message_chat_is_scanned_quickly(library: ChatLibrary) -> None:
    messages = [
        Message(f"m{i:05d}", "big", USER, "ai", f"Answer {i}: " + "some *Markdown* text " * 12, 10_000 + i)
        for i in range(10_000)
    ]
    library.store_remote_items([Chat("big", USER, "Big", 1).to_item(), *(m.to_item() for m in messages)])
    started = time.perf_counter()
    hits = library.find_in_chat("big", "markdown")
    common = time.perf_counter() - started
    started = time.perf_counter()
    rare = library.find_in_chat("big", "Answer 9999:")
    rare_time = time.perf_counter() - started
    print(f"10,000 messages: common term {common * 1000:.0f} ms, rare term {rare_time * 1000:.0f} ms")
    assert len(hits) == 10_000 and sum(h.count for h in hits) == 120_000
    assert [(h.message_id, h.newer) for h in rare] == [("m09999", 0)]
    assert hits[0].newer == 9_999
    assert common < 1.5 and rare_time < 1.5


def test_the_scan_reads_one_chat_through_its_index(library: ChatLibrary) -> None:
    plan = " ".join(
        str(row[-1])
        for row in library._mirror.conn.execute("EXPLAIN QUERY PLAN " + chat_find._TEXTS_SQL, ("c",))
    )
    assert "USING INDEX item_chat" in plan and "SCAN item" not in plan.replace("SCAN item USING", "")


def test_highlight_terms_of_a_search_query() -> None:
    assert highlight_terms("  hotel cap ") == ["hotel cap", "hotel"]
    assert highlight_terms("hotel") == ["hotel"]
    assert highlight_terms("hot*") == ["hot*", "hot"]
    assert highlight_terms('"nightly cap"') == ['"nightly cap"', "nightly"]
    assert highlight_terms("***") == [] and highlight_terms("  ") == []
