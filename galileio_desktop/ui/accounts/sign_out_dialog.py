"""Asking before signing out: what goes, what stays, and what unsent changes become.

Signing out removes the account's secrets from the keyring. Changes not sent yet
stay queued in the local copy and go out after the next sign-in, unless the user
also deletes the local copy; the dialog says so before anything happens.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QMessageBox, QPushButton, QWidget


class SignOutDialog(QMessageBox):
    """See the module docstring. Accepted: sign out; :attr:`delete_mirror` says whether
    the local copy goes too."""

    def __init__(self, account_name: str, unsent: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._unsent = unsent

        # Widgets
        self.delete_box = QCheckBox("Also delete this account's local copy of the chats", self)
        self.sign_out_button: QPushButton = self.addButton("Sign out", QMessageBox.ButtonRole.AcceptRole)
        self.cancel_button: QPushButton = self.addButton(QMessageBox.StandardButton.Cancel)

        # Setup
        self.setWindowTitle("Sign out")
        self.setAccessibleName("Sign out")
        self.setIcon(QMessageBox.Icon.Warning if unsent else QMessageBox.Icon.Question)
        self.setText(f"Sign out of {account_name}?")
        self.delete_box.setAccessibleName("Delete the local copy")
        self.setCheckBox(self.delete_box)
        self.sign_out_button.setAccessibleName("Sign out")
        self.cancel_button.setAccessibleName("Cancel")
        self.setDefaultButton(self.cancel_button if unsent else self.sign_out_button)
        self.setEscapeButton(self.cancel_button)
        self._update_text()

        # Signals
        self.delete_box.toggled.connect(self._on_delete_box_toggled)

    @property
    def delete_mirror(self) -> bool:
        return self.delete_box.isChecked()

    @property
    def confirmed(self) -> bool:
        return self.clickedButton() is self.sign_out_button

    def _update_text(self) -> None:
        lines = [
            "Your password, sign-in token and secret keys for this account are removed from the keyring."
        ]
        changes = f"{self._unsent} change{'s' if self._unsent != 1 else ''}"
        if self._unsent and self.delete_mirror:
            lines.append(f"{changes} not sent yet will be lost with the local copy.")
        elif self._unsent:
            lines.append(
                f"{changes} not sent yet stay queued on this computer and are sent after you sign in again."
            )
        elif self.delete_mirror:
            lines.append("The local copy is deleted; your chats stay on the server.")
        else:
            lines.append("The local copy of your chats stays on this computer.")
        self.setInformativeText("\n\n".join(lines))

    @Slot(bool)
    def _on_delete_box_toggled(self, checked: bool) -> None:
        self._update_text()
