"""The message model and delegate: pages, transient rows, one-row updates, cached heights."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem
from ui_helpers import message_view

from galileio_desktop.ui.conversation.message_delegate import PAD_X, SIDE_MARGIN, MessageDelegate
from galileio_desktop.ui.conversation.message_list_model import MessageListModel, MessageRoles, MessageRow

pytestmark = pytest.mark.gui

CHAT = "chat-1"
T0 = 1_700_000_000_000


def _views(start: int, count: int) -> list:
    return [
        message_view(CHAT, "human" if n % 2 == 0 else "ai", f"message {n}", T0 + n * 1000, message_id=f"m{n}")
        for n in range(start, start + count)
    ]


@pytest.fixture
def model(qtbot) -> MessageListModel:
    model = MessageListModel()
    model.set_chat(CHAT, _views(50, 50), total=100)
    return model


def test_qtmodeltester(qtmodeltester, model: MessageListModel) -> None:
    qtmodeltester.check(model, force_py=True)
    model.start_answer("answer:1", T0 + 999_999)
    model.append_answer_text("answer:1", "partial")
    qtmodeltester.check(model, force_py=True)


def test_older_page_is_prepended(qtbot, model: MessageListModel) -> None:
    assert model.has_older() and model.oldest_created_at() == T0 + 50_000
    with qtbot.waitSignal(model.rowsInserted) as blocker:
        inserted = model.prepend_older(_views(0, 50), total=100)
    assert inserted == 50 and blocker.args[1:] == [0, 49]
    assert not model.has_older()
    assert [model.index(r, 0).data() for r in (0, 99)] == ["message 0", "message 99"]


def test_streaming_text_is_data_changed_on_one_row(qtbot, model: MessageListModel) -> None:
    model.start_answer("answer:7", T0 + 999_999)
    row = model.row_for("answer:7")
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.append_answer_text("answer:7", "Hello")
    assert blocker.args[0].row() == blocker.args[1].row() == row
    model.append_answer_text("answer:7", " world")
    index = model.index(row, 0)
    assert index.data() == "Hello world"
    assert index.data(MessageRoles.STATE_TEXT) == "Answering…"
    assert index.data(MessageRoles.REVISION) == 2
    assert resets == []


def test_local_question_is_confirmed_in_place(qtbot, model: MessageListModel) -> None:
    model.add_local_question("local:1", "Is it stored?", T0 + 500_000)
    row = model.row_for("local:1")
    assert model.index(row, 0).data(MessageRoles.STATE_TEXT) == "Saving…"
    stored = message_view(CHAT, "human", "Is it stored?", T0 + 500_001, message_id="q1", pending=True)
    with qtbot.waitSignal(model.dataChanged):
        model.confirm_local("local:1", stored)
    assert model.row_for("local:1") is None and model.row_for("q1") == row
    assert model.index(row, 0).data(MessageRoles.STATE_TEXT) == "Waiting to sync"
    model.set_failed("q1", "The assistant is unreachable")
    assert model.index(row, 0).data(MessageRoles.STATE_TEXT) == "No answer: The assistant is unreachable"


def test_merge_latest_updates_inserts_and_drops(qtbot, model: MessageListModel) -> None:
    latest = _views(52, 48)  # m50 and m51 deleted elsewhere, m52.. kept
    latest[-1] = message_view(CHAT, "ai", "edited", T0 + 99_000, message_id="m99")
    latest.append(message_view(CHAT, "human", "new", T0 + 100_000, message_id="m100"))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.merge_latest(latest, total=99)
    assert resets == []
    assert model.row_for("m50") is not None  # older than the page: not judged by it
    model.merge_latest(latest, total=len(latest))  # the page is everything: m50, m51 are gone
    assert model.row_for("m50") is None and model.row_for("m51") is None
    assert model.index(model.row_for("m99"), 0).data() == "edited"
    assert model.index(model.rowCount() - 1, 0).data() == "new"


def test_a_page_read_before_a_question_was_stored_does_not_drop_it(model: MessageListModel) -> None:
    """A page asked for, then a question sent and stored, then the page arrives (read
    before the question was written): the question stays. A page asked for after it was
    stored and lacking it means it was deleted elsewhere: it goes."""
    stale_page = _views(50, 50)
    mark = model.write_mark()
    model.add_local_question("local:2", "Still there?", T0 + 500_000)
    stored = message_view(CHAT, "human", "Still there?", T0 + 500_001, message_id="q2", pending=True)
    model.confirm_local("local:2", stored)
    model.set_failed("q2", "The documents folder does not exist")
    model.merge_latest(stale_page, total=len(stale_page), read_from=mark)
    row = model.row_for("q2")
    assert row == model.rowCount() - 1 and model.index(row, 0).data() == "Still there?"
    assert model.index(row, 0).data(MessageRoles.STATE_TEXT).startswith("No answer")
    # An answer stored meanwhile is kept the same way.
    answer = message_view(CHAT, "ai", "Ninety days.", T0 + 500_002, message_id="a2")
    mark = model.write_mark()
    model.upsert_view(answer)
    model.merge_latest(stale_page, total=len(stale_page), read_from=mark)
    assert model.row_for("a2") == model.rowCount() - 1
    # Read after both were stored, a page without them says they were deleted.
    model.merge_latest(stale_page, total=len(stale_page), read_from=model.write_mark())
    assert model.row_for("q2") is None and model.row_for("a2") is None


def test_heights_are_cached_per_message_and_width(qapp) -> None:
    delegate = MessageDelegate()
    delegate.set_style(QFont(), QApplication.palette())
    delegate.set_width(800)
    row = MessageRow(key="m1", kind="ai", text="Some **Markdown** text " * 20, created_at=T0, message_id="m1")
    first = delegate.row_height(row, "")
    built = delegate.documents_built
    assert delegate.row_height(row, "") == first and delegate.documents_built == built
    delegate.set_width(400)
    narrow = delegate.row_height(row, "")
    assert narrow > first  # wrapped into more lines
    delegate.set_width(800)
    assert delegate.row_height(row, "") == first
    changed = MessageRow(
        key="m1", kind="ai", text=row.text + " more " * 40, created_at=T0, message_id="m1", revision=1
    )
    assert delegate.row_height(changed, "") > first


def test_dark_palette_changes_the_bubble_colours(qapp) -> None:
    from PySide6.QtGui import QColor

    from galileio_desktop.ui import theme

    light = QApplication.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor("#1f2125"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#17181b"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    assert theme.is_dark(dark) and not theme.is_dark(light)
    assert theme.ai_bubble(dark).lightness() < 100 < theme.ai_bubble(light).lightness()
    assert theme.human_bubble(dark).lightness() < 100 < theme.human_bubble(light).lightness()
    assert theme.accent(dark) != theme.accent(light)


def _paint_row(delegate: MessageDelegate, model: MessageListModel, number: int, palette: QPalette):  # noqa: ANN202
    """Row ``number`` painted by ``delegate`` into an image the row's size, as a view would."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionViewItem

    row = model.row_at(number)
    assert row is not None
    height = delegate.row_height(row, MessageListModel.state_text(row))
    image = QImage(800, height, QImage.Format.Format_ARGB32)
    image.fill(0)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 800, height)
    option.palette = palette
    painter = QPainter(image)
    delegate.paint(painter, option, model.index(number, 0))
    painter.end()
    return image


