"""One source in the drawer: a one-line header (number, document name) that expands to
the full location, a labelled metadata list, the passage and the actions.

Everything shown comes from other writers, so every label is plain text, cut to fit
(see :mod:`..bidi`), and bidi controls in a location are shown, not obeyed. Colours are
taken from the palette when painted or when it changes, so a theme switched at runtime
recolours cards that already exist. The body (location, metadata, passage, actions) is
built the first time the card opens: a thousand collapsed cards cost a thousand headers.

Actions act on the location: Copy (with a moment of "Copied" on the button), for
``s3://`` locations "Open in AWS console", for http(s) "Open". Opening is the drawer's
business (it asks first): the card only says what was asked, by signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtGui import Qt as QtGuiNamespace  # the Qt namespace with QtGui's functions
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import bidi, links, theme
from ..elided_label import ElidedLabel
from ..flow_layout import FlowLayout
from . import source_metadata as sm
from .passage_view import PassageView
from .s3_console import parse_s3_uri

if TYPE_CHECKING:
    from ...data.schema import Source

#: How long a Copy button says "Copied".
COPIED_MS = 1500
#: The most metadata rows a card lists; the rest are counted.
MAX_ROWS = 30
#: WCAG AA for text, with a little room for rounding.
MIN_TEXT_CONTRAST = 4.6


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21)."""

    def luminance(colour: QColor) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(colour.redF())
            + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: QColor, background: QColor, toward: QColor) -> QColor:
    """``colour`` moved toward ``toward`` (the palette's text) until it reads on ``background``."""
    out = QColor(colour)
    for _ in range(10):
        if contrast_ratio(out, background) >= MIN_TEXT_CONTRAST:
            break
        out = theme.blend(out, toward, 0.2)
    return out


@dataclass(frozen=True)
class CardColours:
    """What a card paints with, for one palette and highlight state."""

    background: QColor
    border: QColor
    text: QColor
    muted: QColor
    accent: QColor
    on_accent: QColor

    @classmethod
    def of(cls, palette: QPalette, *, highlighted: bool = False) -> CardColours:
        text = palette.color(QPalette.ColorRole.Text)
        accent = theme.accent(palette)
        background = theme.ai_bubble(palette)
        if highlighted:
            background = theme.blend(background, accent, 0.12)
        on_accent = (
            QColor("#ffffff") if contrast_ratio(accent, QColor("#ffffff")) >= 4.5 else QColor("#0b1220")
        )
        return cls(
            background=background,
            border=accent if highlighted else theme.border(palette),
            text=readable(text, background, text),
            muted=readable(theme.muted_text(palette), background, text),
            accent=readable(accent, background, text),
            on_accent=on_accent,
        )


def tooltip(text: str) -> str:
    """``text`` as a tooltip that is always plain text (a tooltip would render HTML)."""
    return QtGuiNamespace.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)


def tint(widget: QWidget, colour: QColor) -> None:
    """Set the text colours of ``widget`` (only if they differ: setting one is an event)."""
    palette = widget.palette()
    roles = (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText)
    if all(palette.color(role) == colour for role in roles):
        return
    palette = QPalette(palette)
    for role in roles:
        palette.setColor(role, colour)
    widget.setPalette(palette)


class NumberBadge(QWidget):
    """The source's number in an accent circle, painted from the current palette."""

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.setFixedSize(self.sizeHint())
        self.setAccessibleName(f"Source number {number}")

    def sizeHint(self) -> QSize:
        side = max(22, self.fontMetrics().height() + 6)
        return QSize(max(side, self.fontMetrics().horizontalAdvance(str(self.number)) + 12), side)

    def paintEvent(self, event: QPaintEvent) -> None:
        colours = CardColours.of(self.palette())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.accent(self.palette()))
        rect = QRectF(self.rect())
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        font = theme.scaled_font(self.font(), 0.9, bold=True)
        painter.setFont(font)
        painter.setPen(colours.on_accent)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, str(self.number))


