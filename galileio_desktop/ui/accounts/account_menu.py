"""The window's Account menu: the accounts (a check on the one shown), add one, sign in, sign out.

The menu only says what the user asked for; :class:`~.account_switcher.AccountSwitcher`
does it. The list is read again each time the menu opens, so an account added
from a terminal meanwhile shows up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

log = logging.getLogger(__name__)

KIND_LABELS = {
    "cognito": "Galileo user",
    "profile": "AWS profile",
    "keys": "access key",
    "demo": "demo",
    "env": "environment",
}


@dataclass(frozen=True)
class AccountEntry:
    """One line of the menu: an account's name and how it signs in."""

    name: str
    auth: str
    #: Whether "Sign out" means something for it (stored accounts).
    stored: bool = True

    @property
    def label(self) -> str:
        return f"{self.name}  ({KIND_LABELS.get(self.auth, self.auth)})"


class AccountMenu(QMenu):
    """See the module docstring.

    Signals: sig_account_chosen(name), sig_add_requested(), sig_sign_in_requested(),
    sig_sign_out_requested().
    """

    sig_account_chosen = Signal(str)
    """The user picked another account to show."""
    sig_add_requested = Signal()
    """"Add account…" was chosen."""
    sig_sign_in_requested = Signal()
    """"Sign in…" was chosen (sign in again to the account shown)."""
    sig_sign_out_requested = Signal()
    """"Sign out…" was chosen."""

    def __init__(
        self,
        entries: Callable[[], list[AccountEntry]],
        current: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("&Account", parent)
        # Attributes
        self._entries = entries
        self._current = current
        self._group = QActionGroup(self)
        self.account_actions: dict[str, QAction] = {}

        # Widgets (actions)
        self.add_action = QAction("&Add account…", self)
        self.sign_in_action = QAction("Sign &in…", self)
        self.sign_out_action = QAction("Sign &out…", self)

        # Setup
        self.setObjectName("accountMenu")
        self.setAccessibleName("Account")
        # Not exclusive: a check mark, not a radio dot; the check moves only after a switch.
        self._group.setExclusive(False)
        self.add_action.setStatusTip("Add another account and sign in to it")
        self.sign_in_action.setStatusTip("Sign in again to the account shown")
        self.sign_out_action.setStatusTip("Remove this account's secrets from the keyring")

        # Signals
        self.aboutToShow.connect(self.refresh)
        self._group.triggered.connect(self._on_group_triggered)
        self.add_action.triggered.connect(self.sig_add_requested)
        self.sign_in_action.triggered.connect(self.sig_sign_in_requested)
        self.sign_out_action.triggered.connect(self.sig_sign_out_requested)

        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Rebuild the list of accounts."""
        # Not clear(): it would delete the menu's own actions (Add, Sign in, Sign out) too.
        for action in self.actions():
            self.removeAction(action)
            if action.isSeparator():
                action.deleteLater()
        for action in self.account_actions.values():
            self._group.removeAction(action)
            action.deleteLater()
        self.account_actions = {}
        try:
            entries = self._entries()
        except Exception:  # noqa: BLE001 - a damaged accounts file must not break the menu
            log.exception("listing the accounts failed")
            entries = []
        current_entry = None
        for entry in entries:
            action = QAction(entry.label, self)
            action.setData(entry.name)
            action.setCheckable(True)
            action.setChecked(entry.name == self._current)
            self._group.addAction(action)
            self.addAction(action)
            self.account_actions[entry.name] = action
            if entry.name == self._current:
                current_entry = entry
        if entries:
            self.addSeparator()
        self.addAction(self.add_action)
        self.addSeparator()
        self.addAction(self.sign_in_action)
        self.addAction(self.sign_out_action)
        signs_in = current_entry is not None and current_entry.stored
        self.sign_in_action.setEnabled(signs_in)
        self.sign_out_action.setEnabled(signs_in)

    @property
    def current(self) -> str:
        return self._current

    @Slot(QAction)
    def _on_group_triggered(self, action: QAction) -> None:
        name = str(action.data())
        if name != self._current:
            # The check moves only once the switch happened (a new window, a new menu).
            action.setChecked(False)
            current = self.account_actions.get(self._current)
            if current is not None:
                current.setChecked(True)
            self.sig_account_chosen.emit(name)
