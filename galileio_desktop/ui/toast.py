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
        self._button = QPushButton("Undo", self)
        self._button.setAccessibleName("Undo")
        self._button.setCursor(Qt.CursorShape.PointingHandCursor)

        # Setup
        self.setObjectName("toast")
        self.setAccessibleName("Notification")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._apply_palette()
        self.hide()

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
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Text)
        text = palette.color(QPalette.ColorRole.Base)
        palette.setColor(QPalette.ColorRole.Window, base)
        palette.setColor(QPalette.ColorRole.WindowText, text)
        self.setPalette(palette)
        self.setStyleSheet(f"QFrame#toast {{ border-radius: {theme.RADIUS}px; }}")

    def show_message(self, text: str, action: str = "Undo", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Show ``text``; a toast still showing expires first (its delete goes ahead)."""
        if self.isVisible():
            self._timer.stop()
            self.sig_expired.emit()
        self._label.setText(text)
        self._button.setText(action)
        self._button.setAccessibleName(action)
        self._button.setVisible(bool(action))
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
        return super().eventFilter(watched, event)

    def _reposition(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = max(160, parent.width() - 16)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move(8, parent.height() - self.height() - 8)
