"""The sidebar's row painter keeps what every row draws with between paints, and works it
out again when what it depends on changes (a title, the row's width, the palette)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QColor, QPalette
from ui_helpers import chat_view

from galileio_desktop.ui.sidebar import chat_delegate
from galileio_desktop.ui.sidebar.chat_delegate import ChatDelegate
from galileio_desktop.ui.sidebar.chat_list_model import ChatListModel
from galileio_desktop.ui.sidebar.chat_sidebar import ChatListView

pytestmark = pytest.mark.gui


@pytest.fixture
def cuts(monkeypatch) -> list[str]:
    """The titles the delegate cuts to a row's width, in order."""
    seen: list[str] = []
    original = chat_delegate.row_title

    def counting(title, metrics, width):
        seen.append(title)
        return original(title, metrics, width)

    monkeypatch.setattr(chat_delegate, "row_title", counting)
    return seen


def _list(qtbot, count: int = 8) -> tuple[ChatListView, ChatListModel]:
    model = ChatListModel()
    model.set_chats([chat_view(f"Chat {n}", 1_000 + n, chat_id=f"c{n}") for n in range(count)])
    view = ChatListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegate(ChatDelegate(view))
    view.resize(300, 400)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def test_a_second_paint_cuts_no_title_again_a_changed_title_or_width_does(qtbot, cuts) -> None:
    view, model = _list(qtbot)
    qtbot.waitUntil(lambda: len(cuts) >= 8)  # every chat row on screen, as it shows
    first = len(cuts)
    view.viewport().repaint()
    assert len(cuts) == first
    renamed = model.view("c3")
    model.upsert_chat(renamed._replace(chat=dataclasses.replace(renamed.chat, title="Renamed")))
    view.viewport().repaint()
    assert cuts[first:] == ["Renamed"]
    view.resize(200, 400)
    view.viewport().repaint()
    assert len(cuts) >= first + 1 + 8  # narrower rows: every title cut again


def _pixels(view: ChatListView, colour: QColor) -> int:
    image = view.viewport().grab().toImage()
    return sum(
        1
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).rgb() == colour.rgb()
    )


def test_a_new_palette_paints_in_its_colours(qtbot) -> None:
    view, _ = _list(qtbot)
    red, blue = QColor("#ff0000"), QColor("#0000ff")
    for colour, other in ((red, blue), (blue, red)):
        palette = view.palette()
        palette.setColor(QPalette.ColorRole.Text, colour)
        view.setPalette(palette)
        assert _pixels(view, colour) > 0  # the titles, in the palette's text colour
        assert _pixels(view, other) == 0
