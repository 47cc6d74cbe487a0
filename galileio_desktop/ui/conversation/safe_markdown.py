"""Markdown of untrusted messages rendered by Qt, inert: no raw HTML, nothing loaded.

Message content comes from the table, which anyone with the web app (or a
compromised assistant) can write. So raw HTML is shown as text
(``MarkdownNoHTML``), images are replaced by a text marker before layout (Qt
would otherwise ask for them), and :meth:`SafeMarkdownDocument.loadResource`
refuses every resource anyway, as a second line of defence. Links stay links;
whether one is opened is decided on click by :mod:`.links`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

log = logging.getLogger(__name__)

MARKDOWN_FEATURES = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub | QTextDocument.MarkdownFeature.MarkdownNoHTML
)
_OBJECT_REPLACEMENT = "\ufffc"


class SafeMarkdownDocument(QTextDocument):
    """A QTextDocument that never loads a resource (images, style sheets), local or remote.

    ``refused`` lists every URL Qt asked for, so a test can prove that nothing
    was fetched and nothing was even requested.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.refused: list[str] = []
        self.setUndoRedoEnabled(False)

    def loadResource(self, type: int, name: QUrl | str) -> Any:  # noqa: A002 - Qt's signature
        self.refused.append(name.toString() if isinstance(name, QUrl) else str(name))
        log.debug("refused to load a resource of type %s from a message", type)
        return None


def render_markdown(
    document: QTextDocument,
    text: str,
    *,
    code_background: QColor | None = None,
    base_font: QFont | None = None,
) -> None:
    """Fill ``document`` with ``text`` as GitHub Markdown, raw HTML off, images as text."""
    if base_font is not None:
        document.setDefaultFont(base_font)
    document.setMarkdown(text, MARKDOWN_FEATURES)
    _replace_images(document)
    _style_code(document, code_background)


def _replace_images(document: QTextDocument) -> None:
    """Swap each image for "[image: alt]" so layout never asks for its URL."""
    plain = document.toPlainText()
    positions = []
    start = plain.find(_OBJECT_REPLACEMENT)
    cursor = QTextCursor(document)
    while start != -1:
        cursor.setPosition(start + 1)
        if cursor.charFormat().isImageFormat():
            positions.append(start)
        start = plain.find(_OBJECT_REPLACEMENT, start + 1)
    for position in reversed(positions):
        cursor.setPosition(position + 1)
        image = cursor.charFormat().toImageFormat()
        alt = image.property(QTextFormat.Property.ImageAltText)
        label = alt if isinstance(alt, str) and alt.strip() else "image"
        cursor.setPosition(position)
        cursor.setPosition(position + 1, QTextCursor.MoveMode.KeepAnchor)
        marker = QTextCharFormat()
        marker.setFontItalic(True)
        marker.setToolTip(image.name())
        cursor.insertText(f"[image: {label}]", marker)


def _style_code(document: QTextDocument, background: QColor | None) -> None:
    """Code blocks and inline code in the system's fixed font, blocks on a tinted background."""
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    block = document.begin()
    cursor = QTextCursor(document)
    while block.isValid():
        if block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence):
            if background is not None:
                fmt = QTextBlockFormat()
                fmt.setBackground(background)
                cursor.setPosition(block.position())
                cursor.mergeBlockFormat(fmt)
            char = QTextCharFormat()
            char.setFontFamilies([fixed.family(), "monospace"])
            cursor.setPosition(block.position())
            cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(char)
        block = block.next()


@functools.lru_cache(maxsize=128)
def plain_text_of(markdown: str) -> str:
    """``markdown`` as a reader hears it: rendered, then its plain text (no ``**``)."""
    document = SafeMarkdownDocument()
    render_markdown(document, markdown)
    return document.toPlainText().strip()


def anchor_hrefs(document: QTextDocument) -> list[str]:
    """Every link target in the document, in order (for tests and the copy-link action)."""
    hrefs: list[str] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                hrefs.append(fmt.anchorHref())
            it += 1
        block = block.next()
    return hrefs
