"""The background workers: one library made in its thread and shared, operations that
carry their own outcome, one error path, no boto3 on the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from test_ask_flow import ScriptedBackend
from ui_helpers import GuiThreadGuard, networked_factory, offline_factory, run_op, seed_library

from galileio_desktop.ui.conversation.message_ops import AskUpdate, ask_op, page_op
from galileio_desktop.ui.sidebar.chat_ops import all_chats_op, create_chat_op
from galileio_desktop.ui.workers.client import WorkerClient
from galileio_desktop.ui.workers.operation import LibraryOp, OpFailure

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
    qtbot.waitUntil(lambda: client.background_started, timeout=10_000)
    yield client
    client.shutdown()


def test_one_library_made_in_its_thread_serves_every_worker(qtbot, client: WorkerClient) -> None:
    gui = threading.get_ident()
    qtbot.waitUntil(lambda: client.sync_worker.thread_ident is not None, timeout=5000)
    assert client.worker.thread_ident not in (None, gui)
    assert client.sync_worker.thread_ident not in (None, gui, client.worker.thread_ident)
    library = client.worker.library
    assert client.sync_worker.library is library and client.answerer.library is library


def test_the_queue_status_is_read_once_the_background_starts(qtbot, mirror: Path) -> None:
    """The library worker reads no queue status as it opens the library (that read and
    its classes would come before the first paint); the sync worker's first status,
    once the background starts, carries the counts."""
    seed_library(mirror, chats=1)  # 3 operations waiting
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    queues: list[Any] = []
    statuses: list[Any] = []
    client.events.sig_queue_changed.connect(queues.append)
    client.events.sig_status_changed.connect(statuses.append)
    try:
        with qtbot.waitSignal(client.sig_started, timeout=10_000):
            client.start(defer_background=True)
        run_op(qtbot, all_chats_op(), client.local)  # the library worker is past its start
        qtbot.wait(50)
        assert queues == [] and statuses == []
        client.start_background()
        qtbot.waitUntil(lambda: bool(statuses), timeout=5000)
        assert statuses[0].library is not None and statuses[0].library.pending == 3
    finally:
        client.shutdown()


def test_operations_bring_their_results_back(qtbot, client: WorkerClient) -> None:
    views = run_op(qtbot, all_chats_op(), client.local)
    assert [v.chat.title for v in views] == ["Seeded chat 2", "Seeded chat 1", "Seeded chat 0"]
    chat_id = views[0].chat.chat_id
    page = run_op(qtbot, page_op(chat_id), client.local)
    assert (page.chat_id, page.total) == (chat_id, 2)
    answer = page.views[-1].message
    assert answer.type == "ai" and len(answer.sources) == 2  # the pane can show "2 sources"
    sources = run_op(qtbot, LibraryOp(lambda lib: lib.list_sources(answer.message_id)), client.local)
    assert [s.page_content for s in sources] == ["Passage 2.0", "Passage 2.1"]


def test_writes_report_the_changed_chat_and_the_queue(qtbot, client: WorkerClient) -> None:
    queues: list[Any] = []
    client.events.sig_queue_changed.connect(queues.append)
    view = run_op(qtbot, create_chat_op(), client.local)
    assert view.chat.title == "New chat" and view.pending
    # 3 seeded chats with 2 messages each (9 operations), and this one.
    qtbot.waitUntil(lambda: bool(queues) and queues[-1].pending == 10, timeout=5000)
    chat_id = view.chat.chat_id
    with qtbot.waitSignal(client.events.sig_chat_changed, timeout=5000) as changed:
        LibraryOp(lambda lib: lib.rename_chat(chat_id, "Renamed")).touching(chat_id).run_in(client.local)
    assert changed.args[0] == chat_id and changed.args[1].chat.title == "Renamed"


def test_delete_then_undo_before_it_is_sent(qtbot, client: WorkerClient) -> None:
    chat_id = run_op(qtbot, all_chats_op(), client.local)[0].chat.chat_id
    op_id = run_op(qtbot, LibraryOp(lambda lib: lib.delete_chat(chat_id, not_before_ms=2**42)), client.local)
    assert chat_id not in [v.chat.chat_id for v in run_op(qtbot, all_chats_op(), client.local)]
    assert run_op(qtbot, LibraryOp(lambda lib: lib.cancel(op_id)), client.local) is True
    assert chat_id in [v.chat.chat_id for v in run_op(qtbot, all_chats_op(), client.local)]


def test_a_failure_nobody_handles_goes_to_the_default_display(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_failed, timeout=5000) as blocker:
        LibraryOp(lambda lib: lib.rename_chat("no-such-chat", "Title")).run_in(client.local)
    failure = blocker.args[0]
    assert isinstance(failure, OpFailure) and "does not exist" in failure.message
    assert failure.is_bug is False and failure.error is not None


def test_a_handled_failure_is_not_shown_twice(qtbot, client: WorkerClient) -> None:
    shown: list[Any] = []
    client.sig_failed.connect(shown.append)
    handled: list[OpFailure] = []
    op = LibraryOp(lambda lib: lib.rename_chat("no-such-chat", "Title")).failure(handled.append)
    op.run_in(client.local)
    qtbot.waitUntil(lambda: bool(handled), timeout=5000)
    run_op(qtbot, all_chats_op(), client.local)  # everything before it has been delivered
    assert shown == [] and "does not exist" in handled[0].message


def test_a_bug_in_the_work_or_in_a_handler_is_shown_as_a_bug(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.sig_failed, timeout=5000) as blocker:
        LibraryOp(lambda lib: 1 / 0, name="divide").run_in(client.local)
    assert blocker.args[0].is_bug and "ZeroDivisionError" in blocker.args[0].message
    with qtbot.waitSignal(client.sig_failed, timeout=5000) as blocker:
        LibraryOp(lambda lib: None).success(lambda _r: [][1]).run_in(client.local)
    assert blocker.args[0].is_bug and "IndexError" in blocker.args[0].message


def test_a_cancelled_operation_never_calls_its_handlers(qtbot, client: WorkerClient) -> None:
    called: list[object] = []
    started, gate = threading.Event(), threading.Event()
    slow = LibraryOp(lambda lib: (started.set(), gate.wait(5), lib.list_chats())[-1]).success(called.append)
    slow.run_in(client.local)
    assert started.wait(5)
    slow.cancel()  # while it runs: its result must not reach the handler
    gate.set()
    run_op(qtbot, all_chats_op(), client.local)  # queued after it: it has been delivered
    assert called == [] and slow.done
    skipped = LibraryOp(lambda lib: called.append("ran"))
    skipped.cancel()  # cancelled before it ran: it never runs
    skipped.run_in(client.local)
    run_op(qtbot, all_chats_op(), client.local)
    assert called == [] and skipped.done  # reported finished, never run


def test_a_handler_attached_after_the_outcome_still_gets_it(qtbot, client: WorkerClient) -> None:
    op = all_chats_op().run_in(client.local)
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    got: list[Any] = []
    op.success(got.append)
    assert len(got) == 1 and len(got[0]) == 3


def test_offline_library_reports_offline_not_a_crash(qtbot, client: WorkerClient) -> None:
    with qtbot.waitSignal(client.events.sig_sync_done, timeout=5000) as blocker:
        client.sync_now()
    assert blocker.args[0] is None  # no result: the sync could not run
    with qtbot.waitSignal(client.events.sig_status_changed, timeout=5000) as blocker:
        client.request_status()
    status = blocker.args[0]
    assert status.online is False and "offline" in (status.error or "").lower()
    assert status.library.pending > 0


def test_shutdown_runs_queued_writes_first(qtbot, mirror: Path) -> None:
    from galileio_desktop.data.sync import ChatLibrary

    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    client.start()
    for n in range(5):
        LibraryOp(lambda lib, n=n: lib.create_chat(f"Queued {n}")).run_in(client.local)
    client.shutdown()
    assert not client.running
    with ChatLibrary(mirror, "user-1", None) as library:
        assert sorted(v.chat.title for v in library.list_chats()) == [f"Queued {n}" for n in range(5)]


def test_sync_runs_in_the_sync_thread_never_the_gui_thread(qtbot, mirror: Path) -> None:
    guard = GuiThreadGuard()
    with mock_aws():
        import boto3

        from galileio_desktop.data.dynamo.table_admin import create_table

        create_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        seed_library(mirror, chats=2)
        client = WorkerClient(networked_factory(mirror, None, TABLE, guard), periodic_sync=False)
        client.start()
        try:
            with qtbot.waitSignal(client.events.sig_sync_done, timeout=20_000) as blocker:
                client.sync_now()
            result = blocker.args[0]
            assert result is not None and result.push.pushed >= 2
            with qtbot.waitSignal(client.events.sig_status_changed, timeout=5000) as blocker:
                client.request_status()
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


def test_an_answer_the_server_stored_is_mirrored_and_nothing_is_written_twice(qtbot, mirror: Path) -> None:
    """The Galileo endpoint writes question and answer itself: the window keeps its items and
    writes neither (the same ask flow as the command line's)."""
    from galileio_desktop.data.schema import Message, make_sources, new_id, now_ms
    from galileio_desktop.data.sync import ChatLibrary

    with ChatLibrary(mirror, "user-1", None) as library:
        chat = library.create_chat("Endpoint chat")
    created = now_ms()
    question = Message(new_id(), chat.chat_id, "user-1", "human", "What does the endpoint say?", created)
    answer_id = new_id()
    sources = make_sources(
        "user-1", chat.chat_id, answer_id, [{"pageContent": "p", "metadata": {}}], created + 1
    )
    answer = Message(answer_id, chat.chat_id, "user-1", "ai", "It says hello.", created + 1).with_sources(
        sources
    )
    remote = [question.to_item(), answer.to_item(), *(s.to_item() for s in sources)]
    backend = ScriptedBackend(["It says ", "hello."], name="galileo", remote=remote)
    client = WorkerClient(offline_factory(mirror), lambda: backend, periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    try:
        updates: list[AskUpdate] = []
        op = ask_op(chat.chat_id, "What does the endpoint say?", 10).updates(updates.append)
        outcome = run_op(qtbot, op, client.answers)
        assert outcome.answer.message.message_id == answer_id and outcome.question is not None
        assert "".join(u.text for u in updates) == "It says hello." and any(u.started for u in updates)
        assert not any(u.question for u in updates)  # nothing stored here before the server's
        library = client.worker.library
        texts = [(v.message.message_id, v.message.content) for v in library.list_messages(chat.chat_id)]
        assert texts == [(question.message_id, question.content), (answer_id, "It says hello.")]
        assert len(library.list_sources(answer_id)) == 1
        assert library.status().pending == 1  # only the chat's own create: no message queued
    finally:
        client.shutdown()
