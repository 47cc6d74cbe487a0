"""Operations DynamoDB refused for good, explained, each with Retry or Discard.

A parked operation blocks nothing else, but the user's change it carries is not
on the server; this dialog is where they decide: try again (after fixing
access, say) or give the change up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import time_groups
from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.sync.results import OpInfo
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

OP_LABELS = {
    "create_chat": "Create chat",
    "rename_chat": "Rename chat",
    "delete_chat": "Delete chat",
    "put_message": "Send message",
    "add_message": "Send message",
    "delete_message": "Delete message",
    "pin_chat": "Pin or unpin chat",
}

ERROR_HINTS = {
    "credentials": "Access was denied or the sign-in expired. Sign in again, then Retry.",
    "too_large": "The item is larger than DynamoDB allows (400 KB). Discard it, or shorten it and send again.",
    "rejected": "DynamoDB refused the request. Retry after the cause is fixed, or Discard the change.",
    "not_found": "The chat no longer exists on the server (deleted elsewhere).",
}


def describe_op(kind: str) -> str:
    return OP_LABELS.get(kind, kind.replace("_", " ").capitalize())


class ParkedDialog(QDialog):
    """Lists parked operations; Retry / Discard act on the selected one."""

    def __init__(
        self,
        client: WorkerClient,
        title_of: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._title_of = title_of

        # Widgets
        self.intro = QLabel(
            "These changes were refused by DynamoDB and are kept here, on this computer. "
            "Nothing else waits for them. Retry one once the cause is fixed, or discard it "
            "to give the change up.",
            self,
        )
        self.tree = QTreeWidget(self)
        self.hint_label = QLabel(self)
        self.retry_button = QPushButton("Retry", self)
        self.discard_button = QPushButton("Discard…", self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)

        # Setup
        self.setWindowTitle("Changes not sent")
        self.setAccessibleName("Changes not sent")
        self.resize(720, 380)
        self.intro.setWordWrap(True)
        self.tree.setAccessibleName("Refused changes")
        self.tree.setHeaderLabels(["Change", "Chat", "When", "Error"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnWidth(0, 130)
        self.tree.setColumnWidth(1, 170)
        self.tree.setColumnWidth(2, 140)
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hint_label.setAccessibleName("What to do")
        self.retry_button.setAccessibleName("Retry selected change")
        self.discard_button.setAccessibleName("Discard selected change")
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.ActionRole)

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.buttons)

        # Signals
        self.buttons.rejected.connect(self.reject)
        self.retry_button.clicked.connect(self._on_retry_button_clicked)
        self.discard_button.clicked.connect(self._on_discard_button_clicked)
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self._update_buttons()

    def set_operations(self, operations: Sequence[OpInfo]) -> None:
        selected = self.selected_op_id()
        self.tree.clear()
        for op in operations:
            item = QTreeWidgetItem(
                [
                    describe_op(op.kind),
                    self._title_of(op.chat_id) or op.chat_id,
                    time_groups.full_time(op.created) if op.created else "",
                    op.error or "",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, op.op_id)
            item.setData(1, Qt.ItemDataRole.UserRole, op.error_kind or "")
            item.setToolTip(3, op.error or "")
            self.tree.addTopLevelItem(item)
            if op.op_id == selected:
                self.tree.setCurrentItem(item)
        first = self.tree.topLevelItem(0)
        if self.tree.currentItem() is None and first is not None:
            self.tree.setCurrentItem(first)
        self._update_buttons()

    def selected_op_id(self) -> int | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        value = item.data(0, Qt.ItemDataRole.UserRole)
        return int(value) if value is not None else None

    @Slot()
    def _on_retry_button_clicked(self) -> None:
        op_id = self.selected_op_id()
        if op_id is not None:
            LibraryOp(lambda lib: lib.retry(op_id), name="retry change").after_write(0).run_in(
                self._client.local
            )

    @Slot()
    def _on_discard_button_clicked(self) -> None:
        op_id = self.selected_op_id()
        if op_id is None:
            return
        answer = QMessageBox.question(
            self,
            "Discard change",
            "Discard this change? It will be removed from this computer and never sent.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Discard:
            self.discard(op_id)

    def discard(self, op_id: int) -> None:
        events = self._client.events
        LibraryOp(lambda lib: lib.discard(op_id), name="discard change").after_write().success(
            lambda _result: events.sig_data_changed.emit()  # the views follow the server again
        ).run_in(self._client.local)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_tree_current_item_changed(
        self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None
    ) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.tree.currentItem()
        self.retry_button.setEnabled(item is not None)
        self.discard_button.setEnabled(item is not None)
        if item is None:
            self.hint_label.setText("Nothing is waiting." if not self.tree.topLevelItemCount() else "")
            return
        kind = str(item.data(1, Qt.ItemDataRole.UserRole) or "")
        self.hint_label.setText(ERROR_HINTS.get(kind, ERROR_HINTS["rejected"]))
