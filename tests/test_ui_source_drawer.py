"""The source drawer: cards that say what each source is, collapse, filter, copy with
feedback, open only after asking, show a cited source on request, keep their contrast
when the theme changes, and stay responsive with thousands of sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QPoint, QRect, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from ui_helpers import USER, StallMeter, offline_factory

from galileio_desktop.data.schema import Source
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui import theme
from galileio_desktop.ui.conversation import source_drawer
from galileio_desktop.ui.conversation.source_card import SourceCard, contrast_ratio
from galileio_desktop.ui.conversation.source_drawer import SourceDrawer
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui

S3_WITH_SPACES = "s3://docs-bucket/Politique de voyage/été 2024+final.pdf"
CONSOLE_URL = (
    "https://eu-west-1.console.aws.amazon.com/s3/object/docs-bucket?region=eu-west-1&bucketType=general"
    "&prefix=Politique%20de%20voyage/%C3%A9t%C3%A9%202024%2Bfinal.pdf"
)
DRAFTS: list[dict[str, Any]] = [
    {
        "pageContent": "Meals are reimbursed <b>per diem</b>.\n\n**Receipts** above 25 EUR, see "
        "[the rules](https://intranet.example.com/rules). ![chart](http://127.0.0.1:9/chart.png)",
        "metadata": {"source_location": S3_WITH_SPACES, "section_index": 3, "page": 4, "score": 0.5934},
    },
    {
        "pageContent": "Receipts above 25 EUR.",
        "metadata": {"url": "https://intranet.example.com/receipts", "score": 0.82, "tags": ["finance"]},
    },
    {"pageContent": "No location here.", "metadata": {}},
]


class Opened(QObject):
    """Receives what the desktop would open, instead of a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(bytes(url.toEncoded().data()).decode())


@pytest.fixture
def opened() -> Iterator[Opened]:
    receiver = Opened()
    for scheme in ("https", "http", "s3"):
        QDesktopServices.setUrlHandler(scheme, receiver, "handle")
    yield receiver
    for scheme in ("https", "http", "s3"):
        QDesktopServices.unsetUrlHandler(scheme)


def seed(mirror: Path, drafts: list[dict[str, Any]]) -> str:
    with ChatLibrary(mirror, USER, None) as library:
        chat = library.create_chat("Sources")
        return library.add_message(chat.chat_id, "ai", "An answer", drafts).message_id


@pytest.fixture
def client(qtbot, tmp_path: Path) -> Iterator[tuple[WorkerClient, Path]]:
    mirror = tmp_path / "mirror.sqlite3"
    with ChatLibrary(mirror, USER, None):
        pass
    worker = WorkerClient(offline_factory(mirror), periodic_sync=False)
    with qtbot.waitSignal(worker.sig_started, timeout=10_000):
        worker.start()
    yield worker, mirror
    worker.shutdown()


def make_drawer(qtbot, worker: WorkerClient, width: int = 340) -> SourceDrawer:
    drawer = SourceDrawer(worker)
    qtbot.addWidget(drawer)
    drawer.resize(width, 700)
    drawer.show()
    return drawer


@pytest.fixture
def drawer(qtbot, client) -> SourceDrawer:
    worker, mirror = client
    message_id = seed(mirror, DRAFTS)
    drawer = make_drawer(qtbot, worker)
    drawer.set_region("eu-west-1")
    with qtbot.waitSignal(drawer.sig_sources_shown, timeout=5000):
        drawer.show_answer(message_id)
    return drawer


def many_sources(count: int, documents: int = 3) -> list[Source]:
    return [
        Source(
            str(i),
            "m-many",
            "c",
            USER,
            f"Passage {i}.",
            {"source_location": f"s3://b-1/doc{i % documents}.pdf"},
            0,
        )
        for i in range(count)
    ]


def visible(drawer: SourceDrawer) -> list[SourceCard]:
    return [card for card in drawer.cards if card.isVisibleTo(drawer)]


