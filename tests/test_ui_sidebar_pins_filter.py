"""The sidebar's pins (a Pinned group at the top, the context menu, Ctrl+Shift+P, a pin on
pinned rows) and its filter's states (no title matches; the open chat hidden by it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from ui_helpers import USER, chat_view, local_noon_ms, offline_factory, seed_library

from galileio_desktop.data.schema import PINNED_AT, Chat
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui import theme, time_groups
from galileio_desktop.ui.sidebar.chat_delegate import H_PAD, PIN_WIDTH, ROW_MARGIN, ChatDelegate
from galileio_desktop.ui.sidebar.chat_list_model import ChatListModel, ChatRoles
from galileio_desktop.ui.sidebar.chat_sidebar import NO_MATCH_TEXT, ChatListView, ChatSidebar
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui


def pinned(view, at: int = 1_700_000_000_000):
    chat = view.chat
    pinned_chat = Chat(
        chat.chat_id, chat.user_id, chat.title, chat.created_at, extra={PINNED_AT: {"N": str(at)}}
    )
    return view._replace(chat=pinned_chat, pinned_at=at)


def labels(model: ChatListModel) -> list[str]:
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


# -- the model ------------------------------------------------------------------------------


def test_pinned_chats_sit_in_their_own_group_at_the_top(qtbot, qtmodeltester) -> None:
    today = dt.date(2024, 3, 15)
    noon = local_noon_ms(today)
    model = ChatListModel(today=today)
    old = chat_view("Old but pinned", noon - 90 * 86_400_000, chat_id="old")
    fresh = chat_view("Fresh", noon, chat_id="fresh")
    also = chat_view("Also pinned", noon - 2 * 86_400_000, chat_id="also")
    model.set_chats([old, fresh, pinned(also)])
    qtmodeltester.check(model)
    assert labels(model) == ["Pinned", "Also pinned", "Today", "Fresh", "Older", "Old but pinned"]
    model.upsert_chat(pinned(old))  # pinned: moves up, by activity among the pinned
    assert labels(model) == ["Pinned", "Also pinned", "Old but pinned", "Today", "Fresh"]
    index = model.index_of("old")
    assert index.data(ChatRoles.PINNED) is True and index.data(ChatRoles.GROUP) == time_groups.PINNED
    assert "pinned" in index.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "Pinned" in index.data(Qt.ItemDataRole.ToolTipRole)
    model.upsert_chat(old)  # unpinned: back under its time
    assert labels(model)[-2:] == ["Older", "Old but pinned"]
    assert model.index_of("old").data(ChatRoles.PINNED) is False
    qtmodeltester.check(model)


def test_the_filter_reports_what_it_hides(qtbot) -> None:
    model = ChatListModel()
    model.set_chats([chat_view("Alpha", 10, chat_id="a"), chat_view("Beta", 5, chat_id="b")])
    model.set_filter("alp")
    assert model.shown_chat_count() == 1 and model.hidden_by_filter("b") and not model.hidden_by_filter("a")
    assert not model.hidden_by_filter("unknown")
    model.set_filter("zzz")
    assert model.shown_chat_count() == 0 and model.chat_count() == 2


def test_a_pinned_row_paints_a_pin_where_others_start_their_title(qtbot) -> None:
    model = ChatListModel()
    model.set_chats(
        [pinned(chat_view("Pinned chat", 10, chat_id="p")), chat_view("Plain chat", 5, chat_id="q")]
    )
    view = ChatListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegate(ChatDelegate(view))
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    accent = theme.accent(view.palette())

    def accent_pixels(chat_id: str) -> int:
        rect = view.visualRect(model.index_of(chat_id))
        x0 = rect.left() + ROW_MARGIN + H_PAD
        return sum(
            1
            for x in range(x0, x0 + PIN_WIDTH)
            for y in range(rect.top(), rect.bottom())
            if _near(image.pixelColor(x, y), accent)
        )

    assert accent_pixels("p") > 10  # the pin, in the accent colour
    assert accent_pixels("q") == 0  # a plain row has its title there, in the text colour


def _near(colour: QColor, target: QColor) -> bool:
    return (
        abs(colour.red() - target.red())
        + abs(colour.green() - target.green())
        + abs(colour.blue() - target.blue())
        < 40
    )


# -- the sidebar on a real library ------------------------------------------------------------------


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
    with qtbot.waitSignal(sidebar.sig_chat_selected, timeout=10_000):
        client.start()
        sidebar.reload()
    sidebar.activateWindow()  # window shortcuts need an active window
    qtbot.waitUntil(sidebar.isActiveWindow, timeout=5000)
    return sidebar


def chat_titles(sidebar: ChatSidebar) -> list[str]:
    return labels(sidebar.model)


def stored_pins(mirror: Path) -> dict[str, bool]:
    with ChatLibrary(mirror, USER, None) as library:
        return {v.chat.title: v.pinned for v in library.list_chats()}


def test_ctrl_shift_p_pins_and_unpins_the_open_chat(qtbot, sidebar: ChatSidebar, mirror: Path) -> None:
    oldest = sidebar.model.chat_id_at(labels(sidebar.model).index("Seeded chat 0"))
    assert oldest and sidebar.select_chat(oldest)
    assert sidebar.pin_action.text() == "Pin" and sidebar.pin_action.isEnabled()
    sidebar.list_view.setFocus()
    qtbot.keyClick(
        sidebar.list_view,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: chat_titles(sidebar)[:2] == ["Pinned", "Seeded chat 0"], timeout=5000)
    assert stored_pins(mirror)["Seeded chat 0"] is True
    assert sidebar.list_view.currentIndex().data() == "Seeded chat 0"  # still the open chat
    assert sidebar.pin_action.text() == "Unpin"
    qtbot.keyClick(
        sidebar.filter_edit,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: "Pinned" not in chat_titles(sidebar), timeout=5000)
    assert stored_pins(mirror)["Seeded chat 0"] is False and sidebar.pin_action.text() == "Pin"


def test_the_context_menu_pins_the_chat_clicked(qtbot, sidebar: ChatSidebar, mirror: Path) -> None:
    row = labels(sidebar.model).index("Seeded chat 1")
    menu = sidebar.context_menu_at(sidebar.list_view.visualRect(sidebar.model.index(row, 0)).center())
    assert menu is not None and sidebar.list_view.currentIndex().data() == "Seeded chat 1"
    actions = [a for a in menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions] == ["Pin", "Rename", "Export…", "Delete"]
    actions[0].trigger()
    qtbot.waitUntil(lambda: chat_titles(sidebar)[:2] == ["Pinned", "Seeded chat 1"], timeout=5000)
    assert stored_pins(mirror) == {"Seeded chat 1": True, "Seeded chat 2": False, "Seeded chat 0": False}
    menu = sidebar.context_menu_at(sidebar.list_view.visualRect(sidebar.model.index(1, 0)).center())
    assert menu is not None and menu.actions()[0].text() == "Unpin"
    header = sidebar.list_view.visualRect(sidebar.model.index(0, 0)).center()
    assert sidebar.context_menu_at(header) is None  # "Pinned" is a header: no menu


def test_a_filter_matching_no_title_says_so_and_offers_search(qtbot, sidebar: ChatSidebar) -> None:
    qtbot.keyClicks(sidebar.filter_edit, "no such title")
    qtbot.waitUntil(lambda: sidebar.no_match.isVisible(), timeout=3000)
    assert not sidebar.list_view.isVisible() and not sidebar.empty_label.isVisible()
    assert sidebar.no_match_label.text() == NO_MATCH_TEXT
    assert "Ctrl+K searches messages and sources" in sidebar.no_match_label.text()
    assert sidebar.search_button.accessibleName() and sidebar.show_hidden_button.accessibleName()
    with qtbot.waitSignal(sidebar.sig_search_requested, timeout=2000) as blocker:
        qtbot.mouseClick(sidebar.search_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["no such title"]
    sidebar.filter_edit.clear()
    qtbot.waitUntil(lambda: sidebar.list_view.isVisible(), timeout=3000)
    assert not sidebar.no_match.isVisible()


def test_the_open_chat_hidden_by_the_filter_is_shown_as_such(qtbot, sidebar: ChatSidebar) -> None:
    open_id = sidebar.current_chat_id
    assert sidebar.list_view.currentIndex().data() == "Seeded chat 2"
    selected: list[str] = []
    sidebar.sig_chat_selected.connect(selected.append)
    qtbot.keyClicks(sidebar.filter_edit, "chat 1")
    qtbot.waitUntil(lambda: sidebar.hidden_chat_hint.isVisible(), timeout=3000)
    assert sidebar.hidden_chat_label.text() == "The open chat is hidden by the filter."
    assert sidebar.current_chat_id == open_id and selected == []  # still open, nothing else opened
    assert chat_titles(sidebar) == ["Today", "Seeded chat 1"]
    hint = sidebar.hidden_chat_hint.geometry()
    assert hint.bottom() < sidebar.list_view.geometry().top()  # between the filter and the list
    qtbot.mouseClick(sidebar.show_hidden_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not sidebar.hidden_chat_hint.isVisible(), timeout=3000)
    assert sidebar.filter_edit.text() == "" and sidebar.list_view.currentIndex().data() == "Seeded chat 2"
    # a filter that matches the open chat shows no hint
    qtbot.keyClicks(sidebar.filter_edit, "chat 2")
    qtbot.waitUntil(lambda: chat_titles(sidebar) == ["Today", "Seeded chat 2"], timeout=3000)
    assert not sidebar.hidden_chat_hint.isVisible()


def test_ctrl_shift_f_focuses_the_filter(qtbot, sidebar: ChatSidebar) -> None:
    sidebar.list_view.setFocus()
    qtbot.keyClick(
        sidebar.list_view,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: sidebar.filter_edit.hasFocus(), timeout=2000)
