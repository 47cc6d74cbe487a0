"""The documents index: incremental refresh on real files, passages, and the query syntax."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from galileio_desktop.data.assistants import docs_index
from galileio_desktop.data.assistants.docs_index import DocsIndex, match_expression
from galileio_desktop.data.assistants.docs_text import MAX_WORDS, markdown_passages, read_passages


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    write(root / "a.md", "# Alpha\n\nAlpha talks about pelicans and harbours.\n")
    write(root / "b.md", "# Beta\n\nBeta talks about lighthouses.\n")
    write(root / "sub" / "c.txt", "Gamma talks about tides and moons.\n")
    write(root / ".hidden" / "secret.md", "pelicans in a hidden folder\n")
    write(root / "image.png", "not a document")
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every file the index actually reads (the real reader still does the work)."""
    seen: list[str] = []
    real = docs_index.read_passages

    def spy(path: Path):  # type: ignore[no-untyped-def]
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(docs_index, "read_passages", spy)
    return seen


def paths(hits: list[docs_index.Hit]) -> list[str]:
    return [h.path for h in hits]


def test_first_refresh_indexes_supported_visible_files(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    with DocsIndex(tmp_path / "i.sqlite3", folder) as index:
        stats = index.refresh()

        assert sorted(stats.added) == ["a.md", "b.md", "sub/c.txt"]
        assert sorted(reads) == ["a.md", "b.md", "c.txt"]
        assert index.file_count() == 3
        assert paths(index.search("pelicans")) == ["a.md"], "hidden folders are not indexed"
    mode = stat.S_IMODE(os.stat(tmp_path / "i.sqlite3").st_mode)
    assert mode == 0o600


def test_refresh_rereads_only_the_changed_file_and_drops_removed_ones(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    db = tmp_path / "i.sqlite3"
    with DocsIndex(db, folder) as index:
        index.refresh()
    reads.clear()

    with DocsIndex(db, folder) as index:  # a new session reuses the stored index
        stats = index.refresh()
        assert stats.read == [] and stats.unchanged == 3 and reads == []

        changed = write(folder / "b.md", "# Beta\n\nBeta now talks about submarines instead.\n")
        later = changed.stat().st_mtime_ns + 5_000_000_000
        os.utime(changed, ns=(later, later))
        (folder / "sub" / "c.txt").unlink()
        stats = index.refresh()

        assert stats.updated == ["b.md"] and stats.added == []
        assert reads == ["b.md"]
        assert stats.removed == ["sub/c.txt"]
        assert stats.unchanged == 1
        assert paths(index.search("submarines")) == ["b.md"]
        assert index.search("lighthouses") == [], "the old text of a changed file is gone"
        assert index.search("tides moons") == [], "a removed file's passages are gone"
        assert index.file_count() == 2


def test_same_content_new_mtime_is_read_again(folder: Path, tmp_path: Path, reads: list[str]) -> None:
    with DocsIndex(tmp_path / "i.sqlite3", folder) as index:
        index.refresh()
        reads.clear()
        target = folder / "a.md"
        later = target.stat().st_mtime_ns + 2_000_000_000
        os.utime(target, ns=(later, later))

        assert index.refresh().updated == ["a.md"]
        assert reads == ["a.md"]
        assert len(index.search("pelicans")) == 1, "re-reading does not duplicate passages"


def test_a_cancelled_refresh_keeps_what_is_indexed(folder: Path, tmp_path: Path, reads: list[str]) -> None:
    with DocsIndex(tmp_path / "i.sqlite3", folder) as index:
        index.refresh()
        reads.clear()
        write(folder / "d.md", "Delta talks about comets.\n")
        cancel = threading.Event()
        cancel.set()

        stats = index.refresh(cancel)

        assert stats.removed == [] and stats.read == [] and reads == []
        assert index.file_count() == 3
        assert index.refresh().added == ["d.md"]
        assert paths(index.search("comets")) == ["d.md"]


def test_another_folder_replaces_the_index(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write(other / "z.md", "Zeta talks about volcanoes.\n")
    db = tmp_path / "i.sqlite3"
    with DocsIndex(db, folder) as index:
        index.refresh()
    with DocsIndex(db, other) as index:
        stats = index.refresh()

        assert stats.added == ["z.md"]
        assert index.search("pelicans") == []
        assert paths(index.search("volcanoes")) == ["z.md"]


def test_an_unreadable_pdf_is_recorded_and_not_retried_until_it_changes(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with DocsIndex(tmp_path / "i.sqlite3", folder) as index:
        stats = index.refresh()
        assert "broken.pdf" in stats.failed
        assert "broken.pdf" in stats.failed["broken.pdf"]
        reads.clear()

        again = index.refresh()
        assert again.failed == {} and reads == []
        assert ("broken.pdf", 0, stats.failed["broken.pdf"]) in list(index.iter_files())


def test_an_index_from_an_unknown_schema_is_rebuilt(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE passages (junk TEXT)")
        conn.execute("PRAGMA user_version = 99")
    with DocsIndex(db, folder) as index:
        index.refresh()
        assert paths(index.search("pelicans")) == ["a.md"]


def test_search_ranks_better_matches_first_and_limits_per_file(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(root / "many.md", "\n\n".join(f"## Part {i}\n\nHarbour notes number {i}." for i in range(6)))
    write(root / "best.md", "Harbour pelicans nest near the harbour pelican colony.\n")
    with DocsIndex(tmp_path / "i.sqlite3", root) as index:
        index.refresh()
        hits = index.search("harbour pelicans", limit=4, per_file=2)

    assert hits[0].path == "best.md"
    assert [h.path for h in hits].count("many.md") == 2
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "query",
    ['"', "AND OR NOT", "NEAR(a b)", "col:umn *", "'; DROP TABLE passages; --", "ünïcödé façade"],
)
def test_any_text_is_a_safe_query(folder: Path, tmp_path: Path, query: str) -> None:
    with DocsIndex(tmp_path / "i.sqlite3", folder) as index:
        index.refresh()
        index.search(query)  # must not raise an FTS5 syntax error
        assert index.passage_count() == 3


def test_match_expression_keeps_content_words() -> None:
    assert match_expression("What is the backup policy?") == '"backup" OR "policy"'
    assert match_expression("the") == '"the"'
    assert match_expression("?!") is None


def test_markdown_sections_follow_headings_but_not_code() -> None:
    text = (
        "Title\n=====\n\nIntro.\n\n## Setup\n\nRun this:\n\n```\n# not a heading\n```\n\n"
        "### Linux\n\nUse the package.\n\nOther\n-----\n\nLast words.\n"
    )

    passages = markdown_passages(text)

    assert [p.section for p in passages] == [
        "Title",
        "Title > Setup",
        "Title > Setup > Linux",
        "Title > Other",
    ]
    assert "# not a heading" in passages[1].text


def test_long_sections_are_cut_into_bounded_passages(tmp_path: Path) -> None:
    sentence = "Every word here counts toward the passage limit of the index. "
    body = "\n\n".join(sentence * 12 for _ in range(6))
    one_huge_paragraph = "word " * (MAX_WORDS * 3)
    path = write(tmp_path / "long.md", f"# Long\n\n{body}\n\n## Huge\n\n{one_huge_paragraph}\n")

    passages = read_passages(path)

    assert len(passages) > 4
    assert all(len(p.text.split()) <= MAX_WORDS for p in passages)
    assert {p.section for p in passages} == {"Long", "Long > Huge"}
    total = sum(len(p.text.split()) for p in passages)
    assert total == len(body.split()) + MAX_WORDS * 3, "no words are lost or repeated"
