"""A whole chat, with the sources of every answer, as Markdown, JSON or CSV.

The web app's export leaves the sources out; an analyst citing an answer needs them.

Everything exported was written by someone else and is opened by other programs, so:
times out of range read "unknown date" (see :mod:`.timestamps`); a Markdown heading is
one line whatever the title holds; and a CSV cell that a spreadsheet would run as a
formula is neutralised (see :func:`csv_cell`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidInput, NotFound
from .schema import Chat, Message
from .timestamps import iso_utc

FORMATS = ("md", "json", "csv")
CSV_COLUMNS = (
    "chat_id",
    "chat_title",
    "message_id",
    "created_at",
    "type",
    "text",
    "source_id",
    "source_location",
    "source_content",
    "source_metadata",
)


#: The first characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) treat a
#: cell as a formula: OWASP's CSV-injection list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def iso_time(ms: int) -> str:
    """UTC, to the second (``2023-11-14T22:13:20+00:00``), or "unknown date" out of range."""
    return iso_utc(ms)


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one that starts with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading ``'`` (OWASP's rule against CSV injection),
    so ``=HYPERLINK(...)`` in a message is shown, never run. The quote is visible to
    programs that read the file as plain CSV; that is the accepted price."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


#: Line breaks (and the vertical tab and form feed ``str.splitlines`` also breaks on).
_LINE_BREAKS = dict.fromkeys(map(ord, "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"), " ")


def _one_line(text: str) -> str:
    """Text for a Markdown heading or list item: a line break would end it there and make
    the rest of a title (``"\\n# Fake heading"``) part of the document's structure."""
    return text.translate(_LINE_BREAKS)


def _code_span(text: str) -> str:
    """``text`` as inline code, fenced with more backticks than it holds in a row."""
    text = _one_line(text)
    run = longest = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def export_chat(chat: Chat, messages: Sequence[Message], fmt: str) -> str:
    """``messages`` oldest first, each carrying its sources (``Message.with_sources``)."""
    if fmt == "json":
        return to_json(chat, messages)
    if fmt == "md":
        return to_markdown(chat, messages)
    if fmt == "csv":
        return to_csv(chat, messages)
    raise InvalidInput(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def export_library_chat(library: Any, chat_id: str, fmt: str) -> str:
    """The chat ``chat_id`` of a ChatLibrary, as the user sees it, with every answer's
    sources, in ``fmt``: the one export of the command line and the window."""
    view = library.get_chat(chat_id)
    if view is None:
        raise NotFound(f"Chat {chat_id} does not exist (it may have been deleted).")
    messages = [
        v.message.with_sources(tuple(library.list_sources(v.message.message_id)))
        for v in library.list_messages(chat_id)
    ]
    return export_chat(view.chat, messages, fmt)


def write_library_chat(library: Any, chat_id: str, fmt: str, path: str | Path) -> Path:
    """Write :func:`export_library_chat` to ``path``; a file that cannot be written is an
    expected failure naming it."""
    text = export_library_chat(library, chat_id, fmt)
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidInput(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    return target


def to_json(chat: Chat, messages: Sequence[Message]) -> str:
    document = {
        "chat": chat.as_json(),
        "messages": [m.as_json(with_sources=True) for m in messages],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _speaker(message: Message) -> str:
    return "You" if message.type == "human" else "Assistant"


def to_markdown(chat: Chat, messages: Sequence[Message]) -> str:
    lines = [f"# {_one_line(chat.title)}", "", f"_Created {iso_time(chat.created_at)}_", ""]
    for message in messages:
        lines += [f"## {_speaker(message)} ({iso_time(message.created_at)})", "", message.content, ""]
        if message.sources:
            lines += ["**Sources**", ""]
            for number, source in enumerate(message.sources, start=1):
                location = source.location or "(no location)"
                quoted = "\n".join(f"   > {line}" for line in source.page_content.splitlines() or [""])
                lines += [f"{number}. {_code_span(location)}", "", quoted, ""]
    return "\n".join(lines).rstrip() + "\n"


def _csv_writer(buffer: io.StringIO) -> Any:
    """The one CSV dialect of every export: minimal quoting, CRLF line ends (RFC 4180)."""
    return csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def table_to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table (an answer's Markdown table, say) as CSV: the header row, then ``rows``,
    every cell of both through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = _csv_writer(buffer)
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()


def write_table_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    """Write :func:`table_to_csv` to ``path`` through a temporary file beside it, so a full
    disk or an interrupted write never leaves half a file where a whole one was (the file
    is its owner's only, 0600, like every file the app writes); a file that cannot be
    written is an expected failure naming it."""
    target = Path(path)
    text = table_to_csv(header, rows)
    partial: str | None = None
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
    except OSError as exc:
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        raise InvalidInput(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    return target


def to_csv(chat: Chat, messages: Sequence[Message]) -> str:
    """One row per message, then one row per source of it (type ``source``); every cell
    through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = _csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)

    def row(cells: list[str]) -> None:
        writer.writerow([csv_cell(cell) for cell in cells])

    for message in messages:
        when = iso_time(message.created_at)
        row(
            [
                chat.chat_id,
                chat.title,
                message.message_id,
                when,
                message.type,
                message.content,
                "",
                "",
                "",
                "",
            ]
        )
        for source in message.sources:
            row(
                [
                    chat.chat_id,
                    chat.title,
                    message.message_id,
                    iso_time(source.created_at or message.created_at),
                    "source",
                    "",
                    source.source_id,
                    source.location,
                    source.page_content,
                    json.dumps(dict(source.metadata), ensure_ascii=False, sort_keys=True),
                ]
            )
    return buffer.getvalue()
