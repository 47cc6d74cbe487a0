"""Regenerate, edit and resend, and delete a message with Undo, in the real window on
moto's DynamoDB server over HTTP, with the offline local-documents assistant: what ends
up in the table has the shapes every other write has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from servers import LOOPBACK, create_galileo_table, dynamodb_client, free_port
from ui_helpers import USER, local_docs_factory, networked_factory, write_docs

from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.conversation.message_list_model import AI, HUMAN
from galileio_desktop.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-ui-regenerate"
WAIT_MS = 20_000
QUESTION = "What is the nightly hotel cap?"


@pytest.fixture
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=LOOPBACK, port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    create_galileo_table(dynamodb_client(url), TABLE)
    try:
        yield url
    finally:
        dynamodb_client(url).delete_table(TableName=TABLE)  # moto keeps tables per process
        server.stop()


@pytest.fixture
def window(qtbot, tmp_path: Path, endpoint: str) -> Iterator[MainWindow]:
    window = build_window(
        networked_factory(tmp_path / "mirror.sqlite3", endpoint, TABLE, None),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3"),
        "regenerate@example.com",
        tmp_path / "settings",
        sync_interval_ms=600_000,
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    window.start()
    yield window


def _remote(url: str) -> dict[str, list[dict[str, Any]]]:
    items = dynamodb_client(url).scan(TableName=TABLE)["Items"]
    out: dict[str, list[dict[str, Any]]] = {"CHAT": [], "MESSAGE": [], "SOURCE": []}
    for item in items:
        if item["PK"]["S"] == USER:
            out[item["SK"]["S"].split("#", 1)[0]].append(item)
    return out


def _sync(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.client.events.sig_sync_done, timeout=WAIT_MS):
        window.sync_action.trigger()


def _send(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=WAIT_MS):
        qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def _kinds_and_texts(window: MainWindow) -> list[tuple[str, str]]:
    return [(r.kind, r.text) for r in window.pane.model.rows()]


def test_regenerate_stores_a_new_answer_and_the_earlier_one_goes_with_undo(
    qtbot, window: MainWindow, endpoint: str
) -> None:
    with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
        window.new_chat_action.trigger()
    window.composer.editor.setPlainText(QUESTION)
    _send(qtbot, window)
    pane, actions = window.pane, window.pane.actions
    first_question, first_answer = pane.model.rows()
    assert actions.can_regenerate(first_answer)
    assert not actions.can_regenerate(first_question)

    with qtbot.waitSignal(pane.asks.sig_answer_finished, timeout=WAIT_MS):
        assert actions.regenerate()
    rows = pane.model.rows()
    assert [r.kind for r in rows] == [HUMAN, AI, HUMAN, AI]
    assert rows[2].text == QUESTION and "180" in rows[3].text  # asked again, answered again
    assert list(rows[:2]) == [first_question, first_answer]  # the earlier pair is still there
    assert pane.toast.isVisible() and pane.toast.message == "New answer below."

    # Remove the earlier pair, then Undo: both come back, nothing reached the server.
    actions.undo_timeout_ms = 60_000
    with qtbot.waitSignal(actions.sig_deleted, timeout=WAIT_MS):
        qtbot.mouseClick(pane.toast.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(pane.model.rows()) == 2, timeout=WAIT_MS)
    assert pane.toast.action_button.text() == "Undo"
    with qtbot.waitSignal(actions.sig_restored, timeout=WAIT_MS):
        qtbot.mouseClick(pane.toast.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(pane.model.rows()) == 4, timeout=WAIT_MS)
    _sync(qtbot, window)
    remote = _remote(endpoint)
    assert len(remote["MESSAGE"]) == 4

    # Remove it for good: the server keeps only the new question and answer, with sources.
    actions.undo_timeout_ms = 200
    actions.delete([first_question.message_id, first_answer.message_id], "Removed.")
    with qtbot.waitSignal(pane.toast.sig_expired, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: len(_remote(endpoint)["MESSAGE"]) == 2, timeout=WAIT_MS)
    remote = _remote(endpoint)
    kept = {m["messageId"]["S"] for m in remote["MESSAGE"]}
    assert kept == {rows[2].message_id, rows[3].message_id}
    assert remote["SOURCE"] and {s["messageId"]["S"] for s in remote["SOURCE"]} == {rows[3].message_id}
    assert [(r.kind, r.text) for r in pane.model.rows()] == [(HUMAN, QUESTION), (AI, rows[3].text)]
    # The new messages have the shape of any question and answer the app writes.
    shapes = {m["type"]["S"]: set(m) for m in remote["MESSAGE"]}
    assert shapes[HUMAN] == shapes[AI]


def test_edit_and_resend_puts_the_question_in_the_composer_and_asks_it(
    qtbot, window: MainWindow, endpoint: str
) -> None:
    with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
        window.new_chat_action.trigger()
    window.composer.editor.setPlainText(QUESTION)
    _send(qtbot, window)
    question = window.pane.model.rows()[0]
    window.pane.actions.edit_and_resend(question)
    assert window.composer.text() == QUESTION
    assert window.composer.editor.hasFocus() or not window.isActiveWindow()
    window.composer.editor.setPlainText("How long are customer records kept?")
    _send(qtbot, window)
    texts = _kinds_and_texts(window)
    assert [k for k, _ in texts] == [HUMAN, AI, HUMAN, AI]
    assert texts[2] == (HUMAN, "How long are customer records kept?") and "seven years" in texts[3][1]
    _sync(qtbot, window)
    remote = _remote(endpoint)
    assert sorted(m["data"]["M"]["content"]["S"] for m in remote["MESSAGE"] if m["type"]["S"] == HUMAN) == [
        "How long are customer records kept?",
        QUESTION,
    ]


def test_delete_message_from_the_menu_hides_it_and_undo_brings_it_back(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
        window.new_chat_action.trigger()
    window.composer.editor.setPlainText(QUESTION)
    _send(qtbot, window)
    pane = window.pane
    answer = pane.model.rows()[1]
    pane.actions.undo_timeout_ms = 60_000
    with qtbot.waitSignal(pane.actions.sig_deleted, timeout=WAIT_MS):
        pane._on_row_action("delete", answer.key)
    qtbot.waitUntil(lambda: [r.kind for r in pane.model.rows()] == [HUMAN], timeout=WAIT_MS)
    assert pane.toast.message == "Deleted the answer."
    with qtbot.waitSignal(pane.actions.sig_restored, timeout=WAIT_MS):
        qtbot.mouseClick(pane.toast.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [r.kind for r in pane.model.rows()] == [HUMAN, AI], timeout=WAIT_MS)
