"""The sidebar on a real library: loading, filter, New chat, rename in place, delete with and without Undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_helpers import USER, offline_factory, seed_library

from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.sidebar.chat_list_model import ChatRoles
from galileio_desktop.ui.sidebar.chat_sidebar import ChatSidebar
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    path = tmp_path / "mirror.sqlite3"
    seed_library(path, chats=3)
    return path


@pytest.fixture
def client(qtbot, mirror: Path):
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    yield client
    client.shutdown()


@pytest.fixture
def sidebar(qtbot, client: WorkerClient) -> ChatSidebar:
    sidebar = ChatSidebar(client)
    qtbot.addWidget(sidebar)
    sidebar.resize(300, 600)
    sidebar.show()
    sidebar.undo_timeout_ms = 400
    with qtbot.waitSignal(sidebar.sig_chat_selected, timeout=10_000):
        client.start()
        sidebar.reload()
    return sidebar


def _titles(sidebar: ChatSidebar) -> list[str]:
    model = sidebar.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r)]


def _stored_titles(mirror: Path) -> list[str]:
    with ChatLibrary(mirror, USER, None) as library:
        return [v.chat.title for v in library.list_chats()]


def test_loads_and_selects_the_most_recent_chat(sidebar: ChatSidebar) -> None:
    assert _titles(sidebar) == ["Seeded chat 2", "Seeded chat 1", "Seeded chat 0"]
    current = sidebar.list_view.currentIndex()
    assert current.data() == "Seeded chat 2"
    assert sidebar.current_chat_id == current.data(ChatRoles.CHAT_ID)
    assert sidebar.list_view.uniformItemSizes()
    assert sidebar.filter_edit.accessibleName() and sidebar.new_button.accessibleName()
    assert sidebar.list_view.accessibleName() == "Chats"


def test_filter_box_filters_titles(qtbot, sidebar: ChatSidebar) -> None:
    qtbot.keyClicks(sidebar.filter_edit, "chat 1")
    qtbot.waitUntil(lambda: _titles(sidebar) == ["Seeded chat 1"], timeout=3000)
    sidebar.filter_edit.clear()
    qtbot.waitUntil(lambda: len(_titles(sidebar)) == 3, timeout=3000)


def test_new_chat_is_created_and_selected(qtbot, sidebar: ChatSidebar) -> None:
    with qtbot.waitSignal(sidebar.sig_new_chat_created, timeout=5000) as blocker:
        qtbot.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
    chat_id = blocker.args[0]
    assert sidebar.current_chat_id == chat_id
    assert _titles(sidebar)[0] == "New chat"


def test_rename_in_place_with_f2_and_enter(
    qtbot, client: WorkerClient, sidebar: ChatSidebar, mirror: Path
) -> None:
    sidebar.list_view.setFocus()
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_F2)
    editor = (
        sidebar.list_view.indexWidget(sidebar.list_view.currentIndex()) or sidebar.list_view.focusWidget()
    )
    qtbot.waitUntil(lambda: sidebar.list_view.state() == sidebar.list_view.State.EditingState, timeout=3000)
    editor = sidebar.list_view.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "Budget questions")
    with qtbot.waitSignal(client.events.sig_chat_changed, timeout=5000) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args[1].chat.title == "Budget questions"  # as stored, read again
    assert _titles(sidebar)[0] == "Budget questions"
    assert "Budget questions" in _stored_titles(mirror)


def test_escape_cancels_a_rename(qtbot, client: WorkerClient, sidebar: ChatSidebar) -> None:
    renames: list[tuple[str, str]] = []
    sidebar.model.sig_rename_requested.connect(lambda cid, title: renames.append((cid, title)))
    sidebar.list_view.setFocus()
    sidebar.rename_current()
    qtbot.waitUntil(lambda: sidebar.list_view.state() == sidebar.list_view.State.EditingState, timeout=3000)
    editor = sidebar.list_view.focusWidget()
    qtbot.keyClicks(editor, "Not wanted")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: sidebar.list_view.state() != sidebar.list_view.State.EditingState, timeout=3000)
    assert renames == []
    assert _titles(sidebar)[0] == "Seeded chat 2"


def test_delete_then_undo_restores_the_chat(
    qtbot, client: WorkerClient, sidebar: ChatSidebar, mirror: Path
) -> None:
    sidebar.undo_timeout_ms = 10_000
    deleted = sidebar.current_chat_id
    sidebar.list_view.setFocus()
    with qtbot.waitSignal(sidebar.sig_delete_queued, timeout=5000):
        qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Delete)
    assert "Seeded chat 2" not in _titles(sidebar)
    assert sidebar.toast.isVisible() and "Seeded chat 2" in sidebar.toast.message
    assert sidebar.current_chat_id != deleted  # the next chat was selected
    assert "Seeded chat 2" not in _stored_titles(mirror)  # hidden in the library at once
    with qtbot.waitSignal(sidebar.sig_delete_undone, timeout=5000) as blocker:
        qtbot.mouseClick(sidebar.toast.action_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [deleted, True]
    qtbot.waitUntil(lambda: "Seeded chat 2" in _titles(sidebar), timeout=5000)
    assert sidebar.current_chat_id == deleted
    assert "Seeded chat 2" in _stored_titles(mirror)


def test_delete_without_undo_stays_deleted(
    qtbot, client: WorkerClient, sidebar: ChatSidebar, mirror: Path
) -> None:
    sidebar.delete_current()
    with qtbot.waitSignal(sidebar.toast.sig_expired, timeout=5000):
        pass
    assert not sidebar.toast.isVisible()
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=5000):
        sidebar.reload()
    assert _titles(sidebar) == ["Seeded chat 1", "Seeded chat 0"]
    assert _stored_titles(mirror) == ["Seeded chat 1", "Seeded chat 0"]


def test_undo_is_offered_as_long_as_the_toast_offers_it(qtbot, client: WorkerClient, monkeypatch) -> None:
    """One length of Undo, the toast's own: the sidebar reads it, it keeps no copy."""
    from galileio_desktop.ui import toast

    monkeypatch.setattr(toast, "DEFAULT_TIMEOUT_MS", 9_000)
    sidebar = ChatSidebar(client)
    qtbot.addWidget(sidebar)
    sidebar.show()
    with qtbot.waitSignal(sidebar.sig_chat_selected, timeout=10_000):
        client.start()
        sidebar.reload()
    assert sidebar.undo_timeout_ms == 9_000
    with qtbot.waitSignal(sidebar.sig_delete_queued, timeout=5000):
        sidebar.delete_current()
    assert 8_000 < sidebar.toast.remaining_ms() < 10_000  # a coarse timer: within 5%


def test_keyboard_navigation_skips_headers(qtbot, sidebar: ChatSidebar) -> None:
    sidebar.list_view.setFocus()
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Home)
    assert sidebar.list_view.currentIndex().data() == "Seeded chat 2"
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Up)
    assert not sidebar.model.is_header(sidebar.list_view.currentIndex().row())
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Down)
    assert sidebar.list_view.currentIndex().data() == "Seeded chat 1"
