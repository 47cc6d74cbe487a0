"""End to end on moto's DynamoDB server over real HTTP: the window through a whole working session.

Create a chat, ask (local-documents assistant), see the reply and its sources,
rename, delete with Undo and without, lose the endpoint and keep reading and
writing offline, get it back and see everything synced. Every DynamoDB request
is checked to come from a worker thread, never the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from servers import LOOPBACK, create_galileo_table, dynamodb_client, free_port
from ui_helpers import USER, GuiThreadGuard, StallMeter, local_docs_factory, networked_factory, write_docs

from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.conversation.message_list_model import AI, HUMAN
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sync_status import status_bar as sb

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-ui-e2e"
WAIT_MS = 20_000
#: The GUI thread never waits on the network: syncing must not stall it beyond a frame or two.
STALL_BUDGET_MS = 400


class RestartableMoto:
    """moto's server on a fixed loopback port that can be stopped and started again.

    moto keeps its data in this process, so a restarted server still has the table.
    """

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@pytest.fixture
def endpoint() -> Iterator[RestartableMoto]:
    server = RestartableMoto()
    server.start()
    client = dynamodb_client(server.url)
    create_galileo_table(client, TABLE)
    try:
        yield server
    finally:
        server.stop()
        server.start()
        dynamodb_client(server.url).delete_table(TableName=TABLE)
        server.stop()


def _remote(server: RestartableMoto) -> dict[str, list[dict[str, Any]]]:
    """The table's items of the test user, by entity, read from the test (not the window)."""
    items = dynamodb_client(server.url).scan(TableName=TABLE)["Items"]
    out: dict[str, list[dict[str, Any]]] = {"CHAT": [], "MESSAGE": [], "SOURCE": []}
    for item in items:
        if item["PK"]["S"] == USER:
            out[item["SK"]["S"].split("#", 1)[0]].append(item)
    return out


def _sync(qtbot, window: MainWindow) -> Any:
    with qtbot.waitSignal(window.client.events.sig_sync_done, timeout=WAIT_MS) as blocker:
        window.sync_action.trigger()
    return blocker.args[0]


def _ask(qtbot, window: MainWindow, text: str) -> None:
    window.composer.editor.setPlainText(text)
    with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=WAIT_MS):
        qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def _titles(window: MainWindow) -> list[str]:
    model = window.sidebar.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r)]


