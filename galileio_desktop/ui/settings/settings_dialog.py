"""File → Settings (Ctrl+,): General (look, text size, sync), Assistant, and Local data.

OK and Apply put the changes in force. Preferences are saved at once (a file that
cannot be written is said in the dialog, which stays open with nothing lost). The
assistant goes to the accounts file and the keyring by an operation on the library
worker, so the window never waits on the keyring; OK closes the dialog once stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...data.assistants.settings import AssistantSettings
from ...data.errors import GalileioError, InvalidInput
from .. import theme
from ..workers.operation import LibraryOp, OpFailure
from .assistant_page import AssistantPage
from .general_page import GeneralPage
from .local_data_page import LocalDataPage

if TYPE_CHECKING:
    from ..main_window import MainWindow

NO_ACCOUNT = "The assistant belongs to an account; this window was opened without one."


class SettingsDialog(QDialog):
    """See the module docstring."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        # Attributes
        self._window = window
        self._host = window.account_settings
        self._ops: list[LibraryOp[object]] = []
        #: Close once the assistant is stored (OK was pressed).
        self._close_when_stored = False

        # Widgets
        self.tabs = QTabWidget(self)
        self.general = GeneralPage(window.preferences.current, self.tabs)
        self.assistant: AssistantPage | None = None
        self.local_data = LocalDataPage(window.client, self._host, self.tabs)
        self.error_label = QLabel(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply,
            self,
        )

        # Setup
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.tabs.setAccessibleName("Settings pages")
        self.tabs.addTab(self.general, "&General")
        if self._host is not None:
            self.assistant = AssistantPage(self._host.assistant(), self.tabs)
            self.tabs.addTab(self.assistant, "&Assistant")
        else:
            missing = QLabel(NO_ACCOUNT, self.tabs)
            missing.setWordWrap(True)
            missing.setAlignment(Qt.AlignmentFlag.AlignTop)
            self.tabs.addTab(missing, "&Assistant")
            self.tabs.setTabEnabled(1, False)
        self.tabs.addTab(self.local_data, "&Local data")
        self.error_label.setAccessibleName("Settings problem")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        for role, name in (
            (QDialogButtonBox.StandardButton.Ok, "OK"),
            (QDialogButtonBox.StandardButton.Cancel, "Cancel"),
            (QDialogButtonBox.StandardButton.Apply, "Apply"),
        ):
            self.buttons.button(role).setAccessibleName(name)
        self.setMinimumWidth(520)

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        # Signals
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(self._on_finished)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(
            self._on_apply_button_clicked
        )

        self.local_data.measure()
        if self._host is not None:
            host = self._host
            self._run(
                LibraryOp(lambda lib: host.has_api_key(), name="look up the API key"), self._on_key_read
            )

    # -- applying -------------------------------------------------------------------------

    def apply(self) -> bool:
        """Put every page's changes in force; False when something was refused (said in the dialog).

        The assistant is stored by an operation: :attr:`storing` is True until it is done.
        """
        self.error_label.hide()
        try:
            prefs = self.general.preferences()
            if prefs != self._window.preferences.current:
                self._window.preferences.change(prefs)
        except GalileioError as exc:
            self._show_error(exc.message, self.general)
            return False
        page, host = self.assistant, self._host
        if page is None or host is None or not page.changed():
            return True
        try:
            settings = page.settings()
        except InvalidInput as exc:
            self._show_error(exc.message, page)
            return False
        key = page.api_key_change()
        self.buttons.setEnabled(False)
        self._run(
            LibraryOp(lambda lib: host.save_assistant(settings, key), name="store the assistant"),
            self._on_assistant_stored,
            self._on_assistant_refused,
        )
        return True

    @property
    def storing(self) -> bool:
        return not self.buttons.isEnabled()

    def _run(self, op: LibraryOp[object], success: object, failure: object = None) -> None:
        op.success(success)  # type: ignore[arg-type]
        if failure is not None:
            op.failure(failure)  # type: ignore[arg-type]
        self._ops.append(op.run_in(self._window.client.local))

    def _show_error(self, message: str, page: QWidget) -> None:
        # The colour of the theme in force now (it may have changed since the dialog opened).
        self.error_label.setStyleSheet(f"color: {theme.error(self.palette()).name()};")
        self.error_label.setText(message)
        self.error_label.show()
        self.tabs.setCurrentWidget(page)

    @Slot(int)
    def _on_finished(self, result: int) -> None:
        """Closed: results still on their way are not wanted, nor is the dialog (the next
        one shows what is in force then)."""
        for op in self._ops:
            op.cancel()
        self._ops.clear()
        self.local_data.cancel()
        self.deleteLater()

    # -- slots ----------------------------------------------------------------------------

    def _on_key_read(self, has_key: bool) -> None:
        if self.assistant is not None:
            self.assistant.set_has_key(bool(has_key))

    def _on_assistant_stored(self, settings: AssistantSettings) -> None:
        self.buttons.setEnabled(True)
        if self._host is not None:
            self._host.adopt_assistant(settings)
        if self.assistant is not None:
            self.assistant.accept_stored(settings)
        if self._close_when_stored:
            self.accept()

    def _on_assistant_refused(self, failure: OpFailure) -> None:
        self.buttons.setEnabled(True)
        self._close_when_stored = False
        if self.assistant is not None:
            self._show_error(f"The assistant was not changed: {failure.message}", self.assistant)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        if not self.apply():
            return
        if self.storing:
            self._close_when_stored = True
        else:
            self.accept()

    @Slot()
    def _on_apply_button_clicked(self) -> None:
        self.apply()


def open_settings_dialog(window: MainWindow) -> SettingsDialog:
    """Show the window's Settings (a new dialog each time: it shows what is in force now)."""
    for old in window.findChildren(SettingsDialog):
        if old.isVisible():
            old.raise_()
            old.activateWindow()
            return old
    dialog = SettingsDialog(window)
    dialog.open()
    return dialog