def test_a_rows_stamp_and_place_are_worked_out_once_and_again_when_it_changes(qapp, monkeypatch) -> None:
    """A paint asks for a row's time stamp and geometry every time the row shows: they are
    worked out once, and again for a row that changed, a new width or another font."""
    from galileio_desktop.ui import time_groups

    stamps: list[int] = []
    real_stamp = time_groups.message_time
    monkeypatch.setattr(
        time_groups, "message_time", lambda ms, today: stamps.append(ms) or real_stamp(ms, today)
    )
    model = MessageListModel()
    model.set_chat(CHAT, _views(0, 3), total=3)
    delegate = MessageDelegate()
    delegate.set_style(QFont(), QApplication.palette())
    delegate.set_width(800)
    places: list[str] = []
    real_geometry = delegate._geometry
    monkeypatch.setattr(
        delegate, "_geometry", lambda row, state: places.append(row.key) or real_geometry(row, state)
    )
    palette = QApplication.palette()
    first = _paint_row(delegate, model, 1, palette)
    assert _paint_row(delegate, model, 1, palette) == first
    assert stamps == [T0 + 1000] and places == ["m1"]
    assert model.data(model.index(1, 0), MessageRoles.TIME_TEXT) == real_stamp(T0 + 1000, model._today)
    model.upsert_view(message_view(CHAT, "ai", "message 1, longer " * 30, T0 + 1000, message_id="m1"))
    changed = _paint_row(delegate, model, 1, palette)
    assert places == ["m1", "m1"] and changed.height() > first.height()
    delegate.set_width(500)
    _paint_row(delegate, model, 1, palette)
    assert places == ["m1", "m1", "m1"]
    bigger = QFont()
    bigger.setPointSizeF(QFont().pointSizeF() * 1.5)
    delegate.set_style(bigger, palette)
    _paint_row(delegate, model, 1, palette)
    assert places == ["m1", "m1", "m1", "m1"]


