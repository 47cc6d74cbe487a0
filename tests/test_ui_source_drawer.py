"""The source drawer: numbered cards with passage, location and metadata; copy and open rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from ui_helpers import USER, offline_factory

from galileio_desktop.data.schema import Source
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.conversation.source_drawer import SourceDrawer, metadata_rows
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui


class Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def answer(tmp_path: Path) -> tuple[Path, str]:
    mirror = tmp_path / "mirror.sqlite3"
    with ChatLibrary(mirror, USER, None) as library:
        chat = library.create_chat("Sources")
        message = library.add_message(
            chat.chat_id,
            "ai",
            "An answer",
            [
                {
                    "pageContent": "Meals are reimbursed <b>per diem</b>.",
                    "metadata": {
                        "source_location": "s3://docs-bucket/policies/Travel%20Policy.pdf",
                        "section_index": 3,
                    },
                },
                {
                    "pageContent": "Receipts above 25 EUR.",
                    "metadata": {
                        "url": "https://intranet.example.com/receipts",
                        "score": 0.82,
                        "tags": ["finance"],
                    },
                },
                {"pageContent": "No location here.", "metadata": {}},
            ],
        )
    return mirror, message.message_id


@pytest.fixture
def drawer(qtbot, answer):
    client = WorkerClient(offline_factory(answer[0]), periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    drawer = SourceDrawer(client)
    qtbot.addWidget(drawer)
    drawer.resize(360, 700)
    drawer.show()
    with qtbot.waitSignal(drawer.sig_sources_shown, timeout=5000):
        drawer.show_answer(answer[1])
    yield drawer
    client.shutdown()


def test_cards_show_number_passage_location_and_metadata(drawer: SourceDrawer) -> None:
    assert [c.number_label.text() for c in drawer.cards] == ["1", "2", "3"]
    first = drawer.cards[0]
    assert first.passage_label.text() == "Meals are reimbursed <b>per diem</b>."
    assert first.passage_label.textFormat() == Qt.TextFormat.PlainText  # untrusted: never rich text
    assert first.location_label.text() == "Travel Policy.pdf"
    assert first.location_label.toolTip() == "s3://docs-bucket/policies/Travel%20Policy.pdf"
    assert [label.text() for label in first.metadata_labels] == ["3"]
    assert not first.open_button.isVisibleTo(drawer)  # s3 is never opened
    assert drawer.cards[1].open_button.isVisibleTo(drawer)
    assert drawer.cards[2].location_label.text() == "Unknown location"
    assert not drawer.cards[2].copy_button.isEnabled()
    assert "2 cited" not in drawer.subtitle_label.text() and "3 cited" in drawer.subtitle_label.text()


def test_copy_location_copies_the_full_uri(qtbot, drawer: SourceDrawer) -> None:
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(drawer.cards[0].copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "s3://docs-bucket/policies/Travel%20Policy.pdf"


def test_http_locations_open_only_on_click(qtbot, drawer: SourceDrawer) -> None:
    opened = Opened()
    for scheme in ("https", "http", "s3"):
        QDesktopServices.setUrlHandler(scheme, opened, "handle")
    try:
        assert opened.urls == []
        qtbot.mouseClick(drawer.cards[1].open_button, Qt.MouseButton.LeftButton)
        assert opened.urls == ["https://intranet.example.com/receipts"]
        drawer.cards[0].open_button.click()  # hidden for s3; even a forced click opens nothing
        assert opened.urls == ["https://intranet.example.com/receipts"]
    finally:
        for scheme in ("https", "http", "s3"):
            QDesktopServices.unsetUrlHandler(scheme)


def test_clearing_and_no_sources(qtbot, drawer: SourceDrawer) -> None:
    drawer.show_answer("")
    assert drawer.cards == [] and drawer.empty_label.isVisible()
    drawer.set_sources("m-x", [])
    assert "no sources" in drawer.empty_label.text()


def test_metadata_rows_skip_the_location_and_shorten_values() -> None:
    source = Source("0", "m", "c", USER, "text", {"source": "s3://b/k", "blob": "x" * 1000, "n": 1}, 0)
    rows = dict(metadata_rows(source))
    assert "source" not in rows and rows["n"] == "1" and len(rows["blob"]) == 300
