"""Help → Keyboard shortcuts (Ctrl+/): every key of the window, grouped by where it works.

Made from the window's actions each time it opens (:mod:`.shortcut_map`), so it lists
exactly what the keys do now, including actions of parts built after the first paint.
A filter box narrows it by name or key.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .shortcut_map import Shortcut, shortcuts


class ShortcutsDialog(QDialog):
    """See the module docstring. :meth:`refresh` reads the window's actions again."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        # Attributes
        self._window = window
        self.rows: list[Shortcut] = []

        # Widgets
        self.filter_edit = QLineEdit(self)
        self.tree = QTreeWidget(self)
        self.empty_label = QLabel("No shortcut matches.", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close_button = buttons.button(QDialogButtonBox.StandardButton.Close)

        # Setup
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.filter_edit.setPlaceholderText("Filter by name or key")
        self.filter_edit.setAccessibleName("Filter shortcuts")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree.setAccessibleName("Shortcuts")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()
        close_button.setAccessibleName("Close")
        self.resize(520, 560)

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(buttons)

        # Signals
        buttons.rejected.connect(self.reject)
        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)

        self.refresh()

    def refresh(self) -> None:
        self.rows = shortcuts(self._window)
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for row in self.rows:
            group = groups.get(row.place)
            if group is None:
                group = groups[row.place] = QTreeWidgetItem(self.tree, [row.place])
                group.setFirstColumnSpanned(True)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item = QTreeWidgetItem(group, [row.name, ", ".join(row.keys)])
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{row.name}: {', '.join(row.keys)}")
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self._on_filter_edit_text_changed(self.filter_edit.text())

    def listed(self) -> list[tuple[str, str]]:
        """(name, keys) of the rows shown, in order."""
        out = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for i in range(group.childCount()):
                item = group.child(i)
                if not item.isHidden():
                    out.append((item.text(0), item.text(1)))
        return out

    @Slot(str)
    def _on_filter_edit_text_changed(self, text: str) -> None:
        needle = text.strip().casefold()
        shown = 0
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            visible = 0
            for i in range(group.childCount()):
                item = group.child(i)
                match = not needle or needle in f"{item.text(0)} {item.text(1)}".casefold()
                item.setHidden(not match)
                visible += match
            group.setHidden(visible == 0)
            shown += visible
        self.empty_label.setVisible(shown == 0)


def open_shortcuts_dialog(window: QWidget) -> ShortcutsDialog:
    """Show the window's shortcuts dialog (one per window, read again each time)."""
    dialog = window.findChild(ShortcutsDialog)
    if dialog is None:
        dialog = ShortcutsDialog(window)
    else:
        dialog.refresh()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    dialog.filter_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    return dialog
