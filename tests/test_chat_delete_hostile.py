"""A chat's delete under hostile conditions: search while it is queued, the index
lagging behind the mirror, a bug while its rows are hidden."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from test_sync_support import Device, WebApp, by_key

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.errors import LocalStorageError
from galileio_desktop.data.mirror import items, overlay


def test_a_queued_chat_delete_does_not_crowd_other_chats_out_of_search(device: Device) -> None:
    """Until the delete is sent (offline: for days), the many sources of a chat whose
    delete is queued must not take the room of the hits that are shown."""
    lib = device.lib
    kept = lib.create_chat("kept chat")
    wanted = lib.add_message(kept.chat_id, "human", "okapi " + "filler words here " * 10)
    doomed = lib.create_chat("doomed chat")
    lib.add_message(doomed.chat_id, "ai", "answer", [{"pageContent": "okapi"}] * 40)
    lib.push()

    lib.delete_chat(doomed.chat_id, not_before_ms=device.clock.now + 60_000)
    assert [h.message_id for h in lib.search("okapi", limit=5)] == [wanted.message_id]


def test_a_chat_delete_deletes_the_mirror_messages_the_index_does_not_list_yet(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GSI1 lags (absence from it never proves a deletion): a message the mirror holds,
    whose sources it never read, must not be left on the server with its sources when
    the chat goes."""
    lib = device.lib
    chat = lib.create_chat("chat")
    lib.push()
    web.add_message(chat.chat_id, "m1", "ai", "answer", ["passage a", "passage b"])
    lib.sync()  # the message is pulled; its sources are not known to the mirror
    assert any(k.startswith("MESSAGE#") for k in by_key(lib.remote_snapshot()))
    monkeypatch.setattr(ChatGateway, "list_message_keys", lambda self, chat_id: [])
    lib.delete_chat(chat.chat_id)
    assert lib.push(retry_now=True).error is None
    assert web.items() == []


def _hide_with_a_bug(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The next hide of a chat's rows meets a bug; returns the names of the threads of
    every hide from now on."""
    hide = overlay.refresh_chat
    threads: list[str] = []

    def hide_with_a_bug(conn: sqlite3.Connection, chat_id: str) -> None:
        threads.append(threading.current_thread().name)
        if len(threads) == 1:
            raise RuntimeError("a bug while hiding")
        hide(conn, chat_id)

    monkeypatch.setattr(overlay, "refresh_chat", hide_with_a_bug)
    return threads


def test_a_bug_hiding_a_deleted_chat_is_raised_once_the_delete_is_done(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of a chat being deleted are hidden on a thread of their own, beside the
    delete's requests. A bug there must neither die with that thread (a traceback on
    stderr, nobody told) nor stop the delete: the delete is sent, the mirror forgets the
    chat, and then the bug is raised, for the worker to report as it reports any bug."""
    lib = device.lib
    chat = lib.create_chat("doomed")
    for i in range(3):
        lib.add_message(chat.chat_id, "ai", f"answer {i}", [{"pageContent": f"passage {i}"}])
    lib.push()
    lib.delete_chat(chat.chat_id)
    threads = _hide_with_a_bug(monkeypatch)
    with pytest.raises(RuntimeError, match="a bug while hiding"):
        lib.push()
    assert threads[0] == "hide-chat"
    assert web.items() == []  # the delete was sent, whole
    assert lib.list_chats() == [] and lib.remote_snapshot() == []
    assert lib.status().pending == 0  # done: nothing left to send again
    again = lib.push()
    assert (again.pushed, again.error, again.requests) == (0, None, 0)


def test_a_bug_hiding_a_chat_whose_delete_failed_is_logged_and_the_failure_kept(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline, the delete fails while its rows are hidden: the network's failure is what
    the pass says (offline, a backoff), the bug is logged with its traceback, and the
    delete goes out whole once the network is back."""
    lib = device.lib
    chat = lib.create_chat("doomed")
    lib.add_message(chat.chat_id, "human", "question")
    lib.push()
    lib.delete_chat(chat.chat_id)
    threads = _hide_with_a_bug(monkeypatch)
    device.faults.down = True
    failed = lib.push()
    assert failed.error and "offline" in failed.error and failed.pending == 1
    assert threads == ["hide-chat"]
    (bug,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert bug.exc_info and "a bug while hiding" in str(bug.exc_info[1])
    assert lib.list_chats() == []  # hidden since it was queued

    device.faults.down = False
    assert lib.push(retry_now=True).error is None
    assert web.items() == [] and lib.remote_snapshot() == [] and lib.status().pending == 0


def test_a_bug_hiding_a_deleted_chat_is_logged_when_the_mirror_then_refuses_to_forget_it(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The delete is sent, then a full disk refuses the mirror's forgetting of the chat:
    the bug met while hiding is not lost with the disk's failure (logged with its
    traceback)."""
    lib = device.lib
    chat = lib.create_chat("doomed")
    lib.add_message(chat.chat_id, "human", "question")
    lib.push()
    lib.delete_chat(chat.chat_id)
    _hide_with_a_bug(monkeypatch)

    def disk_full(conn: sqlite3.Connection, chat_id: str) -> int:
        raise LocalStorageError("The disk is full.")

    monkeypatch.setattr(items, "forget_chat_items", disk_full)
    lib.push()
    assert web.items() == []  # sent all the same
    (bug,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert bug.exc_info and "a bug while hiding" in str(bug.exc_info[1])
