"""A chat's delete and the full-text index: queued (entries kept), interrupted by the
network or a disk mid-way, the app started again in between. Search never shows the
chat meanwhile, and the delete ends with no entry and no row of the chat left."""

from __future__ import annotations

import sqlite3
import traceback
from pathlib import Path

import pytest
from test_sync_support import Device, WebApp

from galileio_desktop.data.errors import LocalStorageError
from galileio_desktop.data.mirror import overlay


def chat_with_passages(device: Device, title: str, word: str, answers: int) -> str:
    """A pushed chat of ``answers`` answers with 5 passages each, every one holding ``word``."""
    lib = device.lib
    chat = lib.create_chat(title)
    for n in range(answers):
        lib.add_message(
            chat.chat_id, "ai", f"{word} answer {n}", [{"pageContent": f"{word} passage {n}"}] * 5
        )
    lib.push()
    return chat.chat_id


def entries(path: Path, word: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM search_index WHERE search_index MATCH ?", (word,)).fetchone()[
                0
            ]
        )


def index_matches_rows(path: Path) -> bool:
    """FTS5's own check of the index against the rows that have an entry, and exactly one
    entry for each of them (none for a row gone or hidden for good)."""
    with sqlite3.connect(path) as conn:
        try:
            conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError:
            return False
        indexed = conn.execute("SELECT COUNT(*) FROM search_index_docsize").fetchone()[0]
        rows = conn.execute("SELECT COUNT(*) FROM item WHERE hidden != 1").fetchone()[0]
        return bool(indexed == rows)


def chat_rows(path: Path, chat_id: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM item WHERE chat_id = ?", (chat_id,)).fetchone()[0])


def test_a_queued_delete_survives_a_restart_unsearchable_and_undo_brings_it_back(device: Device) -> None:
    kept = device.lib.create_chat("kept chat")
    wanted = device.lib.add_message(kept.chat_id, "human", "okapi " + "filler words here " * 10)
    doomed = chat_with_passages(device, "doomed chat", "okapi", answers=6)
    op_id = device.lib.delete_chat(doomed, not_before_ms=device.clock.now + 60_000)

    device.restart()
    lib = device.lib
    assert [h.message_id for h in lib.search("okapi", limit=3)] == [wanted.message_id]
    assert lib.search("doomed") == [] and entries(device.path, "passage") == 30
    assert index_matches_rows(device.path)
    assert lib.cancel(op_id) is True
    assert len(lib.search("passage", limit=50)) == 30 and [h.kind for h in lib.search("doomed")] == ["CHAT"]
    assert index_matches_rows(device.path)


def test_a_delete_cut_off_by_the_network_midway_finishes_after_a_restart(device: Device, web: WebApp) -> None:
    """Some batches went, then the network died: the chat stays out of search (its rows
    hidden for good, their entries gone once the pass began), and the next pass, after
    a restart, deletes the rest and forgets every row."""
    kept = device.lib.create_chat("kept chat")
    wanted = device.lib.add_message(kept.chat_id, "human", "okapi " + "filler words here " * 10)
    doomed = chat_with_passages(device, "doomed chat", "okapi", answers=12)
    device.lib.delete_chat(doomed)
    device.faults.fail_after["BatchWriteItem"] = 2
    assert device.lib.push(retry_now=True).error
    assert entries(device.path, "passage") == 0 and index_matches_rows(device.path)
    assert [h.message_id for h in device.lib.search("okapi")] == [wanted.message_id]

    device.faults.clear()
    device.restart()
    assert [h.message_id for h in device.lib.search("okapi")] == [wanted.message_id]
    assert device.lib.push(retry_now=True).error is None
    assert {i["chatId"]["S"] for i in web.items()} == {kept.chat_id}
    assert chat_rows(device.path, doomed) == 0 and index_matches_rows(device.path)


def test_a_hide_the_disk_refuses_leaves_the_entries_to_the_rows_deletion(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass cannot hide the rows for good (a full disk): the chat is still left out
    of search while the delete fails and after a restart, and the entries go with the
    rows once the delete is done."""
    kept = device.lib.create_chat("kept chat")
    wanted = device.lib.add_message(kept.chat_id, "human", "okapi " + "filler words here " * 10)
    doomed = chat_with_passages(device, "doomed chat", "okapi", answers=4)
    device.lib.delete_chat(doomed)
    hide = overlay.refresh_chat

    def full_disk_in_the_pass(conn: sqlite3.Connection, chat_id: str) -> None:
        if any(frame.name == "_hide_chat" for frame in traceback.extract_stack()):
            raise LocalStorageError("The disk is full")
        hide(conn, chat_id)

    monkeypatch.setattr(overlay, "refresh_chat", full_disk_in_the_pass)
    device.faults.down = True
    assert device.lib.push(retry_now=True).error
    assert entries(device.path, "passage") == 20  # never removed: the hide failed
    assert [h.message_id for h in device.lib.search("okapi")] == [wanted.message_id]

    device.faults.clear()
    device.restart()
    assert [h.message_id for h in device.lib.search("okapi")] == [wanted.message_id]
    assert device.lib.push(retry_now=True).error is None
    assert entries(device.path, "passage") == 0 and chat_rows(device.path, doomed) == 0
    assert index_matches_rows(device.path)
    assert {i["chatId"]["S"] for i in web.items()} == {kept.chat_id}
