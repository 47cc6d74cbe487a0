"""The background workers: libraries made in their threads, results by request id, no boto3 on the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from moto import mock_aws
from ui_helpers import GuiThreadGuard, networked_factory, offline_factory, seed_library

from galileio_desktop.ui.worker_client import WorkerClient

pytestmark = pytest.mark.gui

TABLE = "galileo-ui-worker"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "mirror.sqlite3"


@pytest.fixture
def client(qtbot, mirror: Path):
    seed_library(mirror, chats=3)
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    yield client
    client.shutdown()


def test_libraries_are_made_in_their_own_threads(client: WorkerClient) -> None:
    gui = threading.get_ident()
    assert client.worker.thread_ident not in (None, gui)
    assert client.sync_worker.thread_ident not in (None, gui)
    assert client.worker.thread_ident != client.sync_worker.thread_ident


def test_results_carry_the_request_id(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_chats_loaded, timeout=5000) as blocker:
        request_id = client.load_chats()
    assert blocker.args[0] == request_id
    views = blocker.args[1]
    assert [v.chat.title for v in views] == ["Seeded chat 2", "Seeded chat 1", "Seeded chat 0"]
    chat_id = views[0].chat.chat_id
    with qtbot.waitSignal(client.sig_messages_loaded, timeout=5000) as blocker:
        request_id = client.load_messages(chat_id, 50)
    rid, cid, messages, total, older = blocker.args
    assert (rid, cid, total, older) == (request_id, chat_id, 2, False)
    answer = messages[-1].message
    assert answer.type == "ai" and len(answer.sources) == 2  # the pane can show "2 sources"
    with qtbot.waitSignal(client.sig_sources_loaded, timeout=5000) as blocker:
        request_id = client.load_sources(answer.message_id)
    assert blocker.args[0] == request_id
    assert [s.page_content for s in blocker.args[2]] == ["Passage 2.0", "Passage 2.1"]


def test_writes_report_the_changed_chat_and_the_queue(qtbot, client: WorkerClient) -> None:
    queues: list[object] = []
    client.sig_queue_changed.connect(queues.append)
    with qtbot.waitSignal(client.sig_chat_updated, timeout=5000) as blocker:
        request_id = client.create_chat()
    assert blocker.args[0] == request_id
    view = blocker.args[1]
    assert view.chat.title == "New chat" and view.pending
    # 3 seeded chats with 2 messages each (9 operations), and this one.
    qtbot.waitUntil(lambda: bool(queues) and queues[-1].pending == 10, timeout=5000)
    with qtbot.waitSignal(client.sig_chat_updated, timeout=5000) as blocker:
        client.rename_chat(view.chat.chat_id, "Renamed")
    assert blocker.args[1].chat.title == "Renamed"


def test_delete_then_undo_before_it_is_sent(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_chats_loaded, timeout=5000) as blocker:
        client.load_chats()
    chat_id = blocker.args[1][0].chat.chat_id
    with qtbot.waitSignal(client.sig_delete_scheduled, timeout=5000) as blocker:
        client.delete_chat(chat_id, not_before_ms=2**42)
    op_id = blocker.args[2]
    with qtbot.waitSignal(client.sig_chats_loaded, timeout=5000) as blocker:
        client.load_chats()
    assert chat_id not in [v.chat.chat_id for v in blocker.args[1]]
    with qtbot.waitSignal(client.sig_op_cancelled, timeout=5000) as blocker:
        client.cancel_op(op_id)
    assert blocker.args[1:] == [op_id, True]
    with qtbot.waitSignal(client.sig_chats_loaded, timeout=5000) as blocker:
        client.load_chats()
    assert chat_id in [v.chat.chat_id for v in blocker.args[1]]


def test_expected_failures_are_not_bugs(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_failed, timeout=5000) as blocker:
        request_id = client.rename_chat("no-such-chat", "Title")
    assert blocker.args[0] == request_id
    assert "does not exist" in blocker.args[1]
    assert blocker.args[2] is False


def test_offline_library_reports_offline_not_a_crash(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_sync_done, timeout=5000) as blocker:
        client.sync_now()
    assert blocker.args[1] is None  # no result: the sync could not run
    with qtbot.waitSignal(client.sig_status_changed, timeout=5000) as blocker:
        client.load_status()
    status = blocker.args[0]
    assert status.online is False and "offline" in (status.error or "").lower()
    assert status.library.pending > 0


def test_shutdown_runs_queued_writes_first(qtbot, mirror: Path) -> None:
    from galileio_desktop.data.sync import ChatLibrary

    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    client.start()
    for n in range(5):
        client.create_chat(f"Queued {n}")
    client.shutdown()
    assert not client.running
    with ChatLibrary(mirror, "user-1", None) as library:
        assert sorted(v.chat.title for v in library.list_chats()) == [f"Queued {n}" for n in range(5)]


def test_sync_runs_in_the_sync_thread_never_the_gui_thread(qtbot, mirror: Path) -> None:
    guard = GuiThreadGuard()
    with mock_aws():
        import boto3

        from galileio_desktop.data.table_admin import create_table

        create_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        seed_library(mirror, chats=2)
        client = WorkerClient(networked_factory(mirror, None, TABLE, guard), periodic_sync=False)
        client.start()
        try:
            with qtbot.waitSignal(client.sig_sync_done, timeout=20_000) as blocker:
                client.sync_now()
            result = blocker.args[1]
            assert result is not None and result.push.pushed >= 2
            with qtbot.waitSignal(client.sig_status_changed, timeout=5000) as blocker:
                client.load_status()
            assert blocker.args[0].online is True
            assert blocker.args[0].library.pending == 0
        finally:
            client.shutdown()
        items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]
    assert guard.requests > 0 and guard.violations == []
    assert "MainThread" not in guard.threads
    assert len(items) == 2 + 4 + 4  # chats, messages, sources


def test_guard_catches_a_request_from_the_gui_thread() -> None:
    """The guard itself must be able to fail, or the test above proves nothing."""
    guard = GuiThreadGuard()
    with mock_aws():
        import boto3

        client = guard.install(boto3.client("dynamodb", region_name="us-east-1"))
        with pytest.raises(AssertionError, match="GUI thread"):
            client.list_tables()
    assert guard.violations


def test_an_answer_the_server_stored_replaces_our_copy_of_the_question(qtbot, mirror: Path) -> None:
    """The Galileo endpoint writes question and answer itself: keep its items, drop our duplicate."""
    from galileio_desktop.data.assistants.base import Answer
    from galileio_desktop.data.schema import Message, make_sources, new_id, now_ms
    from galileio_desktop.data.sync import ChatLibrary
    from galileio_desktop.ui.worker import Worker

    with ChatLibrary(mirror, "user-1", None) as library:
        chat = library.create_chat("Endpoint chat")
        local_question = library.add_message(chat.chat_id, "human", "What does the endpoint say?")
    created = now_ms()
    question = Message(new_id(), chat.chat_id, "user-1", "human", "What does the endpoint say?", created)
    answer_id = new_id()
    sources = make_sources(
        "user-1", chat.chat_id, answer_id, [{"pageContent": "p", "metadata": {}}], created + 1
    )
    answer = Message(answer_id, chat.chat_id, "user-1", "ai", "It says hello.", created + 1).with_sources(
        sources
    )
    items = [question.to_item(), answer.to_item(), *(s.to_item() for s in sources)]

    worker = Worker(offline_factory(mirror))  # driven directly: no thread, no network
    worker.start()
    try:
        with qtbot.waitSignal(worker.sig_answer_done, timeout=5000) as done:
            worker.store_answer(
                7,
                chat.chat_id,
                Answer("It says hello.", stored_remotely=True, remote_items=items),
                local_question.message_id,
            )
        assert done.args[0] == 7 and done.args[2].message.message_id == answer_id
        texts = [
            (v.message.message_id, v.message.content) for v in worker.library.list_messages(chat.chat_id)
        ]
        assert texts == [(question.message_id, question.content), (answer_id, "It says hello.")]
        assert len(worker.library.list_sources(answer_id)) == 1
    finally:
        worker.library.close()
