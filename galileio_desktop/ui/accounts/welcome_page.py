"""The first start without an account: a page in the window that says what the app is for.

Three ways on: sign in to the organisation's Galileo (its website's address, then a
user name and a password), import the account file an administrator handed out,
or try the demo. The page only asks; :class:`~.account_switcher.AccountSwitcher`
opens the sign-in dialog over it, or ends the first start for the demo.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .. import theme

TITLE = "Welcome to Galileio Desktop"
WHAT_IT_DOES = (
    "Your Galileo chats on your desktop: they open at once, stay readable offline, "
    "and every answer keeps its sources."
)
IMPORT_HINT = "Got an account file from your administrator? Import it, then type your user name and password."


class WelcomePage(QWidget):
    """See the module docstring.

    Signals: sig_sign_in_requested(), sig_import_requested(), sig_demo_requested(), sig_closed().
    """

    sig_sign_in_requested = Signal()
    """"Sign in to your organisation's Galileo" was chosen."""
    sig_import_requested = Signal()
    """"Import account file…" was chosen."""
    sig_demo_requested = Signal()
    """"Try the demo" was chosen."""
    sig_closed = Signal()
    """The user closed the page (the app is done, unless an account window opened)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self.closing_for_window = False

        # Widgets
        self.card = QFrame(self)
        self.title_label = QLabel(TITLE, self.card)
        self.what_label = QLabel(WHAT_IT_DOES, self.card)
        self.sign_in_button = QPushButton("Sign in to your organisation's Galileo", self.card)
        self.import_button = QPushButton("Import account file…", self.card)
        self.import_label = QLabel(IMPORT_HINT, self.card)
        self.demo_button = QPushButton("Try the demo", self.card)
        self.demo_label = QLabel("Sample chats and documents on this computer; no account needed.", self.card)

        # Setup
        self.setWindowTitle("Galileio Desktop")
        self.setAccessibleName("Welcome")
        self.setMinimumSize(560, 420)
        self.card.setObjectName("welcomeCard")
        self.card.setFixedWidth(480)
        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName("Welcome to Galileio Desktop")
        muted = theme.muted_text(self.palette()).name()
        for label, name in (
            (self.what_label, "What the app does"),
            (self.import_label, "About account files"),
            (self.demo_label, "About the demo"),
        ):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setAccessibleName(name)
        for label in (self.import_label, self.demo_label):
            label.setStyleSheet(f"color: {muted};")
        self.sign_in_button.setAccessibleName("Sign in to your organisation's Galileo")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setAutoDefault(True)
        self.import_button.setAccessibleName("Import account file")
        self.demo_button.setAccessibleName("Try the demo")
        for button in (self.sign_in_button, self.import_button, self.demo_button):
            button.setMinimumHeight(36)
            button.setCursor(Qt.CursorShape.PointingHandCursor)

        # Layout
        inner = QVBoxLayout(self.card)
        inner.setSpacing(10)
        inner.addWidget(self.title_label)
        inner.addWidget(self.what_label)
        inner.addSpacing(16)
        inner.addWidget(self.sign_in_button)
        inner.addSpacing(8)
        inner.addWidget(self.import_button)
        inner.addWidget(self.import_label)
        inner.addSpacing(8)
        inner.addWidget(self.demo_button)
        inner.addWidget(self.demo_label)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addStretch(1)
        outer.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        # Signals
        self.sign_in_button.clicked.connect(self.sig_sign_in_requested)
        self.import_button.clicked.connect(self.sig_import_requested)
        self.demo_button.clicked.connect(self._on_demo_button_clicked)

    @Slot()
    def _on_demo_button_clicked(self) -> None:
        self.sig_demo_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if not self.closing_for_window:
            self.sig_closed.emit()
