"""A whole chat, with the sources of every answer, as Markdown, JSON or CSV.

The web app's export leaves the sources out; an analyst citing an answer needs them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timezone

from .errors import InvalidInput
from .schema import Chat, Message

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


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")


def export_chat(chat: Chat, messages: Sequence[Message], fmt: str) -> str:
    """``messages`` oldest first, each carrying its sources (``Message.with_sources``)."""
    if fmt == "json":
        return to_json(chat, messages)
    if fmt == "md":
        return to_markdown(chat, messages)
    if fmt == "csv":
        return to_csv(chat, messages)
    raise InvalidInput(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def to_json(chat: Chat, messages: Sequence[Message]) -> str:
    document = {
        "chat": chat.as_json(),
        "messages": [m.as_json(with_sources=True) for m in messages],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _speaker(message: Message) -> str:
    return "You" if message.type == "human" else "Assistant"


def to_markdown(chat: Chat, messages: Sequence[Message]) -> str:
    lines = [f"# {chat.title}", "", f"_Created {iso_time(chat.created_at)}_", ""]
    for message in messages:
        lines += [f"## {_speaker(message)} ({iso_time(message.created_at)})", "", message.content, ""]
        if message.sources:
            lines += ["**Sources**", ""]
            for number, source in enumerate(message.sources, start=1):
                location = source.location or "(no location)"
                quoted = "\n".join(f"   > {line}" for line in source.page_content.splitlines() or [""])
                lines += [f"{number}. `{location}`", "", quoted, ""]
    return "\n".join(lines).rstrip() + "\n"


def to_csv(chat: Chat, messages: Sequence[Message]) -> str:
    """One row per message, then one row per source of it (type ``source``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for message in messages:
        when = iso_time(message.created_at)
        writer.writerow(
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
            writer.writerow(
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
