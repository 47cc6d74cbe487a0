"""The whole window on a real offline library and the real local-documents assistant."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QWidget,
)
from ui_helpers import USER, local_docs_factory, offline_factory, seed_library, write_docs

from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.conversation.message_list_model import AI, HUMAN
from galileio_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=2)
    return {
        "mirror": mirror,
        "settings": tmp_path / "settings",
        "docs": write_docs(tmp_path / "docs"),
        "index": tmp_path / "docs-index.sqlite3",
    }


def _open(qtbot, paths: dict[str, Path], docs: Path | None = None) -> MainWindow:
    window = build_window(
        offline_factory(paths["mirror"]),
        local_docs_factory(docs or paths["docs"], paths["index"]),
        "analyst@example.com",
        paths["settings"],
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    return window


@pytest.fixture
def window(qtbot, paths: dict[str, Path]):
    window = _open(qtbot, paths)
    yield window
    window.close()


def test_title_icon_and_parts(window: MainWindow) -> None:
    assert window.windowTitle() == "Galileio Desktop — analyst@example.com"
    assert not window.windowIcon().isNull()
    assert window.sidebar.isVisible() and window.pane.isVisible()
    assert window.composer.isVisible() and window.drawer.isVisible()
    assert window.pane.title_label.text() == "Seeded chat 1"


def _qt_internal(widget: QWidget) -> bool:
    """Parts Qt builds itself (a line edit's clear button, the menu bar's overflow button)."""
    return widget.objectName().startswith("qt_") or isinstance(widget.parentWidget(), QLineEdit)


def test_every_control_has_an_accessible_name(window: MainWindow) -> None:
    kinds = (QAbstractButton, QLineEdit, QPlainTextEdit, QAbstractItemView, QProgressBar)
    controls = [w for w in window.findChildren(QWidget) if isinstance(w, kinds) and not _qt_internal(w)]
    missing = [f"{type(w).__name__} {w.objectName()!r}" for w in controls if not w.accessibleName()]
    assert len(controls) > 10 and missing == []


def test_menus_offer_every_action_with_shortcuts(window: MainWindow) -> None:
    file_actions = [a.text() for a in window.file_menu.actions()]
    assert "&New chat" in file_actions and "&Sync now" in file_actions and "&Quit" in file_actions
    assert [a.text() for a in window.export_menu.actions()] == ["Markdown…", "JSON…", "CSV…"]
    assert window.find_action.shortcut().toString() == "Ctrl+K"
    assert window.copy_action.shortcut().toString() == "Ctrl+C"
    assert window.new_chat_action.shortcut().toString() == "Ctrl+N"
    assert window.drawer_action.isCheckable()
    chat_actions = [a.text() for a in window.chat_menu.actions() if a.text()]
    assert chat_actions == ["Pin", "Rename", "Delete", "S&top answer"]


def test_asking_streams_an_answer_with_sources(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=5000):
        window.new_chat_action.trigger()
    assert window.composer.editor.hasFocus() or window.composer.isEnabled()
    window.composer.editor.setPlainText("What is the hotel cap per night?")
    deltas: list[str] = []
    window.pane.asks.sig_answer_text.connect(lambda chat_id, text: deltas.append(text))
    with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=20_000):
        qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        # The question is on screen at once, before any worker answered.
        rows = window.pane.model.rows()
        assert rows and rows[-1].kind == HUMAN and rows[-1].text == "What is the hotel cap per night?"
    assert len(deltas) > 1  # streamed in pieces
    rows = window.pane.model.rows()
    assert [r.kind for r in rows] == [HUMAN, AI]
    answer = rows[-1]
    assert "180" in answer.text and answer.source_count >= 1 and answer.message_id
    qtbot.waitUntil(
        lambda: window.sidebar.list_view.currentIndex().data() == "What is the hotel cap per night?",
        timeout=5000,
    )
    with qtbot.waitSignal(window.drawer.sig_sources_shown, timeout=5000) as shown:
        window.pane.select_key(answer.key)
    assert shown.args == [answer.message_id, answer.source_count]
    assert window.drawer.cards[0].location_label.text() == "travel-policy.md"
    assert window.composer.text() == ""


def test_a_failed_answer_keeps_the_question_with_retry(qtbot, tmp_path: Path, paths: dict[str, Path]) -> None:
    missing = tmp_path / "docs-later"
    window = _open(qtbot, paths, docs=missing)
    try:
        with qtbot.waitSignal(window.client.sig_failed, timeout=20_000) as failed:
            window.pane.ask("How long are backups kept?")
        assert "does not exist" in failed.args[0].message
        question = window.pane.model.rows()[-1]
        assert question.kind == HUMAN and question.failed and question.message_id
        assert (
            window.pane.model.index(window.pane.model.rowCount() - 1, 0).data()
            == "How long are backups kept?"
        )
        write_docs(missing)
        with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=20_000):
            window.pane.retry(question.key)
        rows = window.pane.model.rows()
        assert [r.kind for r in rows[-2:]] == [HUMAN, AI] and not rows[-2].failed
        assert "ninety days" in rows[-1].text
    finally:
        window.close()
    with ChatLibrary(paths["mirror"], USER, None) as library:
        chat = next(v for v in library.list_chats() if v.chat.chat_id == window.pane.chat_id)
        texts = [m.message.content for m in library.list_messages(chat.chat.chat_id)]
    assert texts.count("How long are backups kept?") == 1  # the retry did not store it twice


def test_stop_keeps_the_partial_answer_marked_stopped(qtbot, tmp_path: Path, paths: dict[str, Path]) -> None:
    window = build_window(
        offline_factory(paths["mirror"]),
        local_docs_factory(paths["docs"], paths["index"], pace_seconds=0.05),
        "me",
        paths["settings"],
    )
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    try:
        with qtbot.waitSignal(window.pane.asks.sig_answer_text, timeout=20_000):
            window.pane.ask("What about meals and receipts abroad?")
        assert window.composer.stop_button.isVisible()
        with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=20_000) as done:
            qtbot.mouseClick(window.composer.stop_button, Qt.MouseButton.LeftButton)
        view = done.args[1]
        assert view is not None and view.stopped and view.message.content
        assert window.pane.model.rows()[-1].stopped
        assert not window.composer.stop_button.isVisible()
    finally:
        window.close()


def test_export_writes_the_chat_with_sources(qtbot, tmp_path: Path, window: MainWindow) -> None:
    target = tmp_path / "export.md"
    op = window.export_current("md", str(target))
    assert op is not None
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert window.status.currentMessage() == f"Exported to {target}"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Seeded chat 1") and "Question 1?" in text and "s3://docs/file0.md" in text


def test_search_opens_the_chat_at_the_message(qtbot, window: MainWindow) -> None:
    window.find_action.trigger()
    assert window.search_dialog.isVisible()
    with qtbot.waitSignal(window.search_dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(window.search_dialog.query_edit, "Question 0")
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=5000):
        qtbot.keyClick(window.search_dialog.query_edit, Qt.Key.Key_Return)
    assert window.pane.title_label.text() == "Seeded chat 0"
    qtbot.waitUntil(lambda: window.pane.current_row_key() != "", timeout=5000)
    index = window.pane.view.currentIndex()
    assert index.data() == "Question 0?"
    from galileio_desktop.ui.conversation.message_list_model import MessageRoles

    assert index.data(MessageRoles.HIGHLIGHTED) is True


def test_layout_is_restored_on_the_next_start(qtbot, paths: dict[str, Path]) -> None:
    window = _open(qtbot, paths)
    qtbot.wait(100)  # QSettings would write pending values from the event loop
    # Nothing is written while the window runs (a write syncs the disk on the GUI thread).
    assert not (paths["settings"] / "window.ini").exists()
    window.splitter.setSizes([200, 700, 300])
    window.set_drawer_visible(False)
    sizes = window.splitter.sizes()
    window.close()
    assert (paths["settings"] / "window.ini").is_file()
    written = (paths["settings"] / "window.ini").stat().st_mtime_ns
    again = _open(qtbot, paths)
    qtbot.wait(100)
    assert (paths["settings"] / "window.ini").stat().st_mtime_ns == written
    try:
        assert not again.drawer.isVisible() and not again.drawer_action.isChecked()
        assert again.splitter.sizes()[0] == sizes[0]
    finally:
        again.close()


def test_drafts_survive_a_restart(qtbot, paths: dict[str, Path]) -> None:
    window = _open(qtbot, paths)
    qtbot.keyClicks(window.composer.editor, "half-written thought")
    chat_id = window.sidebar.current_chat_id
    window.close()
    again = _open(qtbot, paths)
    try:
        assert again.sidebar.current_chat_id == chat_id
        assert again.composer.text() == "half-written thought"
    finally:
        again.close()


def test_the_suggested_export_name_stays_short_whatever_the_title() -> None:
    from galileio_desktop.ui.main_window import EXPORT_STEM_CHARS, export_file_stem

    long_title = "Quarterly review \x1b[31m" + "x" * 5000
    stem = export_file_stem(long_title)
    assert len(stem) <= EXPORT_STEM_CHARS and stem.startswith("Quarterly review _")
    assert export_file_stem("../../etc/passwd") == "______etc_passwd"
    assert export_file_stem("\u202e\x07") == "__" and export_file_stem("   ") == "chat"
