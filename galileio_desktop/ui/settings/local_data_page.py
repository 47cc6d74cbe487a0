"""Settings → Local data: where the app keeps this account's copy, how big it is, and removing it.

The sizes are measured by an operation on the library worker (a folder walk reads the
disk). Removing asks first, with the number of changes not sent yet, and never touches
the server: the window closes and opens again on an empty copy that fills from it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...data.local_data import LocalDataUsage, format_size, measure
from ...data.sync.results import LibraryStatus
from .. import theme
from ..workers.client import WorkerClient
from ..workers.operation import LibraryOp, OpFailure
from .account_host import AccountSettingsHost

NO_ACCOUNT = "Removing local data needs the app's account window; this window was opened without one."


class LocalDataPage(QWidget):
    """See the module docstring. :attr:`usage` is the last measurement (None until then)."""

    def __init__(
        self, client: WorkerClient, host: AccountSettingsHost | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._host = host
        self.usage: LocalDataUsage | None = None
        self._ops: list[LibraryOp[object]] = []
        self.confirm_box: QMessageBox | None = None

        # Widgets
        self.folder_edit = QLineEdit(self)
        self.open_button = QPushButton("Open folder", self)
        self.size_label = QLabel("Measuring…", self)
        self.error_label = QLabel(self)
        self.remove_button = QPushButton("Remove local data for this account…", self)
        explanation = QLabel(
            "The local copy lets chats open at once and be read offline. Removing it never "
            "touches the server: your chats are read again from it at the next sync. Changes "
            "not sent yet are lost with it.",
            self,
        )
        folder_row = QWidget(self)

        # Setup
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setAccessibleName("Data folder")
        self.open_button.setAccessibleName("Open the data folder")
        self.open_button.setEnabled(False)
        self.size_label.setAccessibleName("Size of the local data")
        self.size_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setAccessibleName("Local data problem")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.remove_button.setAccessibleName("Remove local data for this account")
        explanation.setWordWrap(True)
        if host is None:
            self.remove_button.setEnabled(False)
            self.remove_button.setToolTip(NO_ACCOUNT)

        # Layout
        row = QHBoxLayout(folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.open_button)
        form = QFormLayout()
        form.addRow("Data &folder:", folder_row)
        form.addRow("Size:", self.size_label)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addSpacing(12)
        layout.addWidget(explanation)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

        # Signals
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)

    def measure(self) -> None:
        """Measure the data folder and the account's copy (on the library worker)."""
        self.size_label.setText("Measuring…")
        op = (
            LibraryOp(lambda lib: measure(lib.mirror_path), name="measure local data")
            .success(self._on_measured)
            .failure(self._on_measure_failed)
            .run_in(self._client.local)
        )
        self._ops.append(op)

    def cancel(self) -> None:
        """The dialog is closing: results still on their way are not wanted."""
        for op in self._ops:
            op.cancel()
        self._ops.clear()

    def _on_measured(self, usage: LocalDataUsage) -> None:
        self.usage = usage
        self.folder_edit.setText(str(usage.folder))
        self.folder_edit.setCursorPosition(0)
        self.open_button.setEnabled(True)
        self.size_label.setText(
            f"{format_size(usage.account_bytes)} for this account, "
            f"{format_size(usage.folder_bytes)} for the whole folder"
        )
        self.error_label.hide()

    def _on_measure_failed(self, failure: OpFailure) -> None:
        self.size_label.setText("Unknown")
        self._show_error(failure.message)

    def _show_error(self, message: str) -> None:
        # The colour of the theme in force now (it may have changed since the dialog opened).
        self.error_label.setStyleSheet(f"color: {theme.error(self.palette()).name()};")
        self.error_label.setText(message)
        self.error_label.show()

    @Slot()
    def _on_open_button_clicked(self) -> None:
        if self.usage is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.usage.folder)))

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        """Count the changes not sent yet (on the library worker), then ask."""
        self.remove_button.setEnabled(False)
        op = (
            LibraryOp(lambda lib: lib.status(), name="count unsent changes")
            .success(self._on_status_read)
            .failure(self._on_status_failed)
            .run_in(self._client.local)
        )
        self._ops.append(op)

    def _on_status_read(self, status: LibraryStatus) -> None:
        self.remove_button.setEnabled(True)
        self.ask_to_remove(status.pending + status.parked)

    def _on_status_failed(self, failure: OpFailure) -> None:
        self.remove_button.setEnabled(True)
        # The copy cannot even be read: removing it is still allowed, with the reason shown.
        self._show_error(failure.message)
        self.ask_to_remove(None)

    def ask_to_remove(self, unsent: int | None) -> QMessageBox:
        """The confirmation, saying how many changes would be lost (None: not known)."""
        name = self._host.account_name if self._host is not None else "this account"
        box = QMessageBox(self)
        box.setWindowTitle("Remove local data")
        box.setAccessibleName("Remove local data")
        box.setText(f"Remove the local copy of {name}'s chats from this computer?")
        lines = ["Your chats stay on the server and are read again from it at the next sync."]
        if unsent:
            changes = f"{unsent} change{'s' if unsent != 1 else ''}"
            lines.append(
                f"{changes} made on this computer {'have' if unsent != 1 else 'has'} not been sent yet "
                "and will be lost. Sync first (File → Sync now) to keep them."
            )
            box.setIcon(QMessageBox.Icon.Warning)
        elif unsent is None:
            lines.append(
                "Whether changes are waiting to be sent could not be read; any that are will be lost."
            )
            box.setIcon(QMessageBox.Icon.Warning)
        else:
            lines.append("Every change made here has been sent.")
            box.setIcon(QMessageBox.Icon.Question)
        box.setInformativeText("\n\n".join(lines))
        remove = box.addButton("Remove local data", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        remove.setAccessibleName("Remove local data")
        cancel.setAccessibleName("Cancel")
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(self._on_confirm_box_finished)
        self.confirm_box = box
        box.open()
        return box

    @Slot(int)
    def _on_confirm_box_finished(self, result: int) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is None:
            return
        box.deleteLater()
        clicked = box.clickedButton()
        if clicked is None or box.buttonRole(clicked) != QMessageBox.ButtonRole.DestructiveRole:
            return
        if self._host is not None:
            self.window().close()  # the settings dialog goes with the window it belongs to
            self._host.remove_local_data()
