"""The message pane on a real library: paging, bottom anchoring, selection, links, copy."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox
from ui_helpers import USER, link_point

from galileio_desktop.ui.conversation.message_delegate import EXACT_TAIL_ROWS
from galileio_desktop.ui.conversation.message_list_model import MessageRoles
from galileio_desktop.ui.conversation.message_ops import PAGE_SIZE
from galileio_desktop.ui.conversation.message_pane import MessagePane
from galileio_desktop.ui.conversation.message_view import RELAYOUT_DELAY_MS
from galileio_desktop.ui.conversation.view_message_dialog import ViewMessageDialog

pytestmark = pytest.mark.gui


class Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def _at_bottom(pane: MessagePane) -> bool:
    bar = pane.view.verticalScrollBar()
    return bar.value() >= bar.maximum() - 2


def test_newest_page_first_scrolled_to_the_bottom(qtbot, pane: MessagePane) -> None:
    model = pane.model
    assert model.rowCount() == PAGE_SIZE and model.total == 120 and model.has_older()
    assert model.index(model.rowCount() - 1, 0).data().startswith("Answer number 119")
    qtbot.waitUntil(lambda: _at_bottom(pane), timeout=3000)
    assert pane.title_label.text() == "Long chat"
    assert model.index(model.rowCount() - 1, 0).data(MessageRoles.SOURCE_COUNT) == 1


def test_scrolling_to_the_top_loads_older_pages_and_keeps_the_place(qtbot, pane: MessagePane) -> None:
    model = pane.model
    bar = pane.view.verticalScrollBar()
    top_row_before = model.row_at(0)
    bar.setValue(0)
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE, timeout=5000)
    # The row that was at the top is still in view: the page went in above it.
    index = model.index(model.row_for(top_row_before.key), 0)
    rect = pane.view.visualRect(index)
    assert pane.view.viewport().rect().intersects(rect)
    bar.setValue(0)
    qtbot.waitUntil(lambda: model.rowCount() == 120, timeout=5000)
    assert not model.has_older()
    assert model.index(0, 0).data() == "Question number 0"


def test_a_refresh_drops_an_older_loaded_message_deleted_elsewhere(qtbot, pane: MessagePane, chat) -> None:
    from galileio_desktop.data.sync import ChatLibrary

    model = pane.model
    bar = pane.view.verticalScrollBar()
    bar.setValue(0)
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE, timeout=5000)
    old = model.row_at(3)  # loaded with the second page, far from the newest one
    with ChatLibrary(chat[0], USER, None) as library:  # as a sync that learnt of a delete
        library.delete_message(chat[1], old.message_id)
    pane.refresh()
    qtbot.waitUntil(lambda: model.row_for(old.key) is None, timeout=5000)
    assert model.total == 119 and model.rowCount() == 2 * PAGE_SIZE  # one older row read in its place


def test_new_rows_keep_the_view_at_the_bottom_only_when_it_was_there(qtbot, pane: MessagePane) -> None:
    model = pane.model
    qtbot.waitUntil(lambda: _at_bottom(pane), timeout=3000)
    model.start_answer("answer:x", 2**41)
    for _ in range(20):
        model.append_answer_text("answer:x", "more streamed text that wraps onto new lines ")
    qtbot.waitUntil(lambda: _at_bottom(pane), timeout=3000)
    bar = pane.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2 + 200)
    view = pane.view
    top = view.indexAt(view.viewport().rect().topLeft() + QPoint(1, 1))
    key, y = top.data(MessageRoles.KEY), view.visualRect(top).top()
    model.append_answer_text("answer:x", "even more " * 50)
    qtbot.wait(150)
    # Not yanked down while the user reads older text: the row read stays where it was
    # (the scroll value itself may move while rows above are measured).
    assert not _at_bottom(pane)
    assert abs(view.visualRect(model.index(model.row_for(key), 0)).top() - y) < 5


def test_clicking_an_answer_selects_it_and_asks_for_its_sources(qtbot, pane: MessagePane) -> None:
    model = pane.model
    row = model.rowCount() - 1
    rect = pane.view.visualRect(model.index(row, 0))
    with qtbot.waitSignal(pane.sig_answer_selected, timeout=3000) as blocker:
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0] == model.row_at(row).message_id


def _message_box(pane: MessagePane) -> QMessageBox | None:
    boxes = [box for box in pane.findChildren(QMessageBox) if box.isVisible()]
    return boxes[-1] if boxes else None


def test_links_open_only_http_only_on_click_and_after_a_confirmation(qtbot, pane: MessagePane) -> None:
    opened = Opened()
    for scheme in ("https", "http", "javascript"):
        QDesktopServices.setUrlHandler(scheme, opened, "handle")
    try:
        model = pane.model
        row = next(r for r in range(model.rowCount() - 1, -1, -1) if "[the docs]" in model.row_at(r).text)
        pane.view.scrollTo(model.index(row, 0))
        qtbot.wait(50)
        point = link_point(pane.view, row, "https://example.com/docs")
        qtbot.mouseMove(pane.view.viewport(), point)
        assert opened.urls == []  # hovering opens nothing
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        box = _message_box(pane)
        assert box is not None and "https://example.com/docs" in box.informativeText()
        assert opened.urls == []  # asked first, with the whole address shown
        box.button(QMessageBox.StandardButton.Cancel).click()
        assert opened.urls == []
        qtbot.waitUntil(lambda: _message_box(pane) is None, timeout=3000)
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        box = _message_box(pane)
        assert box is not None
        box.button(QMessageBox.StandardButton.Open).click()
        assert opened.urls == ["https://example.com/docs"]
        qtbot.waitUntil(lambda: _message_box(pane) is None, timeout=3000)
        js_point = link_point(pane.view, row, "javascript:alert(1)")
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=js_point)
        refused = _message_box(pane)
        assert refused is not None and refused.windowTitle() == "Link not opened"
        assert refused.button(QMessageBox.StandardButton.Open) is None
        refused.button(QMessageBox.StandardButton.Ok).click()
        assert opened.urls == ["https://example.com/docs"]
    finally:
        for scheme in ("https", "http", "javascript"):
            QDesktopServices.unsetUrlHandler(scheme)


def test_ctrl_c_copies_the_selected_message(qtbot, pane: MessagePane) -> None:
    model = pane.model
    row = model.rowCount() - 2
    pane.select_key(model.row_at(row).key)
    pane.view.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(pane.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == model.row_at(row).text


def test_view_message_dialog_shows_the_text_selectable(qtbot, pane: MessagePane) -> None:
    row = pane.model.row_at(pane.model.rowCount() - 1)
    dialog = ViewMessageDialog(row, "12:00", pane)
    qtbot.addWidget(dialog)
    assert dialog.text_edit.toPlainText() == row.text
    assert dialog.text_edit.isReadOnly()
    dialog.text_edit.selectAll()
    assert dialog.text_edit.textCursor().selectedText() == row.text
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == row.text


def test_a_page_shows_once_its_newest_rows_are_measured_the_rest_follow(qtbot, client, chat) -> None:
    """Laying out 50 Markdown answers at once would hold the window for a tenth of a second:
    the rows on screen (the newest) are measured first, the older ones a few at a time."""
    pane = MessagePane(client)
    qtbot.addWidget(pane)
    pane.resize(700, 600)
    pane.show()
    built: list[int] = []
    pane.sig_messages_shown.connect(lambda chat_id: built.append(pane.delegate.documents_built))
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat(chat[1], "Long chat")
    assert pane.model.rowCount() == PAGE_SIZE
    assert built and built[0] <= EXACT_TAIL_ROWS < PAGE_SIZE
    assert pane.delegate.has_pending()
    qtbot.waitUntil(lambda: not pane.delegate.has_pending(), timeout=5000)
    assert pane.delegate.documents_built >= PAGE_SIZE
    qtbot.waitUntil(lambda: _at_bottom(pane), timeout=3000)  # still at the newest message
    last = pane.model.index(pane.model.rowCount() - 1, 0)
    assert pane.view.viewport().rect().intersects(pane.view.visualRect(last))


def test_a_chat_opens_with_the_rows_that_fill_the_view_measured_and_no_more(qtbot, client, chat) -> None:
    """A row's document is built to measure it, and a chat opens in one turn of the event
    loop: in a short view, the newest rows that fill it are measured (every row it shows
    is exact), the others wait for the warmer."""
    pane = MessagePane(client)
    qtbot.addWidget(pane)
    pane.resize(700, 300)
    pane.show()
    built: list[int] = []
    pane.sig_messages_shown.connect(lambda chat_id: built.append(pane.delegate.documents_built))
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat(chat[1], "Long chat")
    assert built and 0 < built[0] < EXACT_TAIL_ROWS
    model, view = pane.model, pane.view
    shown = [
        model.row_at(r)
        for r in range(model.rowCount())
        if view.viewport().rect().intersects(view.visualRect(model.index(r, 0)))
    ]
    assert shown and all(pane.delegate.is_measured(row, model.state_text(row)) for row in shown)
    assert len(shown) <= built[0]
    qtbot.waitUntil(lambda: _at_bottom(pane), timeout=3000)
    qtbot.waitUntil(lambda: not pane.delegate.has_pending(), timeout=5000)
    assert _at_bottom(pane)  # still at the newest message once the rows above are measured


def test_a_chat_opened_behind_the_placeholder_is_wrapped_once_at_the_width_it_shows_at(
    qtbot, client, chat
) -> None:
    """The view waits hidden behind "Select a chat" with the width it had then, and its
    scroll bar shows only once the rows are laid out: the rows are wrapped to the width
    the viewport has with its bar, once (wrapped wider, the newest rows, measured at once,
    were built again 40 ms later, and shown cut meanwhile)."""
    pane = MessagePane(client)
    qtbot.addWidget(pane)
    pane.resize(700, 600)
    pane.show()
    qtbot.waitExposed(pane)
    assert not pane.view.isVisible()
    widths: list[int] = []
    set_width = pane.delegate.set_width

    def spy(width: int) -> bool:
        changed = set_width(width)
        if changed:
            widths.append(width)
        return changed

    pane.delegate.set_width = spy  # type: ignore[method-assign]
    at_shown: list[int] = []
    pane.sig_messages_shown.connect(lambda _chat_id: at_shown.append(len(widths)))
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat(chat[1], "Long chat")
    shown = pane.view.viewport().width()
    assert pane.view.verticalScrollBar().isVisible() and shown < pane.view.width()
    assert widths[-1] == shown  # the page went in at the width it shows at
    qtbot.wait(3 * RELAYOUT_DELAY_MS)
    assert len(widths) == at_shown[0] and pane.view.viewport().width() == shown  # and stays so


def test_a_layout_after_a_row_changed_keeps_the_row_read_in_place(qtbot, pane: MessagePane) -> None:
    """Rows above the one read may hold heights measured since the last layout (the row
    warmer lays the view out again only once they come near): a layout Qt makes on its
    own, after a row below changed, keeps the row read where it was."""
    from PySide6.QtCore import QSize

    view, model, delegate = pane.view, pane.model, pane.delegate
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    qtbot.waitUntil(lambda: not pane.warmer.is_active(), timeout=10_000)
    top = view.indexAt(view.viewport().rect().topLeft() + QPoint(1, 1))
    key, y = top.data(MessageRoles.KEY), view.visualRect(top).top()
    for number in range(max(0, top.row() - 3), top.row()):  # measured taller meanwhile
        row = model.row_at(number)
        taller = view.visualRect(model.index(number, 0)).height() + 40
        delegate._sizes[row.key] = (row, QSize(view.viewport().width(), taller))
    view.row_changed(model.index(model.rowCount() - 1, 0))  # an answer below grew
    qtbot.wait(50)
    assert abs(view.visualRect(model.index(model.row_for(key), 0)).top() - y) < 5


class _PaintWatch(QObject):
    """Notes, at each paint of the pane's rows, how many reads of the chat were started."""

    def __init__(self, pane: MessagePane) -> None:
        super().__init__(pane)
        self.pane = pane
        self.reads_at_paint: list[int] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and self.pane.model.rowCount():
            self.reads_at_paint.append(self.pane.revalidation.started)
        return False


def test_the_open_chat_is_read_again_only_once_its_rows_are_painted(qtbot, pane: MessagePane) -> None:
    """The chat is shown from the mirror first: when it is ready, its read from the server
    starts after the paint its rows asked for (a 0 ms single shot is a posted event, and
    Qt's paint requests go after posted events of normal priority: it started the read
    before the paint)."""
    qtbot.waitUntil(lambda: pane.revalidation.started >= 1, timeout=10_000)
    qtbot.wait(50)
    before = pane.revalidation.started
    watch = _PaintWatch(pane)
    pane.view.viewport().installEventFilter(watch)
    pane.view.viewport().update()  # rows just set, as a page going in asks
    pane.sig_chat_ready.emit(pane.chat_id)
    qtbot.waitUntil(lambda: pane.revalidation.started > before, timeout=5000)
    assert watch.reads_at_paint and watch.reads_at_paint[0] == before
