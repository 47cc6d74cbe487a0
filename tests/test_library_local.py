"""The library without a network: writes show at once, survive restarts, page by index."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from galileio_desktop.data.errors import EndpointUnreachable, InvalidInput, ItemTooLarge, NotFound
from galileio_desktop.data.mirror import items
from galileio_desktop.data.schema import Chat, Message, make_sources
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"


@pytest.fixture
def library(tmp_path: Path) -> ChatLibrary:
    lib = ChatLibrary(tmp_path / "mirror.sqlite3", USER)
    yield lib
    lib.close()


def test_offline_writes_show_at_once_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    lib = ChatLibrary(path, USER)
    chat = lib.create_chat("Travel")
    lib.add_message(chat.chat_id, "human", "Where to?")
    answer = lib.add_message(chat.chat_id, "ai", "Lisbon", [{"pageContent": "guide", "metadata": {"p": 1}}])
    lib.rename_chat(chat.chat_id, "Travel 2026")
    lib.close()

    lib = ChatLibrary(path, USER)
    try:
        [view] = lib.list_chats()
        assert view.chat.title == "Travel 2026" and view.pending and view.unsent == 2
        messages = lib.list_messages(chat.chat_id)
        assert [(m.message.type, m.message.content, m.pending) for m in messages] == [
            ("human", "Where to?", True),
            ("ai", "Lisbon", True),
        ]
        assert [s.page_content for s in lib.list_sources(answer.message_id)] == ["guide"]
        status = lib.status()
        assert [op.kind for op in status.operations] == [
            "create_chat",
            "put_message",
            "put_message",
            "rename_chat",
        ]
        assert status.pending == 4 and status.parked == 0
    finally:
        lib.close()


def test_messages_of_a_chat_keep_their_order_even_within_one_millisecond(tmp_path: Path) -> None:
    lib = ChatLibrary(tmp_path / "m.sqlite3", USER, clock=lambda: 5_000)
    try:
        chat = lib.create_chat()
        written = [lib.add_message(chat.chat_id, "human" if i % 2 == 0 else "ai", f"m{i}") for i in range(6)]
        assert [m.created_at for m in written] == [5_000, 5_001, 5_002, 5_003, 5_004, 5_005]
        assert [v.message.content for v in lib.list_messages(chat.chat_id)] == [f"m{i}" for i in range(6)]
    finally:
        lib.close()


def big_synced_chat(lib: ChatLibrary, count: int) -> str:
    chat_item = {
        "PK": {"S": USER},
        "SK": {"S": "CHAT#big"},
        "GSI1PK": {"S": f"{USER}#CHAT"},
        "GSI1SK": {"S": "1"},
        "chatId": {"S": "big"},
        "title": {"S": "Big"},
        "createdAt": {"N": "1"},
        "userId": {"S": USER},
        "entity": {"S": "CHAT"},
    }
    messages = [
        Message(f"m{i:05d}", "big", USER, "human", f"message {i}", 10_000 + i).to_item() for i in range(count)
    ]
    lib.store_remote_items([chat_item, *messages])
    return "big"


def test_pages_of_a_big_chat_come_from_the_index(library: ChatLibrary) -> None:
    chat_id = big_synced_chat(library, 10_000)
    assert library.count_messages(chat_id) == 10_000
    newest = library.list_messages(chat_id, limit=50)
    assert [v.message.content for v in newest] == [f"message {i}" for i in range(9_950, 10_000)]
    older = library.list_messages(chat_id, limit=50, before=newest[0].message.created_at)
    assert [v.message.content for v in older] == [f"message {i}" for i in range(9_900, 9_950)]
    first = library.list_messages(chat_id, limit=50, before=10_003)
    assert [v.message.content for v in first] == ["message 0", "message 1", "message 2"]
    # the page query reads the chat's index range, never the whole table
    conn = library._mirror.conn
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(local, remote) FROM item WHERE chat_id = ? AND kind = 'MESSAGE' "
            "AND hidden = 0 AND created_at < ? ORDER BY created_at DESC, id DESC LIMIT 50",
            ("big", 20_000),
        )
    )
    assert "USING INDEX item_chat" in plan and "TEMP B-TREE" not in plan


def test_a_page_of_answers_reads_each_one_by_its_message_id(library: ChatLibrary) -> None:
    """A page with sources asks for each answer by its id: through the message index, never
    a walk over every visible message (that made a page of 200 answers a third of a second
    in a chat of 10,000)."""
    answers = [
        Message(f"a{i:05d}", "big", USER, "ai", f"answer {i}", 10_000 + i).to_item() for i in range(10_000)
    ]
    library.store_remote_items([Chat("big", USER, "Big", 1).to_item(), *answers])
    conn = library._mirror.conn
    plan = " ".join(
        str(row[-1])
        for row in conn.execute("EXPLAIN QUERY PLAN " + items._BY_MESSAGE + " AND kind = 'SOURCE'", ("m",))
    )
    assert "USING INDEX item_message" in plan
    assert items.visible_message(conn, "a00042") is not None and items.visible_message(conn, "nope") is None
    started = time.perf_counter()
    page = library.list_messages("big", limit=2_000, with_sources=True)
    assert len(page) == 2_000 and time.perf_counter() - started < 1.0


def test_delete_with_undo_window_hides_now_and_cancel_brings_it_back(library: ChatLibrary) -> None:
    chat = library.create_chat("keep me")
    message = library.add_message(chat.chat_id, "human", "needle in the hay")
    op_id = library.delete_chat(chat.chat_id, not_before_ms=library._clock() + 60_000)
    assert library.list_chats() == [] and library.get_chat(chat.chat_id) is None
    assert library.list_messages(chat.chat_id) == [] and library.search("needle") == []
    with pytest.raises(NotFound):
        library.add_message(chat.chat_id, "human", "too late")
    [delete] = [op for op in library.status().operations if op.kind == "delete_chat"]
    assert delete.not_before is not None and delete.cancellable
    assert library.cancel(op_id) is True
    assert [v.chat.title for v in library.list_chats()] == ["keep me"]
    assert [v.message.message_id for v in library.list_messages(chat.chat_id)] == [message.message_id]
    assert [h.message_id for h in library.search("needle")] == [message.message_id]
    assert library.cancel(op_id) is False  # gone already


def test_cancelling_a_create_takes_what_depends_on_it(library: ChatLibrary) -> None:
    chat = library.create_chat("draft")
    library.add_message(chat.chat_id, "human", "hello")
    library.rename_chat(chat.chat_id, "draft 2")
    create = library.status().operations[0]
    assert library.cancel(create.op_id) is True
    assert library.list_chats() == [] and library.status().pending == 0


def test_two_renames_before_a_push_are_one_operation(library: ChatLibrary) -> None:
    chat = library.create_chat("a")
    library.rename_chat(chat.chat_id, "b")
    library.rename_chat(chat.chat_id, "c")
    kinds = [op.kind for op in library.status().operations]
    assert kinds == ["create_chat", "rename_chat"]
    assert library.get_chat(chat.chat_id).chat.title == "c"


def test_refused_writes_change_nothing(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    with pytest.raises(InvalidInput):
        library.rename_chat(chat.chat_id, "   ")
    with pytest.raises(InvalidInput):
        library.add_message(chat.chat_id, "robot", "x")
    with pytest.raises(ItemTooLarge):
        library.add_message(chat.chat_id, "human", "x" * 500_000)
    with pytest.raises(ItemTooLarge):
        library.add_message(chat.chat_id, "ai", "ok", [{"pageContent": "y" * 500_000, "metadata": {}}])
    with pytest.raises(InvalidInput):
        library.add_message(chat.chat_id, "ai", "ok", extra={"chatId": "elsewhere"})
    with pytest.raises(NotFound):
        library.rename_chat("no-such-chat", "x")
    with pytest.raises(NotFound):
        library.delete_message(chat.chat_id, "no-such-message")
    assert library.count_messages(chat.chat_id) == 0
    assert [op.kind for op in library.status().operations] == ["create_chat"]


def test_a_stopped_answer_is_marked(library: ChatLibrary) -> None:
    chat = library.create_chat("t")
    library.add_message(chat.chat_id, "ai", "partial answ", extra={"stopped": True})
    [view] = library.list_messages(chat.chat_id)
    assert view.stopped and view.message.extra["stopped"] == {"BOOL": True}


def test_a_message_the_server_wrote_is_mirrored_without_queueing(library: ChatLibrary) -> None:
    chat_id = big_synced_chat(library, 1)
    message = Message("srv-1", chat_id, USER, "ai", "from the endpoint", 50_000)
    message = message.with_sources(
        make_sources(USER, chat_id, "srv-1", [{"pageContent": "p", "metadata": {}}], 50_000)
    )
    library.store_remote_message(message)
    assert library.status().pending == 0
    last = library.list_messages(chat_id)[-1]
    assert last.message.content == "from the endpoint" and not last.pending
    assert [s.page_content for s in library.list_sources("srv-1")] == ["p"]


def test_without_a_connection_the_network_calls_say_offline(library: ChatLibrary) -> None:
    library.create_chat("t")
    for call in (library.push, library.pull, library.sync):
        with pytest.raises(EndpointUnreachable, match="offline"):
            call()
    assert library.status().pending == 1


def test_reads_and_writes_from_several_threads(library: ChatLibrary) -> None:
    chat = library.create_chat("busy")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                library.add_message(chat.chat_id, "human", f"t{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(50):
                library.list_messages(chat.chat_id, limit=10)
                library.list_chats()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)] + [
        threading.Thread(target=reader)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert library.count_messages(chat.chat_id) == 75
    times = [v.message.created_at for v in library.list_messages(chat.chat_id)]
    assert times == sorted(times) and len(set(times)) == 75


def test_a_page_of_chats_is_that_slice_of_the_whole_list(tmp_path: Path) -> None:
    """``list_chats(limit, offset)`` reads only a page, yet gives exactly that slice of the
    full list: order by activity, chats with unsent messages and a chat deleted elsewhere."""
    now = [10_000]
    lib = ChatLibrary(tmp_path / "m.sqlite3", USER, clock=lambda: now[0])
    try:
        chats = []
        for i in range(8):
            now[0] += 1_000
            chats.append(lib.create_chat(f"chat {i}"))
        for i in (1, 5, 3):  # newer messages move older chats up (and leave them unsent)
            now[0] += 1_000
            lib.add_message(chats[i].chat_id, "human", "bump")
        gone = Chat("gone-chat", USER, "deleted elsewhere", 500)
        lib.store_remote_items([gone.to_item()])
        now[0] += 1_000
        lib.add_message(gone.chat_id, "human", "written here, never sent")
        with lib._mirror.write() as conn:  # the server proved it gone: a ghost keeps the message
            items.forget_remote(conn, [str(gone.to_item()["SK"]["S"])])

        full = [v.chat.chat_id for v in lib.list_chats()]
        assert full[:4] == [gone.chat_id, chats[3].chat_id, chats[5].chat_id, chats[1].chat_id]
        assert len(full) == 9
        for limit, offset in ((1, 0), (3, 0), (4, 2), (2, 7), (20, 0), (5, 8), (0, 0)):
            page = lib.list_chats(limit=limit, offset=offset)
            assert [v.chat.chat_id for v in page] == full[offset : offset + limit], (limit, offset)
        assert [v.chat.chat_id for v in lib.list_chats(offset=6)] == full[6:]
        [first] = lib.list_chats(limit=1)
        assert first.parked_error and first.unsent == 1
        second = lib.list_chats(limit=2)[1]
        assert second.chat.title == "chat 3" and not second.parked_error and second.unsent == 1
    finally:
        lib.close()
