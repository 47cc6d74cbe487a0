"""Reading answers in the real message pane: select and copy text across messages,
citations, code blocks (never wrapped, scrolled sideways, Copy), tables that fit or
open whole, keyboard focus through the parts of a message, and what screen readers get."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QTextFormat
from PySide6.QtWidgets import QApplication
from ui_helpers import USER, offline_factory, shown_pane

from galileio_desktop.ui.conversation.message_document import citation_number, table_number
from galileio_desktop.ui.conversation.message_list_model import MessageRoles
from galileio_desktop.ui.conversation.message_pane import MessagePane
from galileio_desktop.ui.conversation.text_selection import TextPoint, TextSelection
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui

LONG_SQL_LINE = (
    "SELECT " + ", ".join(f"customer_attribute_number_{n}" for n in range(12)) + " FROM sales.dim_customer"
)
CODE = f"{LONG_SQL_LINE}\nWHERE is_active\n  AND region = 'EU'\t-- a tab inside"
ANSWER = (
    "Rows are **counted** once [1], as the runbook says [2]. There is no source [3].\n\n"
    f"```sql\n{CODE}\n```\n\n"
    "Inline `x[1]` is code, not a citation."
)
HEADERS = [f"customer_lifetime_value_col_{n}" for n in range(18)]
TABLE = (
    "| "
    + " | ".join(HEADERS)
    + " |\n|"
    + "---|" * 18
    + "\n"
    + "| "
    + " | ".join(str(n * 10) for n in range(18))
    + " |\n"
)
SOURCES = [
    {
        "pageContent": "Each row is counted once per customer.\nSecond line.",
        "metadata": {"source_location": "s3://docs/counting.md"},
    },
    {"pageContent": "The runbook says so.", "metadata": {"source_location": "s3://docs/runbook.md"}},
]


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, str]:
    from galileio_desktop.data.sync import ChatLibrary

    mirror = tmp_path / "mirror.sqlite3"
    with ChatLibrary(mirror, USER, None) as library:
        chat = library.create_chat("Reading")
        library.add_message(chat.chat_id, "human", "How are **rows** counted?")
        library.add_message(chat.chat_id, "ai", ANSWER, SOURCES)
        library.add_message(chat.chat_id, "human", "And the wide table?")
        library.add_message(chat.chat_id, "ai", "Here it is:\n\n" + TABLE)
    return mirror, chat.chat_id


@pytest.fixture
def pane(qtbot, client: WorkerClient, chat) -> MessagePane:
    pane = shown_pane(qtbot, client, chat[1], "Reading", (760, 1400))
    qtbot.waitUntil(lambda: not pane.delegate.has_pending(), timeout=3000)
    return pane


def _row(pane: MessagePane, number: int):  # noqa: ANN202
    return pane.model.row_at(number)


def _text_point(pane: MessagePane, number: int, pos: int) -> QPoint:
    """The viewport point of character ``pos`` of row ``number``'s text."""
    view, delegate = pane.view, pane.delegate
    row = _row(pane, number)
    index = pane.model.index(number, 0)
    geo = delegate.geometry(row, str(index.data(MessageRoles.STATE_TEXT) or ""))
    doc = delegate.document(row)
    block = doc.findBlock(pos)
    layout = block.layout()
    line = layout.lineForTextPosition(pos - block.position())
    x = line.cursorToX(pos - block.position())[0] + layout.position().x()
    y = line.y() + line.height() / 2 + layout.position().y()
    top_left = view.visualRect(index).topLeft()
    return QPoint(
        int(top_left.x() + geo.text_origin.x() + x + 1), int(top_left.y() + geo.text_origin.y() + y)
    )


def _find(pane: MessagePane, number: int, text: str) -> int:
    plain = pane.delegate.document(_row(pane, number)).toPlainText()
    at = plain.find(text)
    assert at >= 0, (text, plain)
    return at


def _clipboard() -> str:
    return QGuiApplication.clipboard().text()


def test_dragging_across_two_messages_copies_their_text_as_read(qtbot, pane: MessagePane) -> None:
    viewport = pane.view.viewport()
    start = _text_point(pane, 0, _find(pane, 0, "rows"))
    end = _text_point(pane, 1, _find(pane, 1, "once"))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert pane.view.selected_text() == "rows counted?\n\nRows are counted "
    pane.view.setFocus()
    QGuiApplication.clipboard().clear()
    pane.copy_action.trigger()
    assert _clipboard() == "rows counted?\n\nRows are counted "
    pane.copy_markdown_action.trigger()
    assert "**counted**" in _clipboard()  # the same selection as Markdown


