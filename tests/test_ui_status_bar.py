"""Status bar and the dialog of refused changes, on real libraries (offline, and moto in-process)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from PySide6.QtCore import Qt
from ui_helpers import USER, GuiThreadGuard, networked_factory, offline_factory, seed_library

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.dynamo.table_admin import create_table
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.sync_status import status_bar as sb
from galileio_desktop.ui.sync_status.parked_dialog import ParkedDialog
from galileio_desktop.ui.sync_status.status_bar import SyncStatusBar
from galileio_desktop.ui.workers.client import WorkerClient
from galileio_desktop.ui.workers.operation import LibraryOp

pytestmark = pytest.mark.gui

TABLE = "galileo-ui-status"


def _bar(qtbot, client: WorkerClient) -> SyncStatusBar:
    bar = SyncStatusBar(client, lambda chat_id: f"title of {chat_id[:4]}")
    qtbot.addWidget(bar)
    bar.show()
    return bar


def test_offline_shows_offline_and_the_pending_count(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=1)  # 3 operations waiting
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    bar = _bar(qtbot, client)
    try:
        client.start()
        with qtbot.waitSignal(client.events.sig_sync_done, timeout=10_000):
            client.sync_now()
        qtbot.waitUntil(lambda: bar.state == sb.OFFLINE, timeout=5000)
        assert bar.state_label.text() == "Offline"
        assert bar.pending_label.isVisible() and bar.pending_label.text() == "3 changes waiting to sync"
        assert not bar.parked_button.isVisible()
        assert "offline" in bar.state_label.toolTip().lower()
        assert "sent when the connection is back" in bar.state_label.toolTip()
        with qtbot.waitSignal(client.events.sig_queue_changed, timeout=5000):
            LibraryOp(lambda lib: lib.create_chat("One more")).after_write().run_in(client.local)
        qtbot.waitUntil(lambda: bar.pending_label.text() == "4 changes waiting to sync", timeout=5000)
        assert bar.state == sb.OFFLINE  # a local write does not change what we know of the network
    finally:
        client.shutdown()


def test_progress_shows_on_long_work(qtbot, tmp_path: Path) -> None:
    client = WorkerClient(offline_factory(tmp_path / "m.sqlite3"), periodic_sync=False)
    bar = _bar(qtbot, client)
    client.events.sig_sync_progress.emit("delete", 10, 400)
    assert bar.progress.isVisible() and bar.progress.maximum() == 400 and bar.progress.value() == 10
    assert "10 of 400" in bar.progress.toolTip()


@pytest.fixture
def parked(tmp_path: Path):
    """A mirror with a message parked because its chat was deleted on the server."""
    guard = GuiThreadGuard()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, TABLE)
        mirror = tmp_path / "mirror.sqlite3"
        factory = networked_factory(mirror, None, TABLE, guard)
        with networked_factory(mirror, None, TABLE, None)() as library:  # setup, on this thread
            chat = library.create_chat("Doomed")
            library.sync()
            ChatGateway(ddb, TABLE, USER).delete_chat(chat.chat_id)  # the web app deletes it
            library.add_message(chat.chat_id, "human", "Written here meanwhile")
        yield mirror, factory, guard


def test_parked_changes_open_a_dialog_with_retry_and_discard(qtbot, parked) -> None:
    mirror, factory, guard = parked
    client = WorkerClient(factory, periodic_sync=False)
    bar = _bar(qtbot, client)
    try:
        client.start()
        with qtbot.waitSignal(client.events.sig_sync_done, timeout=20_000):
            client.sync_now()
        qtbot.waitUntil(lambda: bar.parked_button.isVisible(), timeout=5000)
        assert bar.parked_button.text() == "1 change not sent"
        assert bar.state == sb.ONLINE
        qtbot.mouseClick(bar.parked_button, Qt.MouseButton.LeftButton)
        dialog = bar.open_parked_dialog()
        assert isinstance(dialog, ParkedDialog) and dialog.isVisible()
        assert dialog.tree.topLevelItemCount() == 1
        item = dialog.tree.topLevelItem(0)
        assert item.text(0) == "Send message" and "deleted" in item.text(3).lower()
        assert dialog.hint_label.text()
        with qtbot.waitSignal(client.events.sig_queue_changed, timeout=5000):
            qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(client.events.sig_sync_done, timeout=20_000):
            client.sync_now()  # refused again: the chat is still gone
        qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1, timeout=5000)
        with qtbot.waitSignal(client.events.sig_queue_changed, timeout=5000):
            dialog.discard(dialog.selected_op_id())
        qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 0, timeout=5000)
        qtbot.waitUntil(lambda: not bar.parked_button.isVisible(), timeout=5000)
    finally:
        client.shutdown()
    assert guard.violations == []
    with ChatLibrary(mirror, USER, None) as library:
        assert library.status().parked == 0