def test_cards_show_name_full_location_labelled_metadata_and_markdown(drawer: SourceDrawer) -> None:
    first, second, third = drawer.cards
    assert [card.badge.number for card in drawer.cards] == [1, 2, 3]
    assert all(card.expanded for card in drawer.cards)  # few sources: open
    assert not drawer.toolbar.isVisibleTo(drawer)
    assert first.name_label.full_text() == "été 2024+final.pdf"
    assert first.location_field.location == S3_WITH_SPACES
    shown = first.location_field.shown_text()
    assert shown.startswith("s3://") and shown.endswith(".pdf")  # elided in the middle, if at all
    assert first.location_field.isReadOnly()
    assert [
        (k.full_text(), v.full_text())
        for k, v in zip(first.body.key_labels, first.metadata_labels, strict=True)
    ] == [
        ("Page", "4"),
        ("Section", "3"),
        ("Relevance", "0.59"),
    ]
    text = first.passage_view.safe_document.toPlainText()
    assert "<b>per diem</b>" in text  # raw HTML stays text
    assert "**" not in text and "Receipts above" in text  # Markdown is rendered
    assert "[image: chart]" in text and first.passage_view.safe_document.refused == []  # nothing loaded
    assert [
        (k.full_text(), v.full_text())
        for k, v in zip(second.body.key_labels, second.metadata_labels, strict=True)
    ] == [
        ("Relevance", "0.82"),
        ("tags", "finance"),
    ]
    assert third.name_label.full_text() == "Unknown location"
    assert not third.copy_button.isVisibleTo(drawer)
    assert third.location_field.shown_text() == "This source names no location"
    assert drawer.subtitle_label.text() == "3 sources cited by the selected answer"


def test_narrow_drawer_elides_and_never_overflows(qtbot, client) -> None:
    worker, _ = client
    drawer = make_drawer(qtbot, worker, width=280)
    long_location = "s3://docs-bucket/" + "very-long-folder-name/" * 40 + "report.pdf"
    drawer.set_region("eu-west-1")
    drawer.set_sources(
        "m",
        [
            Source(
                "0", "m", "c", USER, "x" * 5000, {"source_location": long_location, "k" * 500: "v" * 5000}, 0
            ),
            Source(
                "1", "m", "c", USER, "text", {"title": "T" * 2000, "nested": {"a": [{"b": [1] * 500}]}}, 0
            ),
        ],
    )
    qtbot.waitUntil(lambda: drawer.scroll_area.verticalScrollBar().isVisible())  # laid out, scrolling
    viewport = drawer.scroll_area.viewport().width()
    for card in drawer.cards:
        assert card.width() <= viewport
        for child in card.findChildren(QWidget):
            if child.isVisibleTo(card):
                assert child.mapTo(card, QPoint(child.width(), 0)).x() <= card.width(), child
    passages = [card.passage_view for card in drawer.cards]
    # The passage is as tall as its text once laid out: no last line cut off.
    qtbot.waitUntil(
        lambda: all(p.safe_document.size().height() <= p.height() for p in passages), timeout=3000
    )
    field = drawer.cards[0].location_field
    assert "…" in field.shown_text() and field.shown_text().endswith("report.pdf")  # middle elided
    assert drawer.cards[1].name_label.is_elided()


