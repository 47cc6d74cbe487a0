"""Full-text search over the mirror: diacritics, ranking, snippets, hidden items, speed."""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import pytest

from galileio_desktop.data.mirror import items
from galileio_desktop.data.mirror import search as search_module
from galileio_desktop.data.mirror.search import SNIPPET_END, SNIPPET_START, fts_query, plain_snippet
from galileio_desktop.data.schema import Chat, Message, make_sources
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"


@pytest.fixture
def library(tmp_path: Path) -> ChatLibrary:
    lib = ChatLibrary(tmp_path / "mirror.sqlite3", USER)
    yield lib
    lib.close()


def test_diacritics_case_and_kinds(library: ChatLibrary) -> None:
    chat = library.create_chat("Déjà vu at the Café")
    question = library.add_message(chat.chat_id, "human", "Which CAFÉ serves crème brûlée?")
    answer = library.add_message(
        chat.chat_id,
        "ai",
        "The one on the corner.",
        [{"pageContent": "Menu: creme brulee, 4 EUR", "metadata": {}}],
    )
    assert [(h.kind, h.message_id) for h in library.search("deja")] == [("CHAT", None)]
    kinds = {(h.kind, h.message_id) for h in library.search("cafe")}
    assert kinds == {("CHAT", None), ("MESSAGE", question.message_id)}
    found = {(h.kind, h.message_id) for h in library.search("Crème Brulee")}
    assert found == {("MESSAGE", question.message_id), ("SOURCE", answer.message_id)}
    assert all(
        h.chat_id == chat.chat_id and h.title == "Déjà vu at the Café" for h in library.search("brulee")
    )


def test_snippets_mark_the_match_and_json_shows_brackets(library: ChatLibrary) -> None:
    chat = library.create_chat("notes")
    words = " ".join(f"word{i}" for i in range(60))
    library.add_message(chat.chat_id, "human", f"{words} target {words}")
    [hit] = library.search("target")
    assert f"{SNIPPET_START}target{SNIPPET_END}" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) < 300
    assert "[target]" in hit.as_json()["snippet"] and hit.as_json()["chatId"] == chat.chat_id
    assert plain_snippet(hit.snippet, "<b>", "</b>").count("<b>target</b>") == 1


def test_ranking_puts_the_best_match_first(library: ChatLibrary) -> None:
    chat = library.create_chat("misc")
    weak = library.add_message(chat.chat_id, "human", "orbit " + "filler text " * 40)
    strong = library.add_message(chat.chat_id, "human", "orbit orbit orbit of the moon")
    hits = library.search("orbit")
    assert [h.message_id for h in hits] == [strong.message_id, weak.message_id]
    assert hits[0].rank < hits[1].rank  # bm25: lower is better


def test_every_word_must_match_and_prefixes_work(library: ChatLibrary) -> None:
    chat = library.create_chat("misc")
    both = library.add_message(chat.chat_id, "human", "solar panels on the roof")
    library.add_message(chat.chat_id, "human", "solar wind")
    assert [h.message_id for h in library.search("solar roof")] == [both.message_id]
    assert [h.message_id for h in library.search("pan*")] == [both.message_id]
    assert len(library.search("solar", limit=1)) == 1


@pytest.mark.parametrize(
    "query", ['"', 'a"b', "NOT", "AND OR", "-x", "col:umn", "(", "*", "NEAR(a b)", "  ", "", "^start"]
)
def test_any_user_text_is_a_valid_query(library: ChatLibrary, query: str) -> None:
    chat = library.create_chat("syntax")
    library.add_message(chat.chat_id, "human", 'col:umn (a b) NOT start -x "quoted" AND OR')
    hits = library.search(query)
    assert isinstance(hits, list)
    if fts_query(query) is None:
        assert hits == []


def test_fts_query_quotes_words() -> None:
    assert fts_query('say "hi" now*') == '"say" "hi" "now"*'
    assert fts_query("") is None and fts_query("   ") is None


def test_hidden_renamed_and_cancelled_follow_the_view(library: ChatLibrary) -> None:
    chat = library.create_chat("alpha title")
    message = library.add_message(chat.chat_id, "human", "kiwi smoothie")
    library.rename_chat(chat.chat_id, "beta title")
    assert library.search("alpha") == []
    assert [h.kind for h in library.search("beta")] == ["CHAT"]
    op = library.delete_message(chat.chat_id, message.message_id)
    assert library.search("kiwi") == []
    assert library.cancel(op) is True
    assert [h.message_id for h in library.search("kiwi")] == [message.message_id]
    library.delete_chat(chat.chat_id)
    assert library.search("kiwi") == [] and library.search("beta") == []


def store_remote(library: ChatLibrary, chat: Chat, messages: list[Message]) -> None:
    """A chat, its messages and their sources as a pull leaves them: confirmed remote."""
    mirror = library._mirror
    with mirror.write() as conn:
        seq = mirror.next_seq(conn)
        for item in [chat.to_item(), *(m.to_item() for m in messages)]:
            items.put_remote(conn, item, seq)
        for message in messages:
            for source in message.sources:
                items.put_remote(conn, source.to_item(), seq)


