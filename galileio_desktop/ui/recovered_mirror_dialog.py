"""The notice that the local copy was found damaged, set aside and is being rebuilt.

Shown once, when the window's library opened a damaged mirror (see
``data/mirror/recovery.py``): the chat list may look empty until the next sync, and the
user should know why, where the damaged file went and whether unsent changes were kept.
Not modal: the window stays usable behind it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

TITLE = "Local copy rebuilt"


def show_recovered_mirror(parent: QWidget, message: str) -> QMessageBox:
    """Show ``message`` (the recovery's own words) in an information box; returns it."""
    box = QMessageBox(QMessageBox.Icon.Information, TITLE, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("recoveredMirrorDialog")
    box.setAccessibleName(TITLE)
    box.setModal(False)
    box.show()
    return box
