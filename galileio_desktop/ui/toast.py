"""A transient notice with one action (Undo), floating at the bottom of its parent widget.

Used for deletes: the chat disappears at once, the toast offers Undo for a few
seconds, and the delete is only sent once the toast is gone.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from . import theme

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 6_000
#: Space between the toast and its parent's edges, in pixels.
MARGIN = 8


class Toast(QFrame):
    """ "<message>  [Action]" for ``timeout_ms``; hides itself and reports the outcome.

    Signals:
        sig_action_clicked(): the user chose the action before it expired.
        sig_expired(): the time ran out (or another toast replaced this one's message).
    """

    sig_action_clicked = Signal()
    """The action button was clicked; the toast is hidden."""
    sig_expired = Signal()
    """The toast timed out without the action."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        # Attributes
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)

        # Widgets
        self._label = QLabel(self)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setWordWrap(True)
        self._button = QPushButton(self)  # its text set apart: see ChatSidebar (QIcon's enums)
        self._button.setText("Undo")
        self._button.setAccessibleName("Undo")
        self._button.setCursor(Qt.CursorShape.PointingHandCursor)

        # Setup
        self.setObjectName("toast")
        self.setAccessibleName("Notification")
        self.hide()  # its colours are set when it shows (see _apply_palette)

        # Layout
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._button)

        # Signals
        self._timer.timeout.connect(self._on_timer_timeout)
        self._button.clicked.connect(self._on_button_clicked)
        parent.installEventFilter(self)

    def _apply_palette(self) -> None:
        """Dark on light, or light on dark: the palette's text and base swapped, with the
        action button drawn as a link in the same colours. Set when the toast shows, and
        again when the theme changes while it shows: a hidden toast costs no style sheet
        (the window starts sooner)."""
        palette = self.parentWidget().palette() if self.parentWidget() is not None else self.palette()
        fill = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
        text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Base)
        style = (
            f"QFrame#toast {{ background: {fill.name()}; border-radius: {theme.RADIUS}px; }}"
            f"QFrame#toast QLabel {{ color: {text.name()}; background: transparent; }}"
            f"QFrame#toast QPushButton {{ color: {text.name()}; background: transparent;"
            f" border: 1px solid {text.name()}; border-radius: 6px; padding: 4px 12px; font-weight: bold; }}"
            f"QFrame#toast QPushButton:focus {{ border: 2px solid {text.name()}; padding: 3px 11px; }}"
        )
        if style != self.styleSheet():
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.isVisible():
            self._apply_palette()

    def show_message(self, text: str, action: str = "Undo", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Show ``text``; a toast still showing expires first (its delete goes ahead)."""
        if self.isVisible():
            self._timer.stop()
            self.sig_expired.emit()
        self._label.setText(text)
        self._button.setText(action)
        self._button.setAccessibleName(action)
        self._button.setVisible(bool(action))
        self._apply_palette()
        self._reposition()
        self.show()
        self.raise_()
        self._timer.start(timeout_ms)

    @property
    def message(self) -> str:
        return self._label.text()

    @property
    def action_button(self) -> QPushButton:
        return self._button

    def remaining_ms(self) -> int:
        return self._timer.remainingTime() if self._timer.isActive() else 0

    @Slot()
    def _on_button_clicked(self) -> None:
        self._timer.stop()
        self.hide()
        self.sig_action_clicked.emit()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.hide()
        self.sig_expired.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self._reposition()
        elif watched is self.parent() and event.type() == QEvent.Type.PaletteChange and self.isVisible():
            self._apply_palette()
        return super().eventFilter(watched, event)

    def _reposition(self) -> None:
        """Across the bottom of the parent, as tall as its wrapped message needs (never
        taller than the parent): a narrow sidebar wraps the message on more lines."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = max(1, parent.width() - 2 * MARGIN)
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            height = layout.totalHeightForWidth(width)
        else:
            height = self.sizeHint().height()
        height = max(1, min(height, parent.height() - 2 * MARGIN))
        self.setGeometry(MARGIN, parent.height() - height - MARGIN, width, height)