def test_a_queued_chat_delete_is_left_out_before_the_candidates_are_bounded(
    library: ChatLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of a chat whose delete is queued keep their full-text entries until it is
    sent; the newest matches are bounded after they are left out, so a chat with more
    matching passages than the bound never hides an older hit of a chat that is shown."""
    monkeypatch.setattr(search_module, "CANDIDATES", 15)
    kept = Chat("kept", USER, "kept chat", 1_000)
    wanted = Message("m-kept", kept.chat_id, USER, "human", "okapi at the zoo", 2_000)
    doomed = Chat("doomed", USER, "doomed chat", 3_000)
    answers = []
    for n in range(4):
        answer = Message(f"m-{n}", doomed.chat_id, USER, "ai", f"okapi answer {n}", 4_000 + n)
        passages = [{"pageContent": f"okapi passage {n} {i}"} for i in range(6)]
        sources = make_sources(USER, doomed.chat_id, answer.message_id, passages, 4_000 + n)
        answers.append(answer.with_sources(sources))
    store_remote(library, kept, [wanted])
    store_remote(library, doomed, answers)
    assert len(library.search("okapi", limit=50)) == 29

    library.delete_chat(doomed.chat_id, not_before_ms=2**62)
    assert [h.message_id for h in library.search("okapi", limit=2)] == [wanted.message_id]
    assert library.search("doomed") == [] and library.search("passage") == []
    with library._mirror.read() as conn:  # the entries are still there
        query = "SELECT COUNT(*) FROM search_index WHERE search_index MATCH 'passage'"
        assert conn.execute(query).fetchone()[0] == 24


@pytest.mark.slow
def test_search_of_100k_messages_beats_a_like_scan(tmp_path: Path) -> None:
    """The mirror of a heavy user: 100,000 messages in 100 chats."""
    rng = random.Random(20)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 9)))
        for _ in range(20_000)
    ]
    library = ChatLibrary(tmp_path / "big.sqlite3", USER)
    try:
        batch = []
        for c in range(100):
            batch.append(
                {
                    "PK": {"S": USER},
                    "SK": {"S": f"CHAT#c{c}"},
                    "GSI1PK": {"S": f"{USER}#CHAT"},
                    "GSI1SK": {"S": "1"},
                    "chatId": {"S": f"c{c}"},
                    "title": {"S": f"chat {c}"},
                    "createdAt": {"N": "1"},
                    "userId": {"S": USER},
                    "entity": {"S": "CHAT"},
                }
            )
            for i in range(1_000):
                text = " ".join(rng.choice(vocabulary) for _ in range(40))
                batch.append(Message(f"m{c}-{i}", f"c{c}", USER, "human", text, 1_000 + i).to_item())
        library.store_remote_items(batch)
        conn = library._mirror.conn
        like_sql = (
            "SELECT chat_id, message_id FROM item WHERE kind = 'MESSAGE' AND hidden = 0 "
            "AND json_extract(COALESCE(local, remote), '$.data.M.content.S') LIKE ?"
        )
        ratios = []
        for word in rng.sample(vocabulary, 5):
            started = time.perf_counter()
            hits = library.search(word)
            fts_s = time.perf_counter() - started
            started = time.perf_counter()
            scanned = conn.execute(like_sql, (f"%{word}%",)).fetchall()
            like_s = time.perf_counter() - started
            # LIKE also matches inside longer words: the whole-word hits are a subset
            assert hits and {h.message_id for h in hits} <= {m for _, m in scanned}
            ratios.append(like_s / fts_s)
        print(f"FTS vs LIKE over 100,000 messages: {statistics.median(ratios):.0f}x faster (median of 5)")
        assert statistics.median(ratios) >= 20
    finally:
        library.close()


def test_equal_scores_list_the_newest_first(library: ChatLibrary) -> None:
    chat = library.create_chat("misc")
    older = library.add_message(chat.chat_id, "human", "comet tail")
    newer = library.add_message(chat.chat_id, "human", "comet tail")
    hits = library.search("comet")
    assert [h.message_id for h in hits] == [newer.message_id, older.message_id]
    assert hits[0].rank == hits[1].rank


def test_a_very_common_word_is_ranked_among_its_most_recent_matches(
    library: ChatLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``CANDIDATES`` matches only the most recently stored ones are scored, so a word
    found in most messages costs a bounded amount; the best of those still comes first."""
    monkeypatch.setattr(search_module, "CANDIDATES", 15)
    chat = library.create_chat("misc")
    weak = f"nebula {'filler ' * 30}"
    oldest_best = library.add_message(chat.chat_id, "human", "nebula nebula nebula nebula")
    older = [library.add_message(chat.chat_id, "human", weak).message_id for _ in range(10)]
    recent_best = library.add_message(chat.chat_id, "human", "nebula nebula " + "word " * 5)
    recent = [library.add_message(chat.chat_id, "human", weak).message_id for _ in range(10)]
    hits = library.search("nebula", limit=5)
    assert [h.message_id for h in hits] == [recent_best.message_id, *reversed(recent[-4:])]
    assert all(f"{SNIPPET_START}nebula{SNIPPET_END}" in h.snippet for h in hits)
    assert not {oldest_best.message_id, *older} & {h.message_id for h in hits}
    # fewer matches than the bound: every match is ranked, the best one first
    monkeypatch.setattr(search_module, "CANDIDATES", 100)
    assert library.search("nebula", limit=1)[0].message_id == oldest_best.message_id


def test_snippets_belong_to_their_own_hit(library: ChatLibrary) -> None:
    chat = library.create_chat("misc")
    first = library.add_message(chat.chat_id, "human", "quasar alpha")
    second = library.add_message(chat.chat_id, "ai", "quasar beta", [{"pageContent": "quasar gamma"}])
    by_id = {(h.kind, h.message_id): h.snippet for h in library.search("quasar")}
    assert by_id[("MESSAGE", first.message_id)] == f"{SNIPPET_START}quasar{SNIPPET_END} alpha"
    assert by_id[("MESSAGE", second.message_id)] == f"{SNIPPET_START}quasar{SNIPPET_END} beta"
    assert by_id[("SOURCE", second.message_id)] == f"{SNIPPET_START}quasar{SNIPPET_END} gamma"
