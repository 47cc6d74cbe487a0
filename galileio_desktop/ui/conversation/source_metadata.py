"""What a source card says about a source: its document name, its location and a
labelled metadata list ("Page 4", "Section 8", "Relevance 0.59").

Metadata is a free-form map that any writer fills (the web app's indexer, Bedrock
knowledge bases, our local documents, someone with table access). Keys we know get a
label in words and a formatted value, in a fixed order; other keys follow, sorted,
shown as they are. Every value, whatever its type or size, becomes one line of plain
text: booleans as Yes/No, NaN and infinities in words, nested maps and lists as
compact JSON, long text cut (see :mod:`..bidi`).

Pure Python (no Qt), so it is cheap for thousands of sources and testable alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import bidi, links

#: Metadata keys that name the location, in the order :attr:`Source.location` reads them.
LOCATION_KEYS = ("source_location", "source", "url", "location", "file")
#: Metadata keys that name the document itself (shown as the card's heading).
TITLE_KEYS = ("title", "document_title", "x-amz-bedrock-kb-title")
#: Known keys: their label, in the order a card lists them.
KNOWN_LABELS: dict[str, str] = {
    "page": "Page",
    "page_number": "Page",
    "x-amz-bedrock-kb-document-page-number": "Page",
    "section_index": "Section",
    "section": "Heading",
    "score": "Relevance",
    "relevance": "Relevance",
    "distance": "Distance",
    "chunk_index": "Passage",
    "x-amz-bedrock-kb-chunk-id": "Passage id",
    "location_type": "Stored in",
    "x-amz-bedrock-kb-data-source-id": "Data source",
    "x-amz-bedrock-kb-source-uri": "Source address",
    "url": "Link",
    "file": "File",
}
#: The most characters a heading, key or value keeps (the card elides further to fit).
MAX_NAME_CHARS = 300
MAX_KEY_CHARS = 60
MAX_VALUE_CHARS = 300
#: Bidi marks, embeddings, overrides and isolates: shown, never obeyed, in what a card says.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class MetadataRow:
    """One line of a card's metadata list: a label and its formatted value."""

    key: str
    label: str
    value: str


def reveal_controls(text: str) -> str:
    """``text`` with bidi controls shown as ``<U+202E>``: a name or location must read as
    stored, never reordered by what it holds (``report\u202efdp.exe`` is no PDF)."""
    return _BIDI_CONTROLS.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def source_location(metadata: Mapping[str, Any]) -> str:
    """The location of a source, the way :attr:`Source.location` finds it."""
    for name in LOCATION_KEYS:
        value = metadata.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def document_title(metadata: Mapping[str, Any]) -> str:
    """The document's own title when the metadata gives one, else ""."""
    for name in TITLE_KEYS:
        value = metadata.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def location_name(location: str) -> str:
    """The short name of ``location`` (its file name, see :func:`links.location_label`),
    the text itself when it is no URL Python can split (``http://[`` is one)."""
    try:
        name = links.location_label(location)
    except ValueError:
        name = location.strip()
    return name


def document_name(metadata: Mapping[str, Any]) -> str:
    """What a card calls the source: its title, else its location's file name, else ""."""
    name = document_title(metadata) or location_name(source_location(metadata))
    return reveal_controls(bidi.one_line(name, MAX_NAME_CHARS))


def format_number(value: float) -> str:
    """A number as a person reads it: whole numbers without a fraction, others with two
    decimals (more significant digits when smaller), NaN and infinities in words."""
    if math.isnan(value):
        return "not a number"
    if math.isinf(value):
        return "infinite" if value > 0 else "minus infinite"
    magnitude = abs(value)
    if magnitude >= 1e15 or (0 < magnitude < 1e-4):
        return f"{value:.3g}"
    if value == int(value):
        return str(int(value))
    if magnitude < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}" if magnitude < 100 else f"{value:.1f}"


def format_value(value: Any) -> str:
    """Any metadata value as one line of plain text of at most :data:`MAX_VALUE_CHARS`."""
    if isinstance(value, bool):
        text = "Yes" if value else "No"
    elif value is None:
        text = "none"
    elif isinstance(value, int):
        text = str(value) if abs(value) < 10**MAX_VALUE_CHARS else "a number too long to show"
    elif isinstance(value, float):
        text = format_number(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(_is_scalar(item) for item in value):
        text = ", ".join(format_value(item) for item in value)
    else:
        text = _compact_json(value)
    return reveal_controls(bidi.one_line(text, MAX_VALUE_CHARS))


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _compact_json(value: Any) -> str:
    """Nested maps and lists as compact JSON; what JSON cannot hold becomes its text."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)
    except (ValueError, TypeError, RecursionError):
        return "(a value too deeply nested to show)"


def metadata_rows(metadata: Mapping[str, Any]) -> list[MetadataRow]:
    """The metadata a card lists: known keys first (labelled, in their order), then the
    others, sorted, as they are. What the heading and location already show is left out."""
    location = source_location(metadata)
    name_keys = {key for key in TITLE_KEYS if metadata.get(key) == document_title(metadata)}
    shown = {key for key in LOCATION_KEYS if metadata.get(key) == location} | name_keys
    if isinstance(metadata.get("file"), str) and metadata["file"] == location_name(location):
        shown.add("file")
    if metadata.get("x-amz-bedrock-kb-source-uri") == location:
        shown.add("x-amz-bedrock-kb-source-uri")
    if _section_only_repeats_page(metadata):
        shown.add("section")
    rows = [
        MetadataRow(key, label, format_value(metadata[key]))
        for key, label in KNOWN_LABELS.items()
        if key in metadata and key not in shown
    ]
    others = sorted(str(key) for key in metadata if key not in KNOWN_LABELS and key not in shown)
    rows.extend(
        MetadataRow(key, reveal_controls(bidi.one_line(key, MAX_KEY_CHARS)), format_value(metadata[key]))
        for key in others
    )
    return rows


#: Known keys a collapsed card names beside the document, and how, briefly.
SHORT_FORMS = {"page": "p. {}", "x-amz-bedrock-kb-document-page-number": "p. {}", "section_index": "§ {}"}


def short_summary(metadata: Mapping[str, Any]) -> str:
    """Where in the document the passage is, in a few characters ("p. 4 · § 8"): what
    tells apart the one-line cards of one document."""
    parts = []
    for key, form in SHORT_FORMS.items():
        value = metadata.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(form.format(format_value(value)))
    return " · ".join(dict.fromkeys(parts))[:40]


def _section_only_repeats_page(metadata: Mapping[str, Any]) -> bool:
    """Local documents without headings name their section "page N" beside ``page`` N."""
    section, page = metadata.get("section"), metadata.get("page")
    return isinstance(section, str) and page is not None and section.strip().lower() == f"page {page}"