def test_a_row_painted_in_another_palette_takes_its_colours(qapp) -> None:
    """The colours a paint works out from a palette are kept per palette: a theme switch
    paints with the new one's."""
    from PySide6.QtGui import QColor

    from galileio_desktop.ui import theme

    model = MessageListModel()
    model.set_chat(CHAT, _views(0, 2), total=2)
    delegate = MessageDelegate()
    delegate.set_style(QFont(), QApplication.palette())
    delegate.set_width(800)
    light = QApplication.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor("#1f2125"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#17181b"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    for palette in (light, dark, light):
        image = _paint_row(delegate, model, 1, palette)  # an answer: its bubble on the left
        inside = image.pixelColor(SIDE_MARGIN + PAD_X // 2, image.height() // 2)  # left of the text
        assert inside.rgb() == theme.ai_bubble(palette).rgb()


def test_the_geometry_kept_is_bounded_and_lets_its_oldest_rows_go_one_by_one(qapp, monkeypatch) -> None:
    """Dropping every row's geometry at once when the cache is full freed thousands of Qt
    objects in one go (5-7 ms): the oldest row goes instead."""
    from galileio_desktop.ui.conversation import message_delegate

    monkeypatch.setattr(message_delegate, "GEOMETRY_CACHE_SIZE", 8)
    delegate = MessageDelegate()
    delegate.set_style(QFont(), QApplication.palette())
    delegate.set_width(800)
    rows = [
        MessageRow(key=f"m{n}", kind="ai", text=f"Answer {n}", created_at=T0, message_id=f"m{n}")
        for n in range(12)
    ]
    for row in rows:
        delegate.geometry(row, "")
    assert list(delegate._geometries) == [row.key for row in rows[4:]]
    assert delegate.geometry(rows[11], "") is delegate.geometry(rows[11], "")


def test_the_sizes_kept_are_bounded_and_let_their_oldest_rows_go_one_by_one(qapp, monkeypatch) -> None:
    """The sizes every layout asks for are bounded like the geometry: when full, the oldest
    row goes (emptying 50,000 at once was one long turn), the newest stay answered."""
    from galileio_desktop.ui.conversation import message_delegate

    monkeypatch.setattr(message_delegate, "HEIGHT_CACHE_SIZE", 8)
    delegate = MessageDelegate()
    delegate.set_style(QFont(), QApplication.palette())
    delegate.set_width(800)
    model = MessageListModel()
    model.set_chat(CHAT, _views(0, 12), total=12)
    option = QStyleOptionViewItem()
    sizes = [delegate.sizeHint(option, model.index(n, 0)) for n in range(model.rowCount())]
    assert list(delegate._sizes) == [model.row_at(n).key for n in range(4, 12)]
    assert delegate.sizeHint(option, model.index(11, 0)) == sizes[11]
    assert all(size.height() > 0 for size in sizes)
