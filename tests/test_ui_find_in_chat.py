"""Find in chat (Ctrl+F) in the real window on a real mirror: the whole chat is searched,
hits are counted and reached even when not loaded yet, Ctrl+K hits open with the term marked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_helpers import USER, local_docs_factory, offline_factory, seed_big_mirror, write_docs

from galileio_desktop.data.schema import Chat, Message
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.conversation.message_list_model import MessageRoles
from galileio_desktop.ui.conversation.message_ops import PAGE_SIZE
from galileio_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

BIG = "big-chat"
OTHER = "other-chat"
COUNT = 2_000
BASE = 1_750_000_000_000
#: The messages holding "okapi", and how many times: one far above the loaded pages.
OKAPI = {3: "The okapi is shy.", 1500: "An Okapi, here.", 1998: "okapi and OKAPI again"}


def _mid(n: int) -> str:
    return f"m{n:05d}"


def _seed(mirror: Path) -> None:
    """A 2,000-message chat (the most recent) and an older small chat, as a sync leaves them."""
    messages = [
        Message(
            _mid(n),
            BIG,
            USER,
            "human" if n % 2 == 0 else "ai",
            OKAPI.get(n, f"Message {n}: notes on the quarterly report."),
            BASE + n * 1_000,
        ).to_item()
        for n in range(COUNT)
    ]
    with ChatLibrary(mirror, USER, None) as library:
        library.store_remote_items(
            [
                Chat(BIG, USER, "Long chat", BASE).to_item(),
                Chat(OTHER, USER, "Other chat", BASE - 100_000).to_item(),
                Message("o-1", OTHER, USER, "human", "Where do okapis live?", BASE - 90_000).to_item(),
                Message(
                    "o-2", OTHER, USER, "ai", "In the Ituri rainforest, mostly.", BASE - 80_000
                ).to_item(),
                *messages,
            ]
        )


@pytest.fixture
def window(qtbot, tmp_path: Path):
    mirror = tmp_path / "mirror.sqlite3"
    _seed(mirror)
    window = build_window(
        offline_factory(mirror),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "docs-index.sqlite3"),
        "analyst@example.com",
        tmp_path / "settings",
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    yield window
    window.close()


def _type_term(qtbot, window: MainWindow, text: str) -> int:
    bar = window.pane.find_bar
    with qtbot.waitSignal(bar.sig_results_shown, timeout=5000) as shown:
        qtbot.keyClicks(bar.term_edit, text)
    return int(shown.args[0])


def _enter(qtbot, window: MainWindow, shift: bool = False) -> None:
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.keyClick(window.pane.find_bar.term_edit, Qt.Key.Key_Return, modifier)


def _at(qtbot, window: MainWindow, message_id: str, occurrence: int) -> None:
    """The hit is current: marked for the delegate, its message loaded and selected."""
    pane = window.pane
    assert pane.delegate.find_current == (message_id, occurrence)
    qtbot.waitUntil(lambda: pane.current_row_key() == message_id, timeout=10_000)
    index = pane.view.currentIndex()
    assert index.data(MessageRoles.HIGHLIGHTED) is True


def _older_page_reads(window: MainWindow, target: str) -> list[object]:
    """The pages of messages older than those loaded read from now on until ``target`` is
    loaded (the newest page, read again when the offline opening gives up, is not one;
    nor is a page read afterwards, as the user may scroll on)."""
    oldest = window.pane.model.oldest_created_at()
    reads: list[object] = []

    def record(op: object, result: object, _failure: object) -> None:
        views = getattr(result, "views", None)
        before_target = not any(
            v.message.message_id == target for r in reads for v in getattr(r, "views", [])
        )
        if views and oldest is not None and views[0].message.created_at < oldest and before_target:
            reads.append(result)

    window.client.events.sig_op_finished.connect(record)
    return reads


def test_ctrl_f_opens_find_in_chat_and_the_filter_moved(qtbot, window: MainWindow) -> None:
    assert window.find_in_chat_action.shortcut().toString() == "Ctrl+F"
    assert window.filter_action.shortcut().toString() == "Ctrl+Shift+F"
    edit = [a.text() for a in window.edit_menu.actions() if a.text()]
    assert edit.index("F&ind in chat…") < edit.index("&Find in all chats…") < edit.index("Filter chats")
    window.sidebar.list_view.setFocus()
    qtbot.keyClick(window.sidebar.list_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = window.pane.find_bar
    assert bar.isVisible() and bar.term_edit.hasFocus()
    qtbot.keyClick(
        bar.term_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.sidebar.filter_edit.hasFocus()


def test_find_in_chat_reaches_a_hit_that_is_not_loaded_yet(qtbot, window: MainWindow) -> None:
    pane = window.pane
    assert pane.model.rowCount() == PAGE_SIZE and pane.model.row_for(_mid(3)) is None
    qtbot.keyClick(pane.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert _type_term(qtbot, window, "OKAPI") == 4
    bar = pane.find_bar
    # "1 of 4" is the newest: the last occurrence of the newest message holding it.
    assert bar.count_label.text() == "1 of 4" and bar.term_edit.accessibleDescription() == "1 of 4"
    assert pane.delegate.find_term == "OKAPI"
    _at(qtbot, window, _mid(1998), 1)
    _enter(qtbot, window)
    assert bar.count_label.text() == "2 of 4"
    _at(qtbot, window, _mid(1998), 0)
    _enter(qtbot, window)
    assert bar.count_label.text() == "3 of 4"
    _at(qtbot, window, _mid(1500), 0)
    reads = _older_page_reads(window, _mid(3))
    _enter(qtbot, window)
    assert bar.count_label.text() == "4 of 4"
    _at(qtbot, window, _mid(3), 0)  # 1,997 messages up: the pages above were loaded to reach it
    assert pane.model.row_for(_mid(3)) is not None
    assert len(reads) == 1  # in one read, not page by page
    _enter(qtbot, window)  # wraps around to the newest
    assert bar.count_label.text() == "1 of 4"
    _at(qtbot, window, _mid(1998), 1)
    _enter(qtbot, window, shift=True)  # and back, up to the oldest
    assert bar.count_label.text() == "4 of 4"
    _at(qtbot, window, _mid(3), 0)
    assert bar.term_edit.hasFocus()  # typing goes on in the bar while the view follows


def test_no_matches_and_only_the_latest_search_shows(qtbot, window: MainWindow) -> None:
    window.pane.open_find()
    bar = window.pane.find_bar
    shown: list[int] = []
    bar.sig_results_shown.connect(shown.append)
    bar.term_edit.setText("okapi")
    bar.search_now()
    bar.term_edit.setText("zebra")
    with qtbot.waitSignal(bar.sig_results_shown, timeout=5000):
        bar.search_now()
    assert shown == [0]  # the search for "okapi" was replaced before it could show
    assert bar.count_label.text() == "No matches"
    assert not bar.next_button.isEnabled() and not bar.previous_button.isEnabled()
    assert window.pane.delegate.find_term == "zebra" and window.pane.delegate.find_current is None
    qtbot.keyClick(bar.term_edit, Qt.Key.Key_Return)  # nothing to go to: nothing moves
    assert bar.position is None


def test_escape_closes_and_gives_the_messages_the_focus(qtbot, window: MainWindow) -> None:
    window.pane.open_find()
    _type_term(qtbot, window, "quarterly")
    bar = window.pane.find_bar
    assert bar.total == COUNT - len(OKAPI) and bar.count_label.text() == "1 of 1,997"
    qtbot.keyClick(bar.term_edit, Qt.Key.Key_Escape)
    assert bar.isHidden()
    assert window.pane.delegate.find_term == "" and window.pane.delegate.find_current is None
    assert QApplication.focusWidget() is window.pane.view
    # Opened again: the term is kept, selected, marked again without moving the view.
    with qtbot.waitSignal(bar.sig_results_shown, timeout=5000):
        window.find_in_chat_action.trigger()
    assert bar.term_edit.selectedText() == "quarterly"
    assert bar.count_label.text() == "1,997 matches" and window.pane.delegate.find_term == "quarterly"
    assert window.pane.delegate.find_current is None


def test_another_chat_closes_and_resets_the_bar(qtbot, window: MainWindow) -> None:
    window.pane.open_find()
    _type_term(qtbot, window, "okapi")
    bar = window.pane.find_bar
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=5000):
        assert window.sidebar.select_chat(OTHER)
    assert bar.isHidden() and bar.term_edit.text() == "" and bar.total == 0
    assert window.pane.delegate.find_term == ""
    window.pane.open_find()
    assert _type_term(qtbot, window, "okapi") == 1  # this chat's hits only
    assert window.pane.delegate.find_current == ("o-1", 0)


def test_a_ctrl_k_hit_opens_with_its_term_marked(qtbot, window: MainWindow) -> None:
    window.find_action.trigger()
    dialog = window.search_dialog
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(dialog.query_edit, "Ituri rainforest")
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=5000):
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    pane = window.pane
    assert pane.title_label.text() == "Other chat"
    qtbot.waitUntil(lambda: pane.delegate.find_current is not None, timeout=5000)
    assert pane.delegate.find_term == "Ituri rainforest" and pane.delegate.find_current == ("o-2", 0)
    assert pane.find_bar.isVisible() and pane.find_bar.term_edit.text() == "Ituri rainforest"
    qtbot.waitUntil(lambda: pane.current_row_key() == "o-2", timeout=5000)


def test_a_ctrl_k_query_of_words_apart_marks_its_first_word(qtbot, window: MainWindow) -> None:
    window.find_action.trigger()
    dialog = window.search_dialog
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(dialog.query_edit, "okapi again")
    with qtbot.waitSignal(window.pane.find_bar.sig_results_shown, timeout=5000):
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    pane = window.pane
    # "okapi again" is in the message as typed: marked as typed.
    assert pane.delegate.find_term == "okapi again" and pane.delegate.find_current == (_mid(1998), 0)
    window.find_action.trigger()
    dialog.query_edit.clear()
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(dialog.query_edit, "shy okapi")
    with qtbot.waitSignal(pane.find_bar.sig_results_shown, timeout=5000):
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    # Both words are in it, apart: its first word is marked, the message far up reached.
    assert pane.delegate.find_term == "shy" and pane.find_bar.term_edit.text() == "shy"
    assert pane.delegate.find_current == (_mid(3), 0)
    qtbot.waitUntil(lambda: pane.current_row_key() == _mid(3), timeout=10_000)


def test_a_ctrl_k_title_hit_opens_the_chat_without_the_bar(qtbot, window: MainWindow) -> None:
    window.find_action.trigger()
    dialog = window.search_dialog
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(dialog.query_edit, "Other chat")
    assert dialog.model.hit_at(0).message_id is None
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=5000):
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert dialog.chosen_terms == [] and window.pane.title_label.text() == "Other chat"
    assert window.pane.find_bar.isHidden() and window.pane.delegate.find_term == ""


def test_the_oldest_hit_of_a_10000_message_chat_is_reached_quickly(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "big.sqlite3"
    seed_big_mirror(mirror, 3, 10_000)
    window = build_window(
        offline_factory(mirror),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "docs-index.sqlite3"),
        "analyst@example.com",
        tmp_path / "settings",
    )
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    pane = window.pane
    pane.open_find()
    started = time.perf_counter()
    assert _type_term(qtbot, window, "Message 3:") == 1
    searched = time.perf_counter() - started
    started = time.perf_counter()
    _at(qtbot, window, "msg-00003", 0)
    reached = time.perf_counter() - started
    print(f"10,000 messages: found in {searched:.2f} s, reached 9,996 up in {reached:.2f} s")
    assert searched < 3 and reached < 8
    window.close()


def test_new_messages_are_counted_and_the_current_hit_stays(
    qtbot, tmp_path: Path, window: MainWindow
) -> None:
    pane = window.pane
    pane.open_find()
    assert _type_term(qtbot, window, "okapi") == 4
    _enter(qtbot, window)
    _at(qtbot, window, _mid(1998), 0)
    assert pane.find_bar.count_label.text() == "2 of 4"
    # Another writer (the command line, a sync) adds a message; the window is told.
    news = Message("m-news", BIG, USER, "human", "More okapi news", BASE + COUNT * 1_000)
    with ChatLibrary(tmp_path / "mirror.sqlite3", USER, None) as library:
        library.store_remote_items([news.to_item()])
    with qtbot.waitSignal(pane.find_bar.sig_results_shown, timeout=5000) as shown:
        window.client.events.sig_data_changed.emit()
    assert shown.args == [5] and pane.find_bar.count_label.text() == "3 of 5"
    assert pane.delegate.find_current == (_mid(1998), 0) and pane.current_row_key() == _mid(1998)
