"""First start without an account: open the demo, or learn how to add an account."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from .app_window import ensure_application

ADD_ACCOUNT_HELP = (
    "To use your Galileo deployment, add an account from a terminal, then start the app again:\n\n"
    "  galileio-desktop account add work --auth cognito --region REGION --table TABLE \\\n"
    "      --user-pool-id POOL --client-id CLIENT --identity-pool-id IDENTITY_POOL --username YOU\n"
    "  galileio-desktop login\n\n"
    "AWS profiles (including IAM Identity Center) and access keys work too: "
    "see 'galileio-desktop account add --help'."
)


def ask_first_start(reason: str) -> str:
    """Returns "demo" or "quit"."""
    ensure_application()
    box = QMessageBox()
    box.setWindowTitle("Welcome to Galileio Desktop")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText("There is no account yet. Try the demo, or add your account first.")
    box.setInformativeText(ADD_ACCOUNT_HELP)
    box.setDetailedText(reason)
    demo = box.addButton("Open the demo", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(demo)
    demo.setAccessibleName("Open the demo")
    box.exec()
    return "demo" if box.clickedButton() is demo else "quit"
