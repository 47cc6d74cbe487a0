"""A read-only window on one message's text, to select and copy any part of it.

Bubbles are painted, so their text cannot be selected in place; this dialog
shows the message as written (the Markdown source, as plain text: nothing in it
is interpreted) in a selectable, searchable text box.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import links
from .message_list_model import HUMAN, MessageRow


class ViewMessageDialog(QDialog):
    """Shows ``row.text`` as plain, selectable text with Copy all and Close."""

    def __init__(self, row: MessageRow, when: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._row = row

        # Widgets
        who = "You" if row.kind == HUMAN else "Assistant"
        self.header = QLabel(f"{who} · {when}" if when else who, self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setReadOnly(True)
        self.text_edit.setPlainText(row.text)
        self.text_edit.setAccessibleName("Message text")
        self.text_edit.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy all", self)
        self.copy_button.setAccessibleName("Copy all")
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)

        # Setup
        self.setWindowTitle(f"Message from {who}")
        self.setAccessibleName("View message")
        self.resize(640, 460)
        self.text_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.text_edit, 1)
        layout.addWidget(self.buttons)

        # Signals
        self.buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        links.copy_text(self._row.text)
