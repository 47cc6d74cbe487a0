"""The whole chat list read a page at a time: what is asked for meanwhile runs between
two pages, and the pages never undo what a write told the list, nor lose what they showed."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer
from ui_helpers import USER, offline_factory, seed_big_mirror

from galileio_desktop.data.schema import Chat
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.data.sync.views import ChatView
from galileio_desktop.data.timestamps import LATEST_MS
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.sidebar import chat_ops
from galileio_desktop.ui.sidebar.chat_list_model import ChatListModel
from galileio_desktop.ui.sidebar.chat_sidebar import ChatSidebar
from galileio_desktop.ui.sidebar.list_read import HAND_ON_EVERY_MS, ListRead
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui

BASE = 1_700_000_000_000


def _view(n: int, activity: int, pinned: bool = False) -> ChatView:
    chat = Chat(f"chat-{n:05d}", USER, f"Chat number {n}", activity)
    return ChatView(chat, activity, False, 0, None, activity if pinned else None)


def _ids(model: ChatListModel) -> list[str]:
    return [cid for r in range(model.rowCount()) if (cid := model.chat_id_at(r))]


# -- the library's pages ------------------------------------------------------------------


def _walk(library: ChatLibrary, size: int) -> tuple[list[str], int]:
    ids: list[str] = []
    cursor, pages = None, 0
    while True:
        views, cursor = library.list_chats_page(cursor, size)
        ids += [v.chat.chat_id for v in views]
        pages += 1
        if cursor is None:
            return ids, pages


def test_pages_hold_every_chat_once_newest_first_past_a_malformed_row(tmp_path: Path) -> None:
    mirror = tmp_path / "m.sqlite3"
    seed_big_mirror(mirror, 50, 3)
    conn = sqlite3.connect(mirror)
    with conn:  # a chat's row holding an item that does not decode as a chat
        conn.execute(
            "UPDATE item SET remote = json_set(remote, '$.SK.S', 'MESSAGE#x') WHERE sk = 'CHAT#chat-00017'"
        )
    conn.close()
    with ChatLibrary(mirror, USER, None) as library:
        whole = [v.chat.chat_id for v in library.list_chats()]
        ids, pages = _walk(library, 7)
    assert "chat-00017" not in whole
    assert ids == whole and len(ids) == 49  # every chat once, in the list's order
    assert pages == 8  # 50 rows in pages of 7: the malformed row counted in its page


def test_ghost_chats_come_in_the_last_page(tmp_path: Path) -> None:
    mirror = tmp_path / "m.sqlite3"
    seed_big_mirror(mirror, 5, 0)
    with ChatLibrary(mirror, USER, None) as library:
        library.add_message("chat-00003", "human", "unsent")
        conn = sqlite3.connect(mirror)
        with conn:  # deleted elsewhere while the message waits: a ghost
            conn.execute("UPDATE item SET hidden = 1 WHERE sk = 'CHAT#chat-00003'")
        conn.close()
        whole = {v.chat.chat_id for v in library.list_chats()}
        first, cursor = library.list_chats_page(None, 3)
        last, end = library.list_chats_page(cursor, 3)
    assert "chat-00003" in whole and end is None
    assert {v.chat.chat_id for v in first + last} == whole
    assert "chat-00003" in {v.chat.chat_id for v in last}


# -- the model ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_pages_added_make_the_rows_the_whole_list_makes(qtbot, seed: int) -> None:
    """Pages in the library's order (ties in activity by id the other way round; another
    writer's out-of-range times first, where the list shows them last) give the rows a
    whole list gives, with a filter or without."""
    rng = random.Random(seed)
    views = [
        _view(n, LATEST_MS if n % 131 == 7 else BASE - rng.randrange(0, 40) * 86_400_000, pinned=n % 97 == 5)
        for n in range(600)
    ]
    views.sort(key=lambda v: (v.last_activity, v.chat.chat_id), reverse=True)
    needle = "1" if seed % 2 else ""
    whole, paged = ChatListModel(), ChatListModel()
    for model in (whole, paged):
        model.set_filter(needle)
    whole.set_chats(views)
    paged.set_chats(views[:100])
    size = rng.choice([7, 50, 200])
    for start in range(0, len(views), size):
        paged.add_chats(views[start : start + size])
        assert paged._row_of == {key: row for row, (kind, key) in enumerate(paged._rows) if kind == "c"}
    assert paged._rows == whole._rows
    assert paged.chat_count() == len(views)


def test_a_page_of_older_chats_is_one_insert_at_the_end(qtbot) -> None:
    model = ChatListModel(today=None)
    views = [_view(n, BASE - n * 60_000) for n in range(300)]
    model.set_chats(views[:100])
    first_row_id = model.chat_id_at(1)
    inserts: list[tuple[int, int]] = []
    removes: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserts.append((first, last)))
    model.rowsRemoved.connect(lambda *_args: removes.append(1))
    rows_before = model.rowCount()
    model.add_chats(views[100:300])
    assert removes == [] and len(inserts) == 1 and inserts[0][0] == rows_before
    assert model.chat_id_at(1) == first_row_id
    assert _ids(model) == [v.chat.chat_id for v in views]


def test_a_page_updates_and_moves_held_chats_and_retain_forgets_the_rest(qtbot) -> None:
    model = ChatListModel()
    views = [_view(n, BASE - n * 60_000) for n in range(50)]
    model.set_chats(views)
    renamed = views[10]._replace(chat=Chat("chat-00010", USER, "Renamed", views[10].chat.created_at))
    newer = _view(40, BASE + 60_000)
    model.add_chats([renamed, newer])
    assert model.view("chat-00010").chat.title == "Renamed"
    assert _ids(model)[0] == "chat-00040"
    model.retain({v.chat.chat_id for v in views[:30]} | {"chat-00040"})
    assert model.chat_count() == 31 and model.view("chat-00045") is None
    assert model._row_of == {key: row for row, (kind, key) in enumerate(model._rows) if kind == "c"}


# -- the sidebar ------------------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat_ops, "LIST_PAGE_CHATS", 4)


@pytest.fixture
def sidebar_on_30(qtbot, tmp_path: Path, small_pages: None) -> Any:
    mirror = tmp_path / "m.sqlite3"
    seed_big_mirror(mirror, 30, 0)
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    sidebar = ChatSidebar(client)
    qtbot.addWidget(sidebar)
    sidebar.resize(300, 600)
    sidebar.show()
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        client.start()
        sidebar.reload()
    yield sidebar, client, mirror
    client.shutdown()


def _first_page_waiting(sidebar: ChatSidebar) -> None:
    """Start a read and let the worker read its first page, its outcome not yet delivered."""
    sidebar.reload()
    time.sleep(0.5)  # the GUI thread does not run: the page waits in its queue


def test_a_chat_renamed_while_pages_arrive_keeps_the_new_title(qtbot, sidebar_on_30: Any) -> None:
    sidebar, client, _mirror = sidebar_on_30
    old = sidebar.model.view("chat-00001")
    renamed = old._replace(chat=Chat("chat-00001", USER, "Renamed meanwhile", old.chat.created_at))
    _first_page_waiting(sidebar)
    client.events.sig_chat_changed.emit("chat-00001", renamed)  # a write said so, after the page was read
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        pass
    assert sidebar.model.view("chat-00001").chat.title == "Renamed meanwhile"
    assert sidebar.model.chat_count() == 30


def test_a_chat_deleted_while_pages_arrive_stays_gone(qtbot, sidebar_on_30: Any) -> None:
    sidebar, client, _mirror = sidebar_on_30
    _first_page_waiting(sidebar)
    client.events.sig_chat_changed.emit("chat-00002", None)
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        pass
    assert sidebar.model.view("chat-00002") is None
    assert sidebar.model.chat_count() == 29 and len(set(_ids(sidebar.model))) == 29


def test_a_chat_added_while_pages_arrive_is_listed_once(qtbot, sidebar_on_30: Any) -> None:
    sidebar, client, mirror = sidebar_on_30
    _first_page_waiting(sidebar)
    with ChatLibrary(mirror, USER, None) as library:  # another writer of the mirror (a sync)
        added = library.create_chat("Added meanwhile")
        view = library.get_chat(added.chat_id)
    client.events.sig_chat_changed.emit(added.chat_id, view)
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        pass
    ids = _ids(sidebar.model)
    assert ids.count(added.chat_id) == 1 and ids[0] == added.chat_id
    assert sidebar.model.chat_count() == 31


def test_a_chat_moved_up_past_the_pages_without_a_word_stays_listed_and_open(
    qtbot, sidebar_on_30: Any
) -> None:
    sidebar, _client, mirror = sidebar_on_30
    assert sidebar.select_chat("chat-00025")
    _first_page_waiting(sidebar)
    # A question stored in it (by the answer worker, whose report comes once the answer
    # is in): its activity is now above every page still to come.
    with ChatLibrary(mirror, USER, None) as library:
        library.add_message("chat-00025", "human", "Asked while the list is read")
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        pass
    qtbot.wait(300)  # a lookup of the open chat, had it left the list
    assert sidebar.model.chat_count() == 30
    assert _ids(sidebar.model)[0] == "chat-00025"
    assert sidebar.current_chat_id == "chat-00025"


def test_many_chats_gone_without_a_word_are_looked_up_a_page_at_a_time(
    qtbot, sidebar_on_30: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sidebar, _client, mirror = sidebar_on_30
    conn = sqlite3.connect(mirror)
    with conn:  # hidden by another writer: more than a page of chats the pages do not find
        conn.execute("UPDATE item SET hidden = 1 WHERE kind = 'CHAT' AND chat_id >= 'chat-00020'")
    conn.close()
    looked: list[int] = []
    real = chat_ops.chats_by_id_op
    monkeypatch.setattr(
        "galileio_desktop.ui.sidebar.list_read.chats_by_id_op",
        lambda ids: (looked.append(len(ids)), real(ids))[1],
    )
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        sidebar.reload()
    assert looked == [4, 4, 2]
    assert sidebar.model.chat_count() == 20 and sidebar.model.view("chat-00025") is None


def test_a_filtered_list_follows_a_title_a_page_changes(qtbot) -> None:
    model = ChatListModel()
    views = [_view(n, BASE - n * 60_000) for n in range(10)]
    model.set_chats(views)
    model.set_filter("number 3")
    assert _ids(model) == ["chat-00003"]
    renamed = views[0]._replace(chat=Chat("chat-00000", USER, "Now number 3 too", views[0].chat.created_at))
    model.add_chats([renamed, _view(20, BASE - 20 * 60_000)])
    assert _ids(model) == ["chat-00000", "chat-00003"]


def test_a_chat_gone_without_a_word_leaves_when_the_read_ends(qtbot, sidebar_on_30: Any) -> None:
    sidebar, _client, mirror = sidebar_on_30
    conn = sqlite3.connect(mirror)
    with conn:  # hidden by another writer, nobody told: the next read finds it gone
        conn.execute("UPDATE item SET hidden = 1 WHERE sk = 'CHAT#chat-00020'")
    conn.close()
    with qtbot.waitSignal(sidebar.sig_list_loaded, timeout=10_000):
        sidebar.reload()
    assert sidebar.model.view("chat-00020") is None and sidebar.model.chat_count() == 29


def test_a_page_failing_keeps_the_pages_shown(
    qtbot, sidebar_on_30: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sidebar, client, mirror = sidebar_on_30
    conn = sqlite3.connect(mirror)
    with conn:  # gone since: a read that ended would take it away, this one does not end
        conn.execute("UPDATE item SET hidden = 1 WHERE sk = 'CHAT#chat-00029'")
    conn.close()
    real = ChatLibrary.list_chats_page
    calls: list[int] = []

    def failing(self: ChatLibrary, after: Any, limit: int) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, after, limit)

    monkeypatch.setattr(ChatLibrary, "list_chats_page", failing)
    loaded: list[int] = []
    sidebar.sig_list_loaded.connect(lambda: loaded.append(1))
    with qtbot.waitSignal(client.sig_failed, timeout=10_000):
        sidebar.reload()
    qtbot.wait(300)
    assert len(calls) == 3 and not loaded and not sidebar.reading
    assert sidebar.model.chat_count() == 30  # what was shown stays, chat-00029 too
    assert sidebar.current_chat_id == "chat-00000"


class _Lane:
    def __init__(self) -> None:
        self.ops: list[Any] = []

    def submit(self, op: Any) -> None:
        self.ops.append(op)


def test_a_read_whose_window_is_gone_hands_nothing_on(qtbot) -> None:
    owner = QObject()
    lane = _Lane()
    handed: list[list[ChatView]] = []
    read = ListRead(
        lane,  # type: ignore[arg-type]
        handed.append,
        lambda _found: None,
        lambda _failure: None,
        parent=owner,
    )
    read.start()
    lane.ops[0].deliver(([_view(1, BASE)], (BASE, "chat-00001")), None)  # a hand-on planned
    assert len(lane.ops) == 2 and not handed
    shiboken6.delete(owner)  # the window goes (closed and dropped)
    qtbot.wait(HAND_ON_EVERY_MS + 100)
    assert handed == []


def test_a_read_that_ended_leaves_no_timer_with_its_window(qtbot) -> None:
    owner = QObject()
    lane = _Lane()
    read = ListRead(
        lane,  # type: ignore[arg-type]
        lambda _views: None,
        lambda _found: None,
        lambda _failure: None,
        parent=owner,
    )
    read.start()
    assert len(owner.findChildren(QTimer)) == 1
    lane.ops[0].deliver(([_view(1, BASE)], None), None)  # the last page
    read.cancel()  # as the next read does
    assert owner.findChildren(QTimer) == []


# -- the window -------------------------------------------------------------------------

CHATS = 3_000


@pytest.fixture(scope="module")
def big_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mirror = tmp_path_factory.mktemp("pages") / "mirror.sqlite3"
    seed_big_mirror(mirror, CHATS, 20)
    return mirror


def test_a_chat_opened_while_the_rest_arrives_shows_before_the_rest_is_in(
    qtbot, tmp_path: Path, big_mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_ops, "LIST_PAGE_CHATS", 200)  # 15 pages
    window = build_window(offline_factory(big_mirror), None, "pages", tmp_path / "settings", start=True)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    sidebar = window.sidebar
    events: list[tuple[str, int]] = []
    wanted: list[str] = []

    def open_one() -> None:
        wanted.append(sidebar.model.chat_id_at(sidebar.model.index_of("chat-00005").row()) or "")
        sidebar.select_chat(wanted[0])
        bar = sidebar.list_view.verticalScrollBar()
        bar.setValue(bar.maximum() // 2)
        events.append(("scrolled", bar.value()))

    sidebar.sig_first_list_shown.connect(open_one)
    window.pane.sig_messages_shown.connect(
        lambda chat_id: events.append(("shown", sidebar.model.chat_count())) if chat_id in wanted else None
    )
    sidebar.sig_list_loaded.connect(lambda: events.append(("listed", sidebar.model.chat_count())))
    window.show()
    qtbot.waitUntil(lambda: ("listed", CHATS) in events, timeout=30_000)
    try:
        kinds = [kind for kind, _count in events]
        shown = kinds.index("shown")
        # The chat opened once a page or two had come, long before the last.
        assert events[shown][1] < CHATS // 2
        assert shown < kinds.index("listed", kinds.index("scrolled"))
        assert sidebar.current_chat_id == wanted[0] == "chat-00005"
        scrolled = next(count for kind, count in events if kind == "scrolled")
        assert sidebar.list_view.verticalScrollBar().value() == scrolled > 0  # where the user left it
        assert _ids(sidebar.model) == [f"chat-{n:05d}" for n in range(CHATS)]
        # The filter goes over every chat once all are in.
        sidebar.filter_edit.setText("number 2999")
        qtbot.waitUntil(lambda: sidebar.model.shown_chat_count() == 1, timeout=5_000)
    finally:
        window.close()
        QCoreApplication.processEvents()