def test_a_working_session_online_then_offline_then_online(
    qtbot, tmp_path: Path, endpoint: RestartableMoto
) -> None:
    guard = GuiThreadGuard()
    window = build_window(
        networked_factory(tmp_path / "mirror.sqlite3", endpoint.url, TABLE, guard),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3"),
        "e2e@example.com",
        tmp_path / "settings",
        sync_interval_ms=600_000,  # the test syncs by hand, through the menu
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    window.sidebar.undo_timeout_ms = 300
    status = window.status
    try:
        window.start()
        qtbot.waitUntil(lambda: status.state == sb.ONLINE, timeout=WAIT_MS)

        # Create a chat and ask: the reply streams in with its sources.
        with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
            window.new_chat_action.trigger()
        _ask(qtbot, window, "What is the nightly hotel cap?")
        rows = window.pane.model.rows()
        assert [r.kind for r in rows] == [HUMAN, AI] and "180" in rows[1].text
        with qtbot.waitSignal(window.drawer.sig_sources_shown, timeout=WAIT_MS) as shown:
            window.pane.select_key(rows[1].key)
        assert shown.args[1] >= 1 and window.drawer.cards[0].location_label.text() == "travel-policy.md"
        chat_id = window.sidebar.current_chat_id
        qtbot.waitUntil(lambda: _titles(window)[0] == "What is the nightly hotel cap?", timeout=WAIT_MS)

        meter = StallMeter().start()
        result = _sync(qtbot, window)
        assert meter.stop() < STALL_BUDGET_MS
        assert result is not None and result.pending == 0
        remote = _remote(endpoint)
        assert [c["title"]["S"] for c in remote["CHAT"]] == ["What is the nightly hotel cap?"]
        assert len(remote["MESSAGE"]) == 2 and len(remote["SOURCE"]) == shown.args[1]

        # Rename in place.
        window.sidebar.list_view.setFocus()
        window.sidebar.rename_current()
        qtbot.waitUntil(
            lambda: window.sidebar.list_view.state() == window.sidebar.list_view.State.EditingState,
            timeout=WAIT_MS,
        )
        editor = window.sidebar.list_view.focusWidget()
        editor.selectAll()
        qtbot.keyClicks(editor, "Hotels")
        with qtbot.waitSignal(window.client.events.sig_chat_changed, timeout=WAIT_MS):
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        _sync(qtbot, window)
        assert [c["title"]["S"] for c in _remote(endpoint)["CHAT"]] == ["Hotels"]

        # Delete, then Undo: nothing reaches the server.
        window.sidebar.undo_timeout_ms = 60_000
        with qtbot.waitSignal(window.sidebar.sig_delete_queued, timeout=WAIT_MS):
            window.sidebar.delete_current()
        assert "Hotels" not in _titles(window)
        with qtbot.waitSignal(window.sidebar.sig_delete_undone, timeout=WAIT_MS):
            qtbot.mouseClick(window.sidebar.toast.action_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Hotels" in _titles(window), timeout=WAIT_MS)
        _sync(qtbot, window)
        assert len(_remote(endpoint)["CHAT"]) == 1

        # A second chat, then delete the first without Undo: gone from the server too.
        with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
            window.new_chat_action.trigger()
        _ask(qtbot, window, "How long are customer records kept?")
        window.sidebar.select_chat(chat_id)
        window.sidebar.undo_timeout_ms = 200
        window.sidebar.delete_current()
        with qtbot.waitSignal(window.sidebar.toast.sig_expired, timeout=WAIT_MS):
            pass
        qtbot.waitUntil(
            lambda: chat_id not in {c["chatId"]["S"] for c in _remote(endpoint)["CHAT"]}, timeout=WAIT_MS
        )
        remote = _remote(endpoint)
        assert [c["title"]["S"] for c in remote["CHAT"]] == ["How long are customer records kept?"]
        assert len(remote["MESSAGE"]) == 2  # the deleted chat's messages went with it

        # The endpoint goes away: reading and writing go on, the status says offline.
        endpoint.stop()
        meter.start()
        _sync(qtbot, window)
        assert meter.stop() < STALL_BUDGET_MS
        qtbot.waitUntil(lambda: status.state == sb.OFFLINE, timeout=WAIT_MS)
        with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
            window.new_chat_action.trigger()
        _ask(qtbot, window, "Offline question about meals?")
        assert [r.kind for r in window.pane.model.rows()] == [HUMAN, AI]
        qtbot.waitUntil(lambda: status.pending_label.isVisible(), timeout=WAIT_MS)
        assert status.pending_label.text().startswith("4 changes")  # create, rename (title), 2 messages
        assert status.state == sb.OFFLINE
        other = next(
            cid
            for cid in (window.sidebar.model.chat_id_at(r) for r in range(window.sidebar.model.rowCount()))
            if cid and cid != window.sidebar.current_chat_id
        )
        with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=WAIT_MS):
            window.sidebar.select_chat(other)
        assert window.pane.model.rowCount() == 2  # read from the mirror while offline

        # Back online: everything written offline reaches the server.
        endpoint.start()
        result = _sync(qtbot, window)
        assert result is not None and result.pending == 0
        qtbot.waitUntil(
            lambda: status.state == sb.ONLINE and not status.pending_label.isVisible(), timeout=WAIT_MS
        )
        remote = _remote(endpoint)
        assert sorted(c["title"]["S"] for c in remote["CHAT"]) == [
            "How long are customer records kept?",
            "Offline question about meals?",
        ]
        assert len(remote["MESSAGE"]) == 4
    finally:
        window.close()
    assert guard.requests > 10 and guard.violations == []