def test_copy_without_a_selection_takes_the_current_message_as_read(qtbot, pane: MessagePane) -> None:
    pane.select_key(_row(pane, 0).key)
    pane.copy_action.trigger()
    assert _clipboard() == "How are rows counted?"
    pane.copy_markdown_action.trigger()
    assert _clipboard() == "How are **rows** counted?"


def test_double_click_selects_a_word_and_triple_click_a_paragraph(qtbot, pane: MessagePane) -> None:
    viewport = pane.view.viewport()
    point = _text_point(pane, 1, _find(pane, 1, "runbook") + 2)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert pane.view.selected_text() == "runbook"
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert pane.view.selected_text().startswith("Rows are counted once [1], as the runbook says [2].")
    assert "SELECT" not in pane.view.selected_text()  # one paragraph, not the code after it


def test_shift_arrows_extend_the_selection_into_the_next_message(qtbot, pane: MessagePane) -> None:
    pane.select_key(_row(pane, 0).key)
    pane.view.setFocus()
    qtbot.keyClick(
        pane.view, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
    )
    assert pane.view.selected_text() == "How are rows counted?"
    qtbot.keyClick(pane.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(
        pane.view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
    )
    assert pane.view.selected_text().startswith("How are rows counted?\n\nRows")
    qtbot.keyClick(pane.view, Qt.Key.Key_Escape)
    assert pane.view.selected_text() == ""


def test_a_click_without_dragging_leaves_no_selection_and_ctrl_a_takes_the_message(
    qtbot, pane: MessagePane
) -> None:
    viewport = pane.view.viewport()
    point = _text_point(pane, 2, 3)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert pane.view.selected_text() == ""
    pane.view.setFocus()
    qtbot.keyClick(pane.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert pane.view.selected_text() == "And the wide table?"


def test_citations_that_match_a_source_are_links_and_others_stay_text(pane: MessagePane) -> None:
    doc = pane.delegate.document(_row(pane, 1))
    hrefs = [a.href for a in doc.parts.anchors]
    assert [citation_number(h) for h in hrefs if citation_number(h)] == [1, 2]  # not [3], not x[1]
    inline = _find(pane, 1, "x[1]")
    cursor = doc.find("x[1]", inline)
    assert not cursor.charFormat().isAnchor()


def test_clicking_a_citation_asks_for_that_source(qtbot, pane: MessagePane) -> None:
    doc = pane.delegate.document(_row(pane, 1))
    second = next(a for a in doc.parts.anchors if citation_number(a.href) == 2)
    point = _text_point(pane, 1, second.start + 1)
    with qtbot.waitSignal(pane.sig_citation_clicked, timeout=3000) as blocker:
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [_row(pane, 1).message_id, 2]


def test_hovering_a_citation_previews_its_passage(qtbot, pane: MessagePane) -> None:
    doc = pane.delegate.document(_row(pane, 1))
    first = next(a for a in doc.parts.anchors if citation_number(a.href) == 1)
    pane.citations.last_text = ""

    def hover() -> bool:  # rows may still settle (a late layout): aim again each time
        qtbot.mouseMove(pane.view.viewport(), _text_point(pane, 1, first.start + 1))
        return pane.view.hovered_citation() == (_row(pane, 1).key, 1)

    qtbot.waitUntil(hover, timeout=3000)
    qtbot.waitUntil(lambda: pane.citations.last_text != "", timeout=3000)
    assert pane.citations.last_text.startswith("[1] counting.md\n")
    assert "Each row is counted once per customer." in pane.citations.last_text


def test_code_never_wraps_scrolls_sideways_and_copies_exactly(qtbot, pane: MessagePane) -> None:
    row = _row(pane, 1)
    doc = pane.delegate.document(row)
    assert len(doc.parts.code) == 1 and doc.parts.code[0].text == CODE
    for block in doc.parts.code[0].blocks(doc):
        assert block.blockFormat().boolProperty(QTextFormat.Property.BlockNonBreakableLines)
        assert block.layout().lineCount() == 1  # the 300-character line is one line
    area = pane.delegate.code_areas(row, doc)[0]
    assert area.overflow > 0
    view = pane.view
    index = pane.model.index(1, 0)
    geo = pane.delegate.geometry(row, "")
    over_code = view.visualRect(index).topLeft() + geo.text_origin + area.lines.center().toPoint()
    from PySide6.QtGui import QWheelEvent

    wheel = QWheelEvent(
        QPointF(over_code),
        QPointF(view.viewport().mapToGlobal(over_code)),
        QPoint(),
        QPoint(-240, 0),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert pane.delegate.code_offsets[(row.key, 0)] > 0
    copy_at = view.visualRect(index).topLeft() + geo.text_origin + area.copy.center().toPoint()
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(view.sig_code_copied, timeout=3000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=copy_at)
    assert _clipboard() == CODE
    assert pane.delegate.copied_code == (row.key, 0)  # the button reads "Copied"
    qtbot.waitUntil(lambda: pane.delegate.copied_code is None, timeout=4000)


def test_an_18_column_table_never_breaks_a_word_and_opens_whole(qtbot, pane: MessagePane) -> None:
    row = _row(pane, 3)
    doc = pane.delegate.document(row)
    assert len(doc.parts.tables) == 1
    opener = next(a for a in doc.parts.anchors if table_number(a.href) == 0)
    label = doc.toPlainText()[opener.start : opener.end]
    assert label.startswith("Showing ") and label.endswith("of 18 columns. Open table")
    block = doc.begin()
    while block.isValid():  # no line of any cell ends inside a word
        layout = block.layout()
        text = block.text()
        for n in range(layout.lineCount() - 1):
            line = layout.lineAt(n)
            end = line.textStart() + line.textLength()
            assert text[end - 1].isspace() or not text[end].isalnum(), text
        block = block.next()
    point = _text_point(pane, 3, opener.end - 3)
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    from galileio_desktop.ui.conversation.table_view_dialog import TableViewDialog

    qtbot.waitUntil(lambda: any(d.isVisible() for d in pane.findChildren(TableViewDialog)), timeout=3000)
    dialog = next(d for d in pane.findChildren(TableViewDialog) if d.isVisible())
    assert dialog.windowTitle()
    dialog.close()


def test_tab_walks_the_links_and_copy_buttons_of_a_message(qtbot, pane: MessagePane) -> None:
    row = _row(pane, 1)
    pane.select_key(row.key)
    pane.view.setFocus()
    seen = []
    for _ in range(4):
        qtbot.keyClick(pane.view, Qt.Key.Key_Tab)
        seen.append(pane.delegate.focus_part)
    assert seen == [(row.key, "anchor", 0), (row.key, "anchor", 1), (row.key, "copy", 0), None]
    assert pane.view.currentIndex().row() == 2  # on to the next message
    qtbot.keyClick(pane.view, Qt.Key.Key_Backtab)
    assert pane.delegate.focus_part == (row.key, "copy", 0)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    assert _clipboard() == CODE


def test_screen_readers_hear_the_rendered_text_with_author_and_time(pane: MessagePane) -> None:
    text = pane.model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert text.startswith("You, ")
    assert "How are rows counted?" in text and "**" not in text


def test_a_selection_survives_an_older_page_inserted_above(pane: MessagePane) -> None:
    first, second = _row(pane, 0), _row(pane, 1)
    pane.view.set_text_selection(TextSelection(TextPoint(first.key, 4), TextPoint(second.key, 4)))
    before = pane.view.selected_text()
    assert before.startswith("are rows counted?")
    assert pane.view.selected_text(markdown=True).startswith("are **rows** counted?")


def test_in_the_window_a_citation_click_opens_the_drawer_on_that_source(qtbot, tmp_path: Path, chat) -> None:
    from ui_helpers import local_docs_factory, write_docs

    from galileio_desktop.ui.app_window import build_window

    window = build_window(
        offline_factory(chat[0]),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3"),
        "analyst@example.com",
        tmp_path / "settings",
    )
    qtbot.addWidget(window)
    window.resize(1400, 1000)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    pane = window.pane
    if pane.chat_id != chat[1]:
        with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
            window.sidebar.select_chat(chat[1])
    window.set_drawer_visible(False)
    qtbot.waitUntil(lambda: not pane.delegate.has_pending(), timeout=3000)
    pane.view.scrollTo(pane.model.index(1, 0))
    doc = pane.delegate.document(_row(pane, 1))
    second = next(a for a in doc.parts.anchors if citation_number(a.href) == 2)
    with qtbot.waitSignal(window.drawer.sig_source_revealed, timeout=5000) as revealed:
        qtbot.mouseClick(
            pane.view.viewport(), Qt.MouseButton.LeftButton, pos=_text_point(pane, 1, second.start + 1)
        )
    assert revealed.args == [2]
    assert window.drawer.isVisible()  # shown again for the citation
    assert window.drawer.highlighted_number == 2
    assert "runbook" in window.drawer.cards[1].source.page_content
    window.close()
