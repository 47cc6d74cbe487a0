"""The composer: Ctrl+Enter sends, Stop while answering, drafts per chat that survive restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from galileio_desktop.ui.conversation.composer import SEND_SHORTCUTS, Composer
from galileio_desktop.ui.conversation.drafts import DraftStore

pytestmark = pytest.mark.gui


@pytest.fixture
def drafts_path(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "drafts.json"


@pytest.fixture
def composer(qtbot, drafts_path: Path) -> Composer:
    composer = Composer(DraftStore(drafts_path))
    qtbot.addWidget(composer)
    composer.show()
    composer.set_chat("chat-a")
    return composer


def test_ctrl_enter_sends_and_clears(qtbot, composer: Composer) -> None:
    assert SEND_SHORTCUTS[0] == QKeySequence("Ctrl+Return")  # Cmd+Return on macOS (Qt maps Ctrl there)
    assert not composer.send_button.isEnabled()
    qtbot.keyClicks(composer.editor, "What is the hotel cap?")
    assert composer.send_button.isEnabled()
    with qtbot.waitSignal(composer.sig_send_requested, timeout=2000) as blocker:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == ["chat-a", "What is the hotel cap?"]
    assert composer.text() == ""


def test_plain_enter_inserts_a_new_line(qtbot, composer: Composer) -> None:
    sent: list[str] = []
    composer.sig_send_requested.connect(lambda chat_id, text: sent.append(text))
    qtbot.keyClicks(composer.editor, "line one")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(composer.editor, "line two")
    assert composer.text() == "line one\nline two" and sent == []


def test_stop_replaces_send_while_answering(qtbot, composer: Composer) -> None:
    composer.set_answering(True)
    assert composer.stop_button.isVisible() and not composer.send_button.isEnabled()
    with qtbot.waitSignal(composer.sig_stop_requested, timeout=2000):
        qtbot.mouseClick(composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(composer.editor, "queued thought")
    qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert composer.text() == "queued thought"  # not sent, not lost
    composer.set_answering(False)
    assert not composer.stop_button.isVisible() and composer.send_button.isEnabled()


def test_drafts_follow_the_chat_and_survive_a_restart(qtbot, composer: Composer, drafts_path: Path) -> None:
    qtbot.keyClicks(composer.editor, "draft for A")
    composer.set_chat("chat-b")
    assert composer.text() == ""
    qtbot.keyClicks(composer.editor, "draft for B")
    composer.set_chat("chat-a")
    assert composer.text() == "draft for A"
    composer.save_draft()
    assert oct(drafts_path.stat().st_mode & 0o777) == "0o600"
    again = Composer(DraftStore(drafts_path))
    qtbot.addWidget(again)
    again.set_chat("chat-b")
    assert again.text() == "draft for B"


def test_a_sent_question_stays_in_the_drafts_until_stored(
    qtbot, composer: Composer, drafts_path: Path
) -> None:
    qtbot.keyClicks(composer.editor, "Keep me safe")
    composer.send()
    # The app could die now: the text is still on disk.
    assert DraftStore(drafts_path).get("chat-a") == "Keep me safe"
    composer.question_stored("chat-a")
    assert DraftStore(drafts_path).get("chat-a") == ""


def test_a_refused_question_comes_back(qtbot, composer: Composer) -> None:
    qtbot.keyClicks(composer.editor, "Too big to store")
    composer.send()
    assert composer.text() == ""
    composer.question_refused("chat-a", "Too big to store")
    assert composer.text() == "Too big to store"


def test_accessible_names(composer: Composer) -> None:
    for widget in (composer.editor, composer.send_button, composer.stop_button):
        assert widget.accessibleName()