def test_many_sources_start_collapsed_with_filter_and_collapse_all(qtbot, client) -> None:
    worker, _ = client
    drawer = make_drawer(qtbot, worker)
    drawer.set_sources("m-many", many_sources(12))
    assert drawer.toolbar.isVisibleTo(drawer)
    assert not any(card.expanded or card.has_body for card in drawer.cards)  # one line each, no body yet
    header = drawer.cards[0].toggle_button.sizeHint().height()
    qtbot.waitUntil(lambda: drawer.cards[0].height() > 0)
    assert drawer.cards[0].height() < 2 * header + 16
    assert drawer.collapse_button.text() == "Expand all"

    qtbot.mouseClick(drawer.collapse_button, Qt.MouseButton.LeftButton)
    assert all(card.expanded for card in drawer.cards) and drawer.collapse_button.text() == "Collapse all"
    qtbot.mouseClick(drawer.collapse_button, Qt.MouseButton.LeftButton)
    assert not any(card.expanded for card in drawer.cards)

    combo = drawer.filter_combo
    assert combo.itemText(0) == "All documents (12)" and combo.count() == 4
    doc1 = combo.findData("s3://b-1/doc1.pdf")
    assert "doc1.pdf (4)" in combo.itemText(doc1)
    combo.setCurrentIndex(doc1)
    combo.activated.emit(doc1)
    assert [card.number for card in visible(drawer)] == [2, 5, 8, 11]
    assert drawer.subtitle_label.text() == "4 of 12 sources, from one document"

    qtbot.mouseClick(drawer.cards[1].toggle_button, Qt.MouseButton.LeftButton)  # one card opens alone
    assert drawer.cards[1].expanded and drawer.cards[1].body.isVisibleTo(drawer)
    assert not drawer.cards[4].expanded
    qtbot.mouseClick(drawer.cards[1].toggle_button, Qt.MouseButton.LeftButton)
    assert not drawer.cards[1].body.isVisibleTo(drawer)


def test_copy_gives_the_whole_location_and_says_so(qtbot, drawer: SourceDrawer) -> None:
    QGuiApplication.clipboard().clear()
    card = drawer.cards[0]
    assert card.copy_button.text() == "Copy S3 URI"
    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == S3_WITH_SPACES
    assert card.copy_button.text() == "Copied ✓" and card.copy_button.isVisibleTo(drawer)
    qtbot.waitUntil(lambda: card.copy_button.text() == "Copy S3 URI", timeout=5000)
    qtbot.mouseClick(drawer.cards[1].copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "https://intranet.example.com/receipts"
    assert drawer.cards[1].copy_button.text() == "Copied ✓"


def confirm(qtbot, drawer: SourceDrawer, accept: bool) -> str:
    """Answer the open confirmation; returns what it showed."""
    box = drawer.confirmation
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible)
    shown = f"{box.text()}\n{box.informativeText()}"
    button = drawer.confirmation_accept_button() if accept else box.button(QMessageBox.StandardButton.Cancel)
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return shown


def test_s3_sources_open_in_the_aws_console_after_a_confirmation(qtbot, drawer: SourceDrawer, opened) -> None:
    card = drawer.cards[0]
    assert card.console_button.isVisibleTo(drawer) and not card.open_button.isVisibleTo(drawer)
    qtbot.mouseClick(card.console_button, Qt.MouseButton.LeftButton)
    shown = confirm(qtbot, drawer, accept=False)
    assert CONSOLE_URL in shown and "eu-west-1" in shown
    assert opened.urls == []  # cancelled: nothing opens
    qtbot.mouseClick(card.console_button, Qt.MouseButton.LeftButton)
    confirm(qtbot, drawer, accept=True)
    assert opened.urls == [CONSOLE_URL]

    drawer.set_region("")  # no region known: the console finds the bucket itself
    qtbot.mouseClick(card.console_button, Qt.MouseButton.LeftButton)
    confirm(qtbot, drawer, accept=True)
    assert opened.urls[-1].startswith(
        "https://s3.console.aws.amazon.com/s3/object/docs-bucket?prefix=Politique%20"
    )
    drawer.set_region("not a region")
    assert drawer.region == ""


def test_http_sources_and_passage_links_open_only_after_a_confirmation(
    qtbot, drawer: SourceDrawer, opened
) -> None:
    second = drawer.cards[1]
    assert second.open_button.isVisibleTo(drawer) and not second.console_button.isVisibleTo(drawer)
    qtbot.mouseClick(second.open_button, Qt.MouseButton.LeftButton)
    assert opened.urls == []  # asked first
    assert "https://intranet.example.com/receipts" in confirm(qtbot, drawer, accept=True)
    assert opened.urls == ["https://intranet.example.com/receipts"]

    drawer.cards[0].passage_view.anchorClicked.emit(QUrl("https://intranet.example.com/rules"))
    confirm(qtbot, drawer, accept=True)
    drawer.cards[0].passage_view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert drawer.confirmation is None or not drawer.confirmation.isVisible()  # never offered
    assert opened.urls == ["https://intranet.example.com/receipts", "https://intranet.example.com/rules"]
    drawer.cards[0].open_button.click()  # hidden for s3; even a forced click opens nothing
    assert drawer.confirmation is None or not drawer.confirmation.isVisible()


