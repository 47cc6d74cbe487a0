"""The message pane holds a bounded window of a long chat: scrolling up drops the newest
rows, scrolling back down brings them back and drops the oldest, a far message opens with
the rows around it, and asking from far up goes back to the chat's end. Every layout then
asks a few hundred rows their height, not every message of the chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import local_docs_factory, offline_factory, seed_big_mirror, write_docs

from galileio_desktop.ui.conversation.message_ops import PAGE_SIZE
from galileio_desktop.ui.conversation.message_pane import WINDOW_ROWS, MessagePane
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui

MESSAGES = 1_200


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, str]:
    mirror = tmp_path / "mirror.sqlite3"
    return mirror, seed_big_mirror(mirror, 3, MESSAGES)


@pytest.fixture
def client(qtbot, chat, tmp_path: Path):
    assistant = local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3")
    client = WorkerClient(offline_factory(chat[0]), assistant, periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    yield client
    client.shutdown()


@pytest.fixture
def pane(qtbot, client: WorkerClient, chat) -> MessagePane:
    pane = MessagePane(client)
    qtbot.addWidget(pane)
    pane.resize(700, 600)
    pane.show()
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat(chat[1], "Big chat")
    return pane


def _keys(pane: MessagePane) -> list[str]:
    return [row.key for row in pane.model.rows()]


def _scroll_to_end(qtbot, pane: MessagePane, *, top: bool, until) -> int:  # noqa: ANN001
    """Scroll to the top (bottom) until ``until()``; returns the most rows held meanwhile."""
    bar = pane.view.verticalScrollBar()
    most = 0
    for _ in range(400):
        if until():
            return most
        bar.setValue(bar.minimum() if top else bar.maximum())
        qtbot.wait(15)
        most = max(most, pane.model.rowCount())
    raise AssertionError("the end was never reached")


def test_scrolling_a_long_chat_both_ways_keeps_a_bounded_window(qtbot, pane: MessagePane) -> None:
    model = pane.model
    assert _keys(pane)[-1] == f"msg-{MESSAGES - 1:05d}" and not model.has_newer()
    most = _scroll_to_end(
        qtbot, pane, top=True, until=lambda: _keys(pane)[0] == "msg-00000" and not model.has_older()
    )
    assert most <= WINDOW_ROWS + PAGE_SIZE
    assert model.has_newer() and not model.has_older()
    assert f"msg-{MESSAGES - 1:05d}" not in _keys(pane)  # the newest rows went
    keys = _keys(pane)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # in order, no gap filled twice
    most = _scroll_to_end(
        qtbot,
        pane,
        top=False,
        until=lambda: _keys(pane)[-1] == f"msg-{MESSAGES - 1:05d}" and not model.has_newer(),
    )
    assert most <= WINDOW_ROWS + PAGE_SIZE
    assert model.has_older() and "msg-00000" not in _keys(pane)
    keys = _keys(pane)
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    # Back at the end, new rows keep the view at the bottom again.
    bar = pane.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() >= bar.maximum() - 2, timeout=3000)


def test_a_far_message_opens_with_the_rows_around_it(qtbot, pane: MessagePane) -> None:
    target = "msg-00100"
    pane.reveal_message(target)
    qtbot.waitUntil(lambda: pane.current_row_key() == target, timeout=10_000)
    keys = _keys(pane)
    assert len(keys) <= 2 * PAGE_SIZE + 1 and keys == sorted(keys)
    assert keys[0] <= "msg-00050" and keys[-1] >= "msg-00150"
    assert pane.model.has_older() and pane.model.has_newer()


def test_asking_from_far_up_goes_back_to_the_end_of_the_chat(qtbot, pane: MessagePane) -> None:
    pane.reveal_message("msg-00010")
    qtbot.waitUntil(lambda: pane.current_row_key() == "msg-00010", timeout=10_000)
    assert pane.model.has_newer()
    with qtbot.waitSignal(pane.sig_question_stored, timeout=10_000):
        pane.ask("A new question")
    qtbot.waitUntil(lambda: not pane.model.has_newer(), timeout=10_000)
    qtbot.waitUntil(lambda: any(row.text == "A new question" for row in pane.model.rows()), timeout=10_000)
    keys = _keys(pane)
    assert f"msg-{MESSAGES - 1:05d}" in keys
    question = next(n for n, row in enumerate(pane.model.rows()) if row.text == "A new question")
    assert question > keys.index(f"msg-{MESSAGES - 1:05d}")  # after the newest, not in the old window
