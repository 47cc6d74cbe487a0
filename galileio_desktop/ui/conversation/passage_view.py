"""A source's passage as safe Markdown (see :mod:`.safe_markdown`): as tall as its text,
no scroll bars of its own, transparent on its card, selectable, links reported on click.

The passage is untrusted: raw HTML shows as text, nothing is loaded, and a link is
never followed here; :attr:`PassageView.sig_link_clicked` hands it to the card, which
asks before opening. A passage longer than :data:`MAX_PASSAGE_CHARS` is cut (the full
text is one Copy away in the message's sources).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from .. import theme
from .safe_markdown import SafeMarkdownDocument, render_markdown

#: The most characters of a passage rendered; Markdown of a 400 KB item takes seconds.
MAX_PASSAGE_CHARS = 20_000


def passage_markdown(text: str) -> str:
    """The Markdown a card renders for ``text``: a placeholder when empty, cut when huge."""
    if not text.strip():
        return "*(no passage text)*"
    if len(text) <= MAX_PASSAGE_CHARS:
        return text
    rest = len(text) - MAX_PASSAGE_CHARS
    return f"{text[:MAX_PASSAGE_CHARS]}…\n\n*({rest:,} more characters not shown)*"


class PassageView(QTextBrowser):
    """Read-only rendered passage whose height follows its width.

    Signals:
        sig_link_clicked(url): the user clicked a link in the passage.
    """

    sig_link_clicked = Signal(str)
    """A link was clicked (its target, unchecked: the receiver decides what opens)."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self.passage = text
        self._link_colour: QColor | None = None
        self._heights: dict[int, int] = {}
        self.safe_document = SafeMarkdownDocument(self)

        # Setup
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Wrapped at the width heightForWidth measured (QTextEdit's own wrap leaves room
        # for a scroll bar this view never shows, and the last lines would be cut).
        self.setLineWrapMode(QTextBrowser.LineWrapMode.FixedPixelWidth)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName("Passage")
        self._render()

        # Signals
        self.anchorClicked.connect(self._on_anchor_clicked)

    def _render(self) -> None:
        """Render into a fresh document, then show it: a document on screen lays out (and
        asks for images) as it fills, before :func:`render_markdown` replaced them."""
        old, document = self.safe_document, SafeMarkdownDocument(self)
        document.setDocumentMargin(0)
        render_markdown(
            document,
            passage_markdown(self.passage),
            code_background=theme.code_background(self.palette()),
            base_font=self.font(),
        )
        self.safe_document = document
        self._heights.clear()
        self._colour_links()
        self.setDocument(document)
        document.documentLayout().documentSizeChanged.connect(self._on_document_size_changed)
        if old is not document:
            old.deleteLater()
        self.setAccessibleDescription(document.toPlainText()[:1000])
        self.updateGeometry()

    def set_link_colour(self, colour: QColor) -> None:
        """Paint links in ``colour`` (the card's readable accent)."""
        if colour != self._link_colour:
            self._link_colour = QColor(colour)
            self._colour_links()

    def _colour_links(self) -> None:
        if self._link_colour is None:
            return
        link = QTextCharFormat()
        link.setForeground(self._link_colour)
        cursor = QTextCursor(self.safe_document)
        block = self.safe_document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().isAnchor():
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    cursor.mergeCharFormat(link)
                it += 1
            block = block.next()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        """The height the passage needs at ``width`` (measured once a width; the shown
        document keeps its own wrap width, or the layout's trial widths would stick)."""
        height = self._heights.get(width)
        if height is None:
            margins = self.contentsMargins()
            document = self.safe_document
            shown_width = document.textWidth()
            document.setTextWidth(max(1, width - margins.left() - margins.right()))
            height = math.ceil(document.size().height()) + margins.top() + margins.bottom()
            document.setTextWidth(shown_width)
            self._heights[width] = height
        return height

    def sizeHint(self) -> QSize:
        width = max(self.width(), 100)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.heightForWidth(max(self.width(), 100)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = max(1, self.viewport().width())
        if self.lineWrapColumnOrWidth() != width:
            self.setLineWrapColumnOrWidth(width)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._render()  # code blocks and links take their colours when rendered

    @Slot()
    def _on_document_size_changed(self) -> None:
        self.updateGeometry()

    @Slot(QUrl)
    def _on_anchor_clicked(self, url: QUrl) -> None:
        self.sig_link_clicked.emit(url.toString())
