"""First start without an account: the dialog offers the demo or explains how to add an account."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from galileio_desktop.ui.accounts.welcome_dialog import ADD_ACCOUNT_HELP, ask_first_start

pytestmark = pytest.mark.gui


def _answer_with(label: str, seen: list[str]) -> None:
    """Click the button called ``label`` in the modal box once it is up."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.informativeText())
        button = next(b for b in box.buttons() if b.text() == label)
        button.click()

    QTimer.singleShot(0, click)


@pytest.mark.parametrize(("label", "expected"), [("Open the demo", "demo"), ("Quit", "quit")])
def test_choice_is_returned(qapp, label: str, expected: str) -> None:
    seen: list[str] = []
    _answer_with(label, seen)
    assert ask_first_start("no account configured") == expected
    assert seen == [ADD_ACCOUNT_HELP]
