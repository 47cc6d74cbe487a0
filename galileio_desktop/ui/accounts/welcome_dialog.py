"""First start without an account: sign in, open the demo, or quit."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from ..app_window import ensure_application

SIGN_IN = "sign-in"
DEMO = "demo"
QUIT = "quit"

ADD_ACCOUNT_HELP = (
    "Sign in with your Galileo user name and password (the administrator gives you the "
    "user pool, app client and identity pool ids), an AWS profile, or an access key. "
    "Or look around in the demo first.\n\n"
    "From a terminal, the same works with 'galileio-desktop account add' and "
    "'galileio-desktop login'."
)


def ask_first_start(reason: str) -> str:
    """Returns "sign-in", "demo" or "quit"."""
    ensure_application()
    box = QMessageBox()
    box.setWindowTitle("Welcome to Galileio Desktop")
    box.setAccessibleName("Welcome")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText("There is no account yet. Sign in to your Galileo deployment, or try the demo.")
    box.setInformativeText(ADD_ACCOUNT_HELP)
    box.setDetailedText(reason)
    sign_in = box.addButton("Sign in…", QMessageBox.ButtonRole.AcceptRole)
    demo = box.addButton("Open the demo", QMessageBox.ButtonRole.ActionRole)
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(sign_in)
    box.setEscapeButton(quit_button)
    sign_in.setAccessibleName("Sign in")
    demo.setAccessibleName("Open the demo")
    quit_button.setAccessibleName("Quit")
    box.exec()
    clicked = box.clickedButton()
    if clicked is sign_in:
        return SIGN_IN
    return DEMO if clicked is demo else QUIT