def in_view(drawer: SourceDrawer, card: SourceCard) -> bool:
    top = card.mapTo(drawer.scroll_area.viewport(), QPoint(0, 0)).y()
    return 0 <= top < drawer.scroll_area.viewport().height()


def test_show_source_waits_for_sources_that_are_loading(qtbot, client) -> None:
    worker, mirror = client
    message_id = seed(mirror, DRAFTS)
    drawer = make_drawer(qtbot, worker)
    drawer.activateWindow()
    with qtbot.waitSignal(drawer.sig_source_revealed, timeout=5000) as revealed:
        drawer.show_answer(message_id)
        assert drawer.cards == []  # still loading
        assert drawer.show_source(2) is True
    assert revealed.args == [2]
    card = drawer.cards[1]
    assert card.expanded and card.highlighted and drawer.highlighted_number == 2
    assert card.isAncestorOf(QApplication.focusWidget())
    assert not drawer.show_source(4) and not drawer.show_source(0)  # no such sources
    assert drawer.highlighted_number == 2


def test_show_source_opens_highlights_and_scrolls_to_a_far_card(qtbot, client) -> None:
    worker, _ = client
    drawer = make_drawer(qtbot, worker)
    drawer.activateWindow()
    drawer.set_sources("m-many", many_sources(200))
    drawer.filter_combo.activated.emit(1)  # doc0 only: the source asked for is in another
    with qtbot.waitSignal(drawer.sig_source_revealed, timeout=5000):
        assert drawer.show_source(150)
    card = drawer.cards[149]
    assert card.expanded and card.highlighted and card.isVisibleTo(drawer)
    assert drawer.filter_combo.currentIndex() == 0  # the filter let go to show it
    assert drawer.scroll_area.verticalScrollBar().value() > 0 and in_view(drawer, card)
    assert card.isAncestorOf(QApplication.focusWidget())
    assert card.colours().border == theme.accent(card.palette())  # an accent border marks it
    assert drawer.cards[0].colours().border != card.colours().border

    with qtbot.waitSignal(drawer.sig_source_revealed, timeout=5000):
        assert drawer.show_source(3)
    assert drawer.cards[2].highlighted and not card.highlighted  # the highlight moved
    assert in_view(drawer, drawer.cards[2])
    assert not drawer.show_source(201)
    drawer.show_answer("")
    assert not drawer.show_source(1)


def dark_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1f1f1f",
        QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#161616",
        QPalette.ColorRole.AlternateBase: "#232323",
        QPalette.ColorRole.Text: "#e8e8e8",
        QPalette.ColorRole.Button: "#2b2b2b",
        QPalette.ColorRole.ButtonText: "#e8e8e8",
        QPalette.ColorRole.Highlight: "#3b82f6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#93c5fd",
        QPalette.ColorRole.PlaceholderText: "#a0a0a0",
        QPalette.ColorRole.ToolTipBase: "#2b2b2b",
        QPalette.ColorRole.ToolTipText: "#e8e8e8",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    return palette


