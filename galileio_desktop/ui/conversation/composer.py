"""Where questions are typed: multi-line, Ctrl+Enter (Cmd+Enter on macOS) sends, Stop while answering.

Text is never lost: each chat's draft is saved as it is typed, and a sent
question stays in the draft file until the worker confirms it is stored; if it
cannot be stored, the text comes back into the box.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from .. import theme
from .drafts import DraftStore

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 400
MIN_LINES = 2
MAX_LINES = 10
#: Ctrl+Return: Qt maps Ctrl to the Command key on macOS, so this is Cmd+Return there.
SEND_SHORTCUTS = (
    QKeySequence(Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_Return),
    QKeySequence(Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_Enter),
)


class Composer(QWidget):
    """Text box with Send / Stop.

    Signals:
        sig_send_requested(chat_id, text): the user sent a question ("" chat id: no chat open yet).
        sig_stop_requested(): the user pressed Stop.
    """

    sig_send_requested = Signal(str, str)
    """A question to send in the chat."""
    sig_stop_requested = Signal()
    """Stop the answer streaming in the open chat."""

    def __init__(self, drafts: DraftStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._drafts = drafts
        self._chat_id = ""
        self._answering = False
        self._in_flight: dict[str, str] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)

        # Widgets
        self.editor = QPlainTextEdit(self)
        self.editor.setAccessibleName("Message")
        self.editor.setPlaceholderText("Ask a question…")
        self.editor.setTabChangesFocus(True)
        self.editor.setObjectName("composerEditor")
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send")
        self.send_button.setObjectName("sendButton")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop answer")
        self.stop_button.setObjectName("stopButton")
        self.hint_label = QLabel(self)
        self.send_action = QAction("Send", self)
        self.send_action.setShortcuts(list(SEND_SHORTCUTS))

        # Setup
        self.setObjectName("composer")
        self.setAccessibleName("Composer")
        shortcut_text = SEND_SHORTCUTS[0].toString(QKeySequence.SequenceFormat.NativeText)
        self.send_button.setToolTip(f"Send ({shortcut_text})")
        self.stop_button.setToolTip("Stop the answer; what arrived so far is kept")
        self.hint_label.setText(f"{shortcut_text} to send")
        self.hint_label.setAccessibleName("Send shortcut")
        self.hint_label.setProperty("muted", True)  # the window's style sheet colours it
        self.hint_label.setFont(theme.scaled_font(self.hint_label.font(), 0.85))
        self.send_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.send_action)
        self.send_button.setDefault(False)
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.hide()
        self.editor.installEventFilter(self)
        self._fit_height()

        # Layout
        buttons = QVBoxLayout()
        buttons.setSpacing(4)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.editor, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 6, 18, 10)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.hint_label, 0, Qt.AlignmentFlag.AlignRight)
        self.setTabOrder(self.editor, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)

        # Signals
        self.editor.textChanged.connect(self._on_editor_text_changed)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.send_action.triggered.connect(self.send)
        self._save_timer.timeout.connect(self.save_draft)
        self._update_buttons()

    # -- public -------------------------------------------------------------------------

    @property
    def chat_id(self) -> str:
        return self._chat_id

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_chat(self, chat_id: str) -> None:
        """Keep the draft of the chat being left; show the draft of ``chat_id``."""
        if chat_id == self._chat_id:
            return
        self.save_draft()
        self._chat_id = chat_id
        self.editor.blockSignals(True)
        self.editor.setPlainText(self._drafts.get(chat_id) if chat_id not in self._in_flight else "")
        self.editor.blockSignals(False)
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        self._fit_height()
        self._update_buttons()

    def set_answering(self, answering: bool) -> None:
        """Show Stop instead of Send while an answer streams in the open chat."""
        self._answering = answering
        self._update_buttons()

    @Slot()
    def send(self) -> None:
        text = self.text()
        if not text.strip() or self._answering:
            return
        chat_id = self._chat_id
        self._in_flight[chat_id] = text
        self._drafts.set(chat_id, text)  # kept until the question is stored
        self._drafts.save()
        self.editor.blockSignals(True)
        self.editor.clear()
        self.editor.blockSignals(False)
        self._fit_height()
        self._update_buttons()
        self.sig_send_requested.emit(chat_id, text)

    def question_stored(self, chat_id: str) -> None:
        """The sent question is safe in the mirror: its draft can go (unless more was typed)."""
        self._in_flight.pop(chat_id, None)
        if chat_id == self._chat_id:
            self._drafts.set(chat_id, self.text())
        else:
            self._drafts.set(chat_id, "")
        self._drafts.save()

    def question_refused(self, chat_id: str, text: str) -> None:
        """The question could not be stored: give the text back."""
        self._in_flight.pop(chat_id, None)
        if chat_id == self._chat_id:
            current = self.text()
            self.editor.setPlainText(text if not current.strip() else f"{text}\n\n{current}")
            self.editor.setFocus()
        else:
            existing = self._drafts.get(chat_id)
            self._drafts.set(chat_id, text if not existing.strip() else f"{text}\n\n{existing}")
        self.save_draft()

    def edit(self, text: str) -> None:
        """Put a question back to be edited and sent again (before what is typed already)."""
        current = self.text()
        self.editor.setPlainText(text if not current.strip() else f"{text}\n\n{current}")
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()
        self.save_draft()

    @Slot()
    def save_draft(self) -> None:
        self._save_timer.stop()
        chat_id = self._chat_id
        text = self.text()
        if not text.strip() and chat_id in self._in_flight:
            text = self._in_flight[chat_id]
        self._drafts.set(chat_id, text)
        self._drafts.save()

    def focus_editor(self) -> None:
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- internals ----------------------------------------------------------------------

    @Slot()
    def _on_editor_text_changed(self) -> None:
        self._save_timer.start()
        self._fit_height()
        self._update_buttons()

    @Slot()
    def _on_stop_button_clicked(self) -> None:
        self.sig_stop_requested.emit()

    def _update_buttons(self) -> None:
        self.stop_button.setVisible(self._answering)
        self.send_button.setEnabled(bool(self.text().strip()) and not self._answering)

    def _fit_height(self) -> None:
        metrics = QFontMetrics(self.editor.font())
        lines = max(MIN_LINES, min(MAX_LINES, self.editor.document().lineCount()))
        # Wrapped lines count too: use the document's laid-out height when it is known.
        layout_height = self.editor.document().size().height() * metrics.lineSpacing()
        wanted = max(
            lines * metrics.lineSpacing(), min(int(layout_height), MAX_LINES * metrics.lineSpacing())
        )
        margins = self.editor.contentsMargins()
        frame = int(self.editor.document().documentMargin() * 2) + margins.top() + margins.bottom() + 4
        self.editor.setFixedHeight(wanted + frame)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            combo = QKeySequence(event.keyCombination())
            if any(combo.matches(s) == QKeySequence.SequenceMatch.ExactMatch for s in SEND_SHORTCUTS):
                self.send()
                return True
        return super().eventFilter(watched, event)
