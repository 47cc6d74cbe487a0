"""The sidebar model: grouping by day, filtering, and one-row updates without resets."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from PySide6.QtCore import Qt
from ui_helpers import DAY_MS, chat_view, local_noon_ms

from galileio_desktop.ui import time_groups
from galileio_desktop.ui.sidebar.chat_list_model import ChatListModel, ChatRoles

pytestmark = pytest.mark.gui

TODAY = dt.date(2024, 6, 15)
NOON = local_noon_ms(TODAY)


def _views() -> list:
    return [
        chat_view("Today one", NOON, chat_id="t1"),
        chat_view("Today two", NOON - 3_600_000, chat_id="t2", pending=True),
        chat_view("Yesterday", NOON - DAY_MS, chat_id="y1", unsent=2),
        chat_view("Five days ago", NOON - 5 * DAY_MS, chat_id="w1"),
        chat_view("Twenty days ago", NOON - 20 * DAY_MS, chat_id="m1", parked_error="Access denied"),
        chat_view("Last year", NOON - 400 * DAY_MS, chat_id="o1"),
    ]


@pytest.fixture
def model(qtbot) -> ChatListModel:
    model = ChatListModel(today=TODAY)
    model.set_chats(_views())
    return model


def _labels(model: ChatListModel) -> list[str]:
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def test_groups_in_order_with_headers(model: ChatListModel) -> None:
    assert _labels(model) == [
        "Today", "Today one", "Today two",
        "Yesterday", "Yesterday",
        "Previous 7 days", "Five days ago",
        "Previous 30 days", "Twenty days ago",
        "Older", "Last year",
    ]  # fmt: skip
    assert model.index(0, 0).data(ChatRoles.IS_HEADER) is True
    assert model.flags(model.index(0, 0)) == Qt.ItemFlag.NoItemFlags
    assert model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsSelectable
    assert model.index(2, 0).data(ChatRoles.PENDING) is True
    assert model.index(4, 0).data(ChatRoles.UNSENT) == 2
    assert model.index(8, 0).data(ChatRoles.PARKED_ERROR) == "Access denied"
    assert "Access denied" in model.index(8, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_group_for_boundaries() -> None:
    assert time_groups.group_for(NOON, TODAY) == time_groups.TODAY
    assert time_groups.group_for(NOON - DAY_MS, TODAY) == time_groups.YESTERDAY
    assert time_groups.group_for(NOON - 7 * DAY_MS, TODAY) == time_groups.PREVIOUS_7_DAYS
    assert time_groups.group_for(NOON - 8 * DAY_MS, TODAY) == time_groups.PREVIOUS_30_DAYS
    assert time_groups.group_for(NOON - 31 * DAY_MS, TODAY) == time_groups.OLDER
    assert time_groups.group_for(NOON + DAY_MS, TODAY) == time_groups.TODAY
    bounds = time_groups.group_bounds(TODAY)
    for offset_days in range(-1, 40):
        for hour_ms in (0, 11 * 3_600_000, -11 * 3_600_000):
            ms = NOON - offset_days * DAY_MS + hour_ms
            assert time_groups.group_of(ms, bounds) == time_groups.group_for(ms, TODAY)


def test_model_passes_qtmodeltester(qtmodeltester, model: ChatListModel) -> None:
    qtmodeltester.check(model, force_py=True)
    model.set_filter("day")
    qtmodeltester.check(model, force_py=True)


def test_filter_keeps_group_headers_of_matches(model: ChatListModel) -> None:
    model.set_filter("DAYS")
    assert _labels(model) == ["Previous 7 days", "Five days ago", "Previous 30 days", "Twenty days ago"]
    model.set_filter("")
    assert model.rowCount() == 11


def test_one_changed_chat_is_one_data_changed_not_a_reset(qtbot, model: ChatListModel) -> None:
    view = model.view("w1")
    assert view is not None
    changed = view._replace(pending=True)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda *a: resets.append(2))
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.upsert_chat(changed)
    top_left, bottom_right = blocker.args[0], blocker.args[1]
    assert top_left.row() == bottom_right.row() == model.index_of("w1").row()
    assert model.index_of("w1").data(ChatRoles.PENDING) is True
    assert resets == []
    # A full reload where only one chat differs is one dataChanged too.
    views = [model.view(cid) for cid in ("t1", "t2", "y1", "w1", "m1", "o1")]
    views[0] = views[0]._replace(chat=dataclasses.replace(views[0].chat, title="Renamed"))
    with qtbot.waitSignal(model.dataChanged):
        model.set_chats(views)
    assert resets == []
    assert model.index_of("t1").data() == "Renamed"


def test_new_activity_moves_a_chat_to_the_top_with_row_moves(qtbot, model: ChatListModel) -> None:
    view = model.view("o1")
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(model.rowsInserted):
        model.upsert_chat(view._replace(last_activity=NOON + 1000))
    assert resets == []
    assert _labels(model)[:2] == ["Today", "Last year"]
    assert "Older" not in _labels(model)  # its group emptied, so its header went


def test_in_place_edit_renames_and_reports(qtbot, model: ChatListModel) -> None:
    index = model.index_of("t2")
    with qtbot.waitSignal(model.sig_rename_requested) as blocker:
        assert model.setData(index, "  New title ", Qt.ItemDataRole.EditRole)
    assert blocker.args == ["t2", "New title"]
    assert model.index_of("t2").data() == "New title"
    assert not model.setData(index, "   ", Qt.ItemDataRole.EditRole)  # empty titles refused


def test_remove_and_insert_new_chat(model: ChatListModel) -> None:
    model.remove_chat("y1")
    assert "Yesterday" not in _labels(model)
    model.upsert_chat(chat_view("Brand new", NOON + 5, chat_id="n1"))
    assert _labels(model)[:2] == ["Today", "Brand new"]
    assert model.chat_count() == 6


def test_ten_thousand_chats_load_and_update_quickly(qtbot) -> None:
    import time

    views = [chat_view(f"Chat {i}", NOON - i * 600_000, chat_id=f"c{i}") for i in range(10_000)]
    model = ChatListModel(today=TODAY)
    started = time.perf_counter()
    model.set_chats(views)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    model.upsert_chat(views[5000]._replace(last_activity=NOON + 10))
    move_s = time.perf_counter() - started
    assert model.chat_count() == 10_000
    assert model.index(1, 0).data() == "Chat 5000"
    assert load_s < 2.0 and move_s < 1.0, (load_s, move_s)