class LocationField(QLineEdit):
    """The full location, elided in the middle to fit; focused, it shows all of it to select."""

    def __init__(self, location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.location = location
        self._shown = (
            sm.reveal_controls(bidi.one_line(location)) if location else "This source names no location"
        )
        self.setReadOnly(True)
        self.setFrame(False)
        self.setStyleSheet("QLineEdit { background: transparent; border: none; padding: 0px; }")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setToolTip(tooltip(self._shown[: sm.MAX_VALUE_CHARS * 4]))
        self.setAccessibleName("Location")
        self.setAccessibleDescription(bidi.inline(location, 2000))
        self._show_elided()

    def shown_text(self) -> str:
        """The location as shown when the field is not focused (elided to fit)."""
        return self.text()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.setText(self._shown)
        self.setCursorPosition(0)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._show_elided()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.hasFocus():
            self._show_elided()

    def _show_elided(self) -> None:
        width = self.contentsRect().width() - 6
        text = (
            self.fontMetrics().elidedText(self._shown, Qt.TextElideMode.ElideMiddle, width)
            if width > 0
            else ""
        )
        if text != self.text():
            self.setText(text)
            self.setCursorPosition(0)


class SourceCard(QFrame):
    """One source: a header that toggles a body of location, metadata, passage and actions.

    Signals:
        sig_open_requested(url): the user asked to open an http(s) link (Open, a passage link).
        sig_console_requested(location): the user asked for the AWS console page of an s3 location.
        sig_toggled(expanded): the card was opened or closed by the user.
    """

    sig_open_requested = Signal(str)
    """Open ``url`` in the browser, once confirmed."""
    sig_console_requested = Signal(str)
    """Open the AWS console on the object of this ``s3://`` location, once confirmed."""
    sig_toggled = Signal(bool)
    """The card was expanded (True) or collapsed (False)."""

    def __init__(self, number: int, source: Source, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self.number = number
        self.source = source
        self.location = sm.source_location(source.metadata)
        self.name = sm.document_name(source.metadata) or "Unknown location"
        self.s3_object = parse_s3_uri(self.location)
        self.highlighted = False
        self._expanded = False
        self._body: CardBody | None = None

        # Widgets
        self.toggle_button = QToolButton(self)
        self.badge = NumberBadge(number, self)
        self.name_label = ElidedLabel(self.name, self)
        self.summary_label = ElidedLabel(sm.short_summary(source.metadata), self)

        # Setup
        self.setObjectName("sourceCard")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName(bidi.inline(f"Source {number}: {self.name}", 400))
        self.toggle_button.setAutoRaise(True)
        self.toggle_button.setAccessibleName(bidi.inline(f"Source {number}: {self.name}", 400))
        self._show_state()
        self.name_label.setFont(theme.scaled_font(self.name_label.font(), 1.0, bold=True))
        self.name_label.setForegroundRole(QPalette.ColorRole.Text)
        self.name_label.setToolTip(tooltip(self.name))
        self.summary_label.setAccessibleName("Where in the document")
        self.summary_label.setMinimumWidth(self.summary_label.sizeHint().width())
        self.name_label.setAccessibleName("Document")
        self.name_label.setAccessibleDescription(bidi.inline(self.name))

        # Layout
        self.header = QHBoxLayout()
        self.header.setSpacing(6)
        self.header.addWidget(self.toggle_button)
        self.header.addWidget(self.badge)
        self.header.addWidget(self.name_label, 1)
        self.header.addWidget(self.summary_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 10, 6)
        layout.setSpacing(6)
        layout.addLayout(self.header)
        self._apply_colours()

        # Signals
        self.toggle_button.clicked.connect(self._on_toggle_button_clicked)

    # -- state ------------------------------------------------------------------------
    @property
    def expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, expanded: bool) -> None:
        """Open (building the body the first time) or close the card, without a signal."""
        self._expanded = expanded
        self._show_state()
        if expanded:
            self.body.show()
        elif self._body is not None:
            self._body.hide()

    def _show_state(self) -> None:
        expanded = self._expanded
        self.summary_label.setVisible(not expanded and bool(self.summary_label.full_text()))
        self.toggle_button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.toggle_button.setToolTip(
            "Hide the details" if expanded else "Show the location, details and passage"
        )
        self.toggle_button.setAccessibleDescription(
            "Expanded: press Space to collapse" if expanded else "Collapsed: press Space to show the passage"
        )

    def set_highlighted(self, highlighted: bool) -> None:
        """Mark the card as the one a citation pointed at (accent border and tint)."""
        if highlighted != self.highlighted:
            self.highlighted = highlighted
            self._apply_colours()
            self.update()

    @property
    def body(self) -> CardBody:
        """The location, metadata, passage and actions (built on first use, shown when open)."""
        if self._body is None:
            self._body = CardBody(self)
            self._body.setVisible(self.expanded)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.addWidget(self._body)
            self._body.chain_tab_order(self.toggle_button)
            self._apply_colours()
        return self._body

    @property
    def has_body(self) -> bool:
        return self._body is not None

    # The body's parts, as the card's own (built on first use).
    @property
    def copy_button(self) -> QPushButton:
        return self.body.copy_button

    @property
    def console_button(self) -> QPushButton:
        return self.body.console_button

    @property
    def open_button(self) -> QPushButton:
        return self.body.open_button

    @property
    def location_field(self) -> LocationField:
        return self.body.location_field

    @property
    def passage_view(self) -> PassageView:
        return self.body.passage_view

    @property
    def metadata_labels(self) -> list[ElidedLabel]:
        return self.body.value_labels

    @property
    def location_label(self) -> ElidedLabel:
        """The document's name (the name this label had when it showed the location's)."""
        return self.name_label

    def focus_target(self) -> QWidget:
        """The widget that takes the keyboard focus for this card."""
        return self.toggle_button

    # -- painting ---------------------------------------------------------------------
    def colours(self) -> CardColours:
        return CardColours.of(self.palette(), highlighted=self.highlighted)

    def paintEvent(self, event: QPaintEvent) -> None:
        colours = self.colours()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = 2 if self.highlighted else 1
        painter.setPen(QPen(colours.border, width))
        painter.setBrush(colours.background)
        inset = width / 2
        painter.drawRoundedRect(
            QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), theme.RADIUS, theme.RADIUS
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()

    def _apply_colours(self) -> None:
        colours = self.colours()
        tint(self.name_label, colours.text)
        tint(self.summary_label, colours.muted)
        if self._body is not None:
            self._body.apply_colours(colours)

    # -- events -----------------------------------------------------------------------
    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click on the header row (name or number) opens or closes the card."""
        header_bottom = self.name_label.geometry().bottom() + 6
        if event.button() == Qt.MouseButton.LeftButton and event.position().y() <= header_bottom:
            self._on_toggle_button_clicked()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    @Slot()
    def _on_toggle_button_clicked(self) -> None:
        self.set_expanded(not self._expanded)
        self.sig_toggled.emit(self._expanded)


class CardBody(QWidget):
    """The open part of a card: location, metadata rows, passage, actions."""

    def __init__(self, card: SourceCard) -> None:
        super().__init__(card)
        # Attributes
        self._card = card
        number, location = card.number, card.location
        self.key_labels: list[ElidedLabel] = []
        self.value_labels: list[ElidedLabel] = []
        self._copy_text = "Copy S3 URI" if card.s3_object is not None else "Copy location"
        self._copied_timer = QTimer(self)

        # Widgets
        self.location_field = LocationField(location, self)
        self.passage_view = PassageView(card.source.page_content, self)
        self.copy_button = QPushButton(self._copy_text, self)
        self.console_button = QPushButton("Open in AWS console", self)
        self.open_button = QPushButton("Open", self)
        self.more_label: ElidedLabel | None = None

        # Setup
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_MS)
        self.location_field.setAccessibleName(f"Location of source {number}")
        self.passage_view.setAccessibleName(f"Passage of source {number}")
        self.copy_button.setVisible(bool(location))
        self.copy_button.setAccessibleName(f"{self._copy_text} of source {number}")
        self.copy_button.setToolTip("Copy the whole location")
        self.console_button.setVisible(card.s3_object is not None)
        self.console_button.setAccessibleName(f"Open source {number} in the AWS console")
        self.console_button.setToolTip("Shows the object's page in the AWS console, after asking")
        self.open_button.setVisible(links.is_openable(location))
        self.open_button.setAccessibleName(f"Open source {number} in the browser")
        self.open_button.setToolTip("Opens the link in your browser, after asking")
        for button in (self.copy_button, self.console_button, self.open_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setAutoDefault(False)

        # Layout
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(6)
        layout.addWidget(self.location_field)
        rows = sm.metadata_rows(card.source.metadata)
        if rows:
            layout.addLayout(self._metadata_grid(rows))
        layout.addWidget(self.passage_view)
        actions = FlowLayout(spacing=6)
        for button in (self.copy_button, self.console_button, self.open_button):
            actions.addWidget(button)
        layout.addLayout(actions)

        # Signals
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.console_button.clicked.connect(self._on_console_button_clicked)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.passage_view.sig_link_clicked.connect(card.sig_open_requested)
        self._copied_timer.timeout.connect(self._on_copied_timer_timeout)

    def _metadata_grid(self, rows: list[sm.MetadataRow]) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        small = theme.scaled_font(self.font(), 0.9)
        for line, row in enumerate(rows[:MAX_ROWS]):
            key_label = ElidedLabel(row.label, self)
            value_label = ElidedLabel(row.value, self)
            key_label.setMaximumWidth(120)
            key_label.setToolTip(tooltip(row.key))
            value_label.setToolTip(tooltip(row.value))
            value_label.setAccessibleName(bidi.inline(row.label, 80))
            value_label.setAccessibleDescription(bidi.inline(row.value))
            value_label.setForegroundRole(QPalette.ColorRole.Text)
            for label in (key_label, value_label):
                label.setFont(small)
            grid.addWidget(key_label, line, 0)
            grid.addWidget(value_label, line, 1)
            self.key_labels.append(key_label)
            self.value_labels.append(value_label)
        if len(rows) > MAX_ROWS:
            self.more_label = ElidedLabel(f"and {len(rows) - MAX_ROWS:,} more details not shown", self)
            self.more_label.setFont(small)
            grid.addWidget(self.more_label, len(rows[:MAX_ROWS]), 0, 1, 2)
        grid.setColumnStretch(1, 1)
        return grid

    def chain_tab_order(self, after: QWidget) -> None:
        """Put the body's buttons right after ``after`` (the card's toggle) in Tab order."""
        previous = after
        for widget in (self.copy_button, self.console_button, self.open_button):
            QWidget.setTabOrder(previous, widget)
            previous = widget

    def apply_colours(self, colours: CardColours) -> None:
        muted = [*self.key_labels, self.location_field]
        if self.more_label is not None:
            muted.append(self.more_label)
        for widget in muted:
            tint(widget, colours.muted)
        for label in self.value_labels:
            tint(label, colours.text)
        tint(self.passage_view, colours.text)
        self.passage_view.set_link_colour(colours.accent)

    def show_copied(self) -> None:
        """Say "Copied" on the Copy button for a moment."""
        self.copy_button.setText("Copied ✓")
        self.copy_button.setAccessibleDescription("Copied to the clipboard")
        self._copied_timer.start()

    @property
    def showing_copied(self) -> bool:
        return self._copied_timer.isActive()

    @Slot()
    def _on_copied_timer_timeout(self) -> None:
        self.copy_button.setText(self._copy_text)
        self.copy_button.setAccessibleDescription("")

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        if self._card.location:
            links.copy_text(self._card.location)
            self.show_copied()

    @Slot()
    def _on_console_button_clicked(self) -> None:
        if self._card.s3_object is not None:
            self._card.sig_console_requested.emit(self._card.location)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        if links.is_openable(self._card.location):
            self._card.sig_open_requested.emit(self._card.location)