def painted_contrast(card: SourceCard, widget: QWidget) -> float:
    """The contrast of ``widget``'s text as painted on ``card``: its strongest pixel
    against the card's own background (sampled inside the card's margin)."""
    image = card.grab().toImage()
    background = image.pixelColor(4, card.height() // 2)
    area = QRect(widget.mapTo(card, QPoint(0, 0)), widget.size()).intersected(card.rect())
    assert area.width() > 0 and area.height() > 0
    return max(
        contrast_ratio(image.pixelColor(x, y), background)
        for x in range(area.left(), area.right() + 1)
        for y in range(area.top(), area.bottom() + 1)
    )


def test_existing_cards_keep_their_contrast_when_the_theme_changes(qtbot, drawer: SourceDrawer) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    card = drawer.cards[0]
    parts = [
        card.name_label,
        card.body.key_labels[0],
        card.metadata_labels[0],
        card.location_field,
        card.passage_view,
    ]
    before = card.grab().toImage().pixelColor(4, card.height() // 2)
    try:
        app.setPalette(dark_palette())
        QApplication.processEvents()
        after = card.grab().toImage().pixelColor(4, card.height() // 2)
        assert after.lightness() < 80 < before.lightness()  # the card itself went dark
        for part in parts:
            assert painted_contrast(card, part) >= 4.5, part
        link = card.passage_view.safe_document.find("the rules").charFormat().foreground().color()
        assert contrast_ratio(link, after) >= 4.5
        drawer.show_source(1)
        assert painted_contrast(card, card.name_label) >= 4.5  # highlighted too
    finally:
        app.setPalette(light)
        QApplication.processEvents()
    for part in parts:
        assert painted_contrast(card, part) >= 4.5, part


def test_tab_reaches_every_card_and_its_buttons(qtbot, drawer: SourceDrawer) -> None:
    drawer.activateWindow()
    qtbot.waitUntil(drawer.isActiveWindow)
    first, second, third = drawer.cards
    drawer.focus_cards()
    order = [QApplication.focusWidget()]
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [
        first.toggle_button,
        first.copy_button,
        first.console_button,
        second.toggle_button,
        second.copy_button,
        second.open_button,
        third.toggle_button,
    ]
    assert "Source 1" in first.toggle_button.accessibleName()
    assert "été 2024+final.pdf" in first.toggle_button.accessibleName()
    assert first.copy_button.accessibleName() == "Copy S3 URI of source 1"
    assert first.console_button.accessibleName() == "Open source 1 in the AWS console"
    assert second.open_button.accessibleName() == "Open source 2 in the browser"
    qtbot.keyClick(third.toggle_button, Qt.Key.Key_Space)  # the keyboard folds a card
    assert not third.expanded


def test_cards_opened_later_join_the_tab_order_in_place(qtbot, client) -> None:
    worker, _ = client
    drawer = make_drawer(qtbot, worker)
    drawer.activateWindow()
    qtbot.waitUntil(drawer.isActiveWindow)
    drawer.set_sources("m-many", many_sources(8))
    first, second = drawer.cards[:2]
    drawer.focus_cards()
    qtbot.keyClick(first.toggle_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is second.toggle_button  # collapsed: one stop a card
    qtbot.keyClick(first.toggle_button, Qt.Key.Key_Space)
    assert first.expanded
    first.toggle_button.setFocus()
    qtbot.keyClick(first.toggle_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is first.copy_button
    qtbot.keyClick(first.copy_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is first.console_button
    qtbot.keyClick(first.console_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is second.toggle_button


def test_three_thousand_sources_never_freeze_the_window(qtbot, client) -> None:
    worker, _ = client
    drawer = make_drawer(qtbot, worker)
    sources = many_sources(3000, documents=40)
    meter = StallMeter().start()
    drawer.set_sources("m-many", sources)
    assert 0 < len(drawer.cards) <= source_drawer.FIRST_BATCH  # the first screen at once
    qtbot.waitUntil(lambda: len(drawer.cards) == 3000, timeout=60_000)
    worst = meter.stop()
    assert worst < 400, f"the window stalled {worst:.0f} ms"
    assert drawer.collapse_button.text() == "Expand all" and not drawer.collapse_button.isEnabled()
    with qtbot.waitSignal(drawer.sig_source_revealed, timeout=5000):
        assert drawer.show_source(2999)
    assert in_view(drawer, drawer.cards[2998])
    drawer.set_sources("m-few", sources[:2])
    assert len(drawer.cards) == 2 and not drawer.toolbar.isVisibleTo(drawer)


def test_clearing_and_no_sources(qtbot, drawer: SourceDrawer) -> None:
    drawer.show_answer("")
    assert drawer.cards == [] and drawer.empty_label.isVisible()
    drawer.set_sources("m-x", [])
    assert "no sources" in drawer.empty_label.text()
    assert not drawer.show_source(1)
