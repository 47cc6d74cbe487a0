"""Untrusted Markdown renders inert: no raw HTML, nothing loaded, only http(s) links opened on click."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QImage, QPainter, QTextFormat

from galileio_desktop.ui import links
from galileio_desktop.ui.conversation.safe_markdown import SafeMarkdownDocument, anchor_hrefs, render_markdown

pytestmark = pytest.mark.gui

HOSTILE = """# Title <script>alert(1)</script>

<img src="http://evil.example/pixel.png">

![tracker](https://evil.example/track.gif) and ![local](file:///etc/passwd)

[click me](javascript:alert(document.cookie)) [site](https://example.com/page) [file](file:///etc/hosts)

<a href="https://evil.example">raw anchor</a> <iframe src="https://evil.example"></iframe>

```python
print("<b>not bold</b>")
```
"""


class UrlRecorder(QObject):
    """A URL handler registered with QDesktopServices: records what would have been opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def url_recorder(qapp):
    recorder = UrlRecorder()
    schemes = ("http", "https", "javascript", "file", "s3")
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, recorder, "handle")
    yield recorder
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


def _rendered(text: str) -> SafeMarkdownDocument:
    doc = SafeMarkdownDocument()
    render_markdown(doc, text)
    doc.setTextWidth(500)
    image = QImage(600, 900, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    doc.drawContents(painter)  # layout and paint: when Qt would load images
    painter.end()
    return doc


def test_raw_html_is_shown_as_text(qapp) -> None:
    doc = _rendered(HOSTILE)
    plain = doc.toPlainText()
    assert "<script>alert(1)</script>" in plain
    assert '<img src="http://evil.example/pixel.png">' in plain
    assert "<iframe" in plain
    assert "<b>not bold</b>" in plain
    assert "raw anchor" in plain and "https://evil.example" in plain  # the raw <a> is text, not a link
    assert "https://evil.example" not in anchor_hrefs(doc)


def test_images_become_text_and_nothing_is_requested(qapp) -> None:
    doc = _rendered(HOSTILE)
    assert doc.refused == []  # Qt never even asked for a resource
    assert "[image: tracker]" in doc.toPlainText()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            assert not it.fragment().charFormat().isImageFormat()
            it += 1
        block = block.next()


def test_load_resource_refuses_everything(qapp) -> None:
    doc = SafeMarkdownDocument()
    assert (
        doc.loadResource(int(QTextFormat.ObjectTypes.ImageObject), QUrl("https://evil.example/x.png")) is None
    )
    assert doc.refused == ["https://evil.example/x.png"]


def test_code_blocks_use_a_fixed_font(qapp) -> None:
    doc = _rendered("text\n\n```\ncode line\n```\n")
    block = doc.findBlock(doc.toPlainText().index("code line"))
    fmt = block.charFormat()
    families = fmt.fontFamilies() or [fmt.fontFamily()]
    assert any("mono" in str(f).lower() for f in families) or fmt.fontFixedPitch()


def test_only_http_links_open(url_recorder: UrlRecorder) -> None:
    doc = _rendered(HOSTILE)
    hrefs = anchor_hrefs(doc)
    assert "javascript:alert(document.cookie)" in hrefs
    opened = [href for href in hrefs if links.open_on_click(href)]
    assert opened == ["https://example.com/page"]
    assert url_recorder.opened == ["https://example.com/page"]


def test_location_labels() -> None:
    assert links.location_label("s3://bucket/folder/Travel%20Policy.pdf") == "Travel Policy.pdf"
    assert links.location_label("https://intranet.example.com/finance/receipts") == "receipts"
    assert links.location_label("https://example.com/") == "example.com"
    assert links.location_label("docs/handbook.md") == "handbook.md"
    assert links.is_openable("https://example.com") and not links.is_openable("s3://bucket/key")
    assert not links.is_openable("javascript:alert(1)") and not links.is_openable("file:///etc/passwd")
