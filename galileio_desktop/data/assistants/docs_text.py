"""The passages of a document: Markdown, plain text and PDF cut into quotable pieces.

A passage is a few hundred words at most, cut on headings first, then paragraphs,
then sentences, so each one reads on its own when cited and ranks on what it says
rather than on the length of the file it comes from. Each passage knows where it
is: the heading path (``Install > Linux``) or the PDF page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Suffix -> kind of reader.
SUFFIXES: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".pdf": "pdf",
}
MAX_WORDS = 220

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


class UnreadableDocument(Exception):
    """A document that cannot be read (damaged or encrypted PDF, unknown kind)."""


@dataclass(frozen=True)
class Passage:
    """A quotable piece of a document and where it sits in it."""

    section: str
    text: str
    page: int | None = None


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_passages(path: Path) -> list[Passage]:
    """The passages of a supported file; raises :class:`UnreadableDocument`."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind == "pdf":
        return pdf_passages(path)
    if kind is None:
        raise UnreadableDocument(f"{path.name}: not a Markdown, text or PDF file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: {exc.strerror or exc}") from exc
    text = raw.decode("utf-8-sig", errors="replace")
    if kind == "markdown":
        return markdown_passages(text)
    return list(pack(paragraphs(text), section=""))


def markdown_passages(text: str) -> list[Passage]:
    """Passages under each heading, labelled with the heading path."""
    passages: list[Passage] = []
    trail: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        section = " > ".join(title for _, title in trail)
        passages.extend(pack(paragraphs("\n".join(body)), section=section))
        body.clear()

    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            in_fence = not in_fence
            body.append(line)
            continue
        if in_fence:
            body.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip()
        elif (
            line.strip()
            and index < len(lines)
            and _SETEXT.match(lines[index])
            and not (body and body[-1].strip())
        ):
            level, title = (1 if lines[index].startswith("=") else 2), line.strip()
            index += 1  # the underline
        else:
            body.append(line)
            continue
        flush()
        while trail and trail[-1][0] >= level:
            trail.pop()
        trail.append((level, title))
    flush()
    return passages


def pdf_passages(path: Path) -> list[Passage]:
    """Passages of each page of a PDF, labelled ``page N``."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise UnreadableDocument(f"{path.name}: reading PDF needs the pypdf package") from exc
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(f"{path.name}: the PDF is encrypted")
        passages: list[Passage] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            passages.extend(pack(paragraphs(text), section=f"page {number}", page=number))
        return passages
    except UnreadableDocument:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableDocument(f"{path.name}: the PDF cannot be read ({exc})") from exc


def paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, each on one line."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [" ".join(block.split()) for block in blocks if block.strip()]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def pack(parts: Iterable[str], *, section: str, page: int | None = None) -> Iterator[Passage]:
    """Paragraphs packed greedily into passages of at most ``MAX_WORDS`` words."""
    current: list[str] = []
    count = 0
    for part in _bounded(parts):
        words = len(part.split())
        if current and count + words > MAX_WORDS:
            yield Passage(section, "\n\n".join(current), page)
            current, count = [], 0
        current.append(part)
        count += words
    if current:
        yield Passage(section, "\n\n".join(current), page)


def _bounded(parts: Iterable[str]) -> Iterator[str]:
    """Paragraphs longer than a passage cut into sentence groups (and words, at worst)."""
    for part in parts:
        if len(part.split()) <= MAX_WORDS:
            yield part
            continue
        group: list[str] = []
        count = 0
        for sentence in sentences(part):
            words = sentence.split()
            while len(words) > MAX_WORDS:
                if group:
                    yield " ".join(group)
                    group, count = [], 0
                yield " ".join(words[:MAX_WORDS])
                words = words[MAX_WORDS:]
            if group and count + len(words) > MAX_WORDS:
                yield " ".join(group)
                group, count = [], 0
            if words:
                group.append(" ".join(words))
                count += len(words)
        if group:
            yield " ".join(group)
