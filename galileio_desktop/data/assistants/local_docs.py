"""Answers from a folder of the user's own documents, fully offline, no model needed.

The folder is re-indexed incrementally before each question (only changed files are
read again), the best passages are found with bm25, and the answer quotes the most
relevant sentences of each, citing it as a source with its file, section or page
and score. The text is handed out in small pieces, paced lightly, so the window
shows it arriving like any other streamed answer; Stop works between pieces.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Answer, AssistantError, TextCallback, TextCollector, Turn, make_source
from .docs_index import DocsIndex, Hit, query_terms
from .settings import AssistantSettings

log = logging.getLogger(__name__)

DEFAULT_PASSAGES = 4
DEFAULT_PACE_S = 0.01
QUOTE_WORDS = 70
_WORDS_PER_PIECE = 3
_PIECE = re.compile(r"\S+\s*|\s+")


class LocalDocsAssistant:
    """Quotes the passages of ``settings.docs_dir`` that best match the question.

    Options: ``max_passages`` (default 4), ``pace_seconds`` between streamed pieces
    (default 0.01; 0 hands the whole answer out at once, in pieces). The chat
    history is not used: the documents are searched for the question alone.
    """

    def __init__(self, settings: AssistantSettings, index_path: Path) -> None:
        if not settings.docs_dir:
            raise AssistantError("The local documents assistant needs a documents folder (--docs).")
        self._settings = settings
        self.root = Path(settings.docs_dir).expanduser()
        self.index_path = index_path
        self.name = f"Local documents ({self.root.name or self.root})"
        options = settings.options
        self._limit = _positive_int(options.get("max_passages"), DEFAULT_PASSAGES)
        pace = options.get("pace_seconds", DEFAULT_PACE_S)
        self._pace = float(pace) if isinstance(pace, (int, float)) and pace >= 0 else DEFAULT_PACE_S

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: TextCallback,
        cancel: threading.Event,
    ) -> Answer:
        if cancel.is_set():
            return Answer("", stopped=True)
        if not self.root.is_dir():
            raise AssistantError(
                f"The documents folder {self.root} does not exist or is not a folder: choose another one."
            )
        with DocsIndex(self.index_path, self.root) as index:
            index.refresh(cancel)
            if cancel.is_set():
                return Answer("", stopped=True)
            hits = index.search(question, limit=self._limit)
            files = index.file_count()
        text, sources = compose(question, hits, files, self.root.name or str(self.root))
        return self._stream(text, sources, on_text, cancel)

    def _stream(
        self, text: str, sources: list[dict[str, Any]], on_text: TextCallback, cancel: threading.Event
    ) -> Answer:
        collector = TextCollector(on_text)
        tokens = _PIECE.findall(text)
        for start in range(0, len(tokens), _WORDS_PER_PIECE):
            if cancel.is_set() or (start and self._pace and cancel.wait(self._pace)):
                partial = collector.text
                cited = [s for i, s in enumerate(sources, start=1) if f"[{i}]" in partial]
                return Answer(partial, cited, stopped=True)
            collector.add("".join(tokens[start : start + _WORDS_PER_PIECE]))
        return Answer(collector.text, sources)


def compose(question: str, hits: list[Hit], files: int, folder: str) -> tuple[str, list[dict[str, Any]]]:
    """The answer text quoting ``hits`` and its sources, in citation order."""
    if not hits:
        if files == 0:
            return (
                f"The documents folder “{folder}” has no Markdown, text or PDF files to search yet. "
                "Add some and ask again.",
                [],
            )
        noun = "file" if files == 1 else "files"
        return (
            f"I found nothing about this in the documents folder “{folder}” ({files} {noun} searched). "
            "Try other words, or add documents that cover it.",
            [],
        )
    terms = query_terms(question)
    count = len(hits)
    lead = "the passage that best matches" if count == 1 else f"the {count} passages that best match"
    lines = [f"From your documents, {lead}:"]
    sources: list[dict[str, Any]] = []
    for number, hit in enumerate(hits, start=1):
        where = _where(hit)
        lines.append("")
        lines.append(f"[{number}] **{Path(hit.path).name}**{where}:")
        lines.append(f"> {quote(hit.text, terms)}")
        sources.append(make_source(hit.text, source_metadata(hit)))
    lines.append("")
    lines.append("The full passages are in the sources.")
    return "\n".join(lines), sources


def source_metadata(hit: Hit) -> dict[str, Any]:
    """What the source drawer shows: where the passage is, and how well it matched."""
    metadata: dict[str, Any] = {"source_location": hit.path, "file": Path(hit.path).name}
    section = hit.section or (f"page {hit.page}" if hit.page is not None else "")
    if section:
        metadata["section"] = section
    if hit.page is not None:
        metadata["page"] = hit.page
    metadata["score"] = hit.score
    return metadata


def quote(text: str, terms: Sequence[str], max_words: int = QUOTE_WORDS) -> str:
    """The sentences of a passage that say the most about ``terms``, in their order.

    Words are compared on their first five letters, a crude stem that lets
    "backups" find "backup" and "indexing" find "indexed".
    """
    flat = " ".join(text.split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", flat) if s]
    if not sentences:
        return ""
    stems = {t[:5] for t in terms}

    def score(sentence: str) -> int:
        words = {w[:5] for w in re.findall(r"\w+", sentence.lower())}
        return len(stems & words)

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(sentences[i]), i))
    if not stems or score(sentences[ranked[0]]) == 0:
        ranked = list(range(len(sentences)))
    chosen: list[int] = []
    words = 0
    for index in ranked:
        length = len(sentences[index].split())
        if chosen and words + length > max_words:
            continue
        chosen.append(index)
        words += length
        if words >= max_words:
            break
    chosen.sort()
    out = ""
    for position, index in enumerate(chosen):
        sentence = sentences[index]
        if position == 0:
            out = ("… " if index > 0 else "") + sentence
        else:
            out += (" " if index == chosen[position - 1] + 1 else " … ") + sentence
    if len(out.split()) > max_words:
        out = " ".join(out.split()[:max_words]) + " …"
    elif chosen[-1] < len(sentences) - 1:
        out += " …"
    return out


def _where(hit: Hit) -> str:
    if hit.section and hit.page is None:
        return f", “{hit.section}”"
    if hit.page is not None:
        return f", page {hit.page}"
    return ""


def _positive_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
