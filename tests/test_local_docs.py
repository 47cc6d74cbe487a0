"""The local documents assistant on real files: Markdown, text and a real PDF."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from galileio_desktop.data.assistants import AssistantError, AssistantSettings, Turn, make_assistant
from galileio_desktop.data.assistants.local_docs import LocalDocsAssistant, quote
from galileio_desktop.data.schema import check_item_size, make_sources, now_ms

GUIDE_MD = """\
# Field guide

This guide covers the daily care of the station.

## Backups

Backups run every night at two o'clock. The backup keeps thirty days of history.
Restore a backup from the admin page.

## Networking

The station joins the office Wi-Fi automatically. Use a cable when the signal is weak.
"""

NOTES_TXT = """\
Maintenance notes.

The inverter must be reset after a power cut. Hold the reset button for ten seconds
until the green light blinks.
"""


def make_pdf(pages: list[list[str]]) -> bytes:
    """A small valid PDF with one text line per entry, Helvetica, one page per list."""
    objects: list[bytes] = [b"", b""]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids: list[int] = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
            ).encode()
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "manuals").mkdir(parents=True)
    (folder / "guide.md").write_text(GUIDE_MD, encoding="utf-8")
    (folder / "notes.txt").write_text(NOTES_TXT, encoding="utf-8")
    (folder / "manuals" / "panels.pdf").write_bytes(
        make_pdf(
            [
                ["Solar panels convert sunlight into power.", "Clean the solar panels twice a year."],
                ["Page two lists the spare parts of the mounting frame."],
            ]
        )
    )
    return folder


def assistant(docs: Path, tmp_path: Path, **options: object) -> LocalDocsAssistant:
    settings = AssistantSettings(
        backend="local-docs", docs_dir=str(docs), options={"pace_seconds": 0, **options}
    )
    made = make_assistant(settings, index_path=tmp_path / "index" / "docs.sqlite3")
    assert isinstance(made, LocalDocsAssistant)
    return made


def ask(bot: LocalDocsAssistant, question: str, cancel: threading.Event | None = None) -> tuple:
    pieces: list[str] = []
    answer = bot.answer(
        "chat-1", question, [Turn("human", "hello")], pieces.append, cancel or threading.Event()
    )
    return answer, pieces


def test_answer_quotes_the_best_passage_and_cites_it(docs: Path, tmp_path: Path) -> None:
    answer, pieces = ask(assistant(docs, tmp_path), "How do I reset the inverter after a power cut?")

    assert not answer.stopped and not answer.stored_remotely
    assert len(pieces) > 5, "the answer is streamed in small pieces"
    assert "".join(pieces) == answer.text
    first = answer.sources[0]
    assert first["metadata"]["source_location"] == "notes.txt"
    assert first["metadata"]["file"] == "notes.txt"
    assert first["metadata"]["score"] > 0
    assert "Hold the reset button" in first["pageContent"]
    assert "[1] **notes.txt**" in answer.text
    assert "The inverter must be reset after a power cut." in answer.text
    scores = [s["metadata"]["score"] for s in answer.sources]
    assert scores == sorted(scores, reverse=True)
    # The sources fit the web app's SOURCE items as they are.
    for source in make_sources("user-1", "chat-1", "msg-1", answer.sources, now_ms()):
        check_item_size(source.to_item(), "source")


def test_markdown_sources_name_the_heading_path(docs: Path, tmp_path: Path) -> None:
    answer, _ = ask(assistant(docs, tmp_path), "When do backups run?")

    metadata = answer.sources[0]["metadata"]
    assert metadata["source_location"] == "guide.md"
    assert metadata["section"] == "Field guide > Backups"
    assert "Backups run every night at two o'clock." in answer.text


def test_pdf_sources_carry_the_page(docs: Path, tmp_path: Path) -> None:
    answer, _ = ask(assistant(docs, tmp_path), "how often should the solar panels be cleaned")

    metadata = answer.sources[0]["metadata"]
    assert metadata["source_location"] == "manuals/panels.pdf"
    assert metadata["file"] == "panels.pdf"
    assert metadata["page"] == 1
    assert metadata["section"] == "page 1"
    assert "Clean the solar panels twice a year." in answer.sources[0]["pageContent"]

    parts, _ = ask(assistant(docs, tmp_path), "spare parts of the mounting frame")
    assert parts.sources[0]["metadata"]["page"] == 2


def test_nothing_matches_gives_a_clear_answer_without_sources(docs: Path, tmp_path: Path) -> None:
    answer, pieces = ask(assistant(docs, tmp_path), "zebra giraffe")

    assert answer.sources == []
    assert not answer.stopped
    assert "found nothing" in answer.text and "3 files searched" in answer.text
    assert "".join(pieces) == answer.text


def test_a_question_of_only_punctuation_matches_nothing(docs: Path, tmp_path: Path) -> None:
    answer, _ = ask(assistant(docs, tmp_path), '"?! ) AND (')

    assert answer.sources == [] and "found nothing" in answer.text


def test_an_empty_folder_says_there_is_nothing_to_search(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    answer, _ = ask(assistant(empty, tmp_path), "anything at all")

    assert answer.sources == []
    assert "no Markdown, text or PDF files" in answer.text


def test_a_missing_folder_is_refused_clearly(tmp_path: Path) -> None:
    bot = assistant(tmp_path / "nowhere", tmp_path)

    with pytest.raises(AssistantError, match="does not exist"):
        ask(bot, "anything")


def test_stop_mid_stream_keeps_the_partial_answer(docs: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()

    bot = assistant(docs, tmp_path)
    full, _ = ask(bot, "reset the inverter")
    answer = bot.answer("chat-1", "reset the inverter", [], on_text, cancel)

    assert answer.stopped
    assert answer.text == "".join(pieces)
    assert len(pieces) == 2
    assert full.text.startswith(answer.text) and len(answer.text) < len(full.text)
    assert answer.sources == [], "no citation had been streamed yet"


def test_stop_before_start_returns_at_once(docs: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    answer, pieces = ask(assistant(docs, tmp_path), "reset", cancel)

    assert answer.stopped and answer.text == "" and pieces == []


def test_max_passages_bounds_the_sources(docs: Path, tmp_path: Path) -> None:
    answer, _ = ask(assistant(docs, tmp_path, max_passages=1), "the")

    assert len(answer.sources) <= 1


def test_quote_prefers_sentences_with_the_question_words() -> None:
    text = (
        "The station has a metal case. It weighs twelve kilograms. "
        "Backups are kept for thirty days. The case is painted grey."
    )

    quoted = quote(text, ["backups", "kept"], max_words=8)

    assert quoted == "… Backups are kept for thirty days. …"
