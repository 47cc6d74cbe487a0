"""A Markdown table of an answer, whole, in its own window: sort it, copy it, save it as CSV.

An answer's table may be too wide for its bubble (18 columns of long names); the
message shows what fits and an "Open table" link. :func:`markdown_tables` reads the
tables out of the rendered document, :class:`TableViewDialog` shows one. Copy gives
tab-separated text, which every spreadsheet pastes into cells; Save writes CSV through
the export's formula-safe rule (:func:`galileio_desktop.data.export.write_table_csv`).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...data.errors import GalileioError
from ...data.export import write_table_csv
from .. import links, theme
from ..screens import available_geometry
from .code_highlight import readable

log = logging.getLogger(__name__)

#: The role the proxy sorts by: a float for a number column, folded text otherwise.
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
#: A column is never sized wider than this many average characters (its text elides).
MAX_COLUMN_CHARS = 40
#: How long "Copied" stays on the Copy button, in milliseconds.
FEEDBACK_MS = 2000

_CELL_BREAKS = str.maketrans({"\u2029": " ", "\u2028": " ", "\ufffc": ""})
_TSV_BREAKS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
#: A number as analysts write them in tables: sign, currency, thousands separators,
#: decimals, a percent sign or a k/M/bn suffix ("€105.6M", "−4.0%", "1,234", "(12)" not).
_NUMBER = re.compile(
    r"^(?P<sign>[-+\u2212]?)\s*[€$£¥]?\s*(?P<digits>\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?P<fraction>\.\d+)?"
    r"\s*(?P<suffix>%|k|K|M|bn|B)?\s*[€$£¥]?$"
)
_SCALE = {"": 1.0, "%": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "bn": 1e9, "B": 1e9}
#: Cells that mean "no value": they sort first and do not stop a column being numeric.
_MISSING = frozenset({"", "-", "–", "—", "n/a", "N/A", "NA"})


@dataclass(frozen=True)
class TableData:
    """One table of a rendered answer: its header row, its rows (cell plain text, all
    rows as long as the header), and where it starts in the document."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    position: int = 0

    @property
    def column_count(self) -> int:
        return len(self.header)

    def as_tsv(self, rows: list[tuple[str, ...]] | None = None) -> str:
        """Header and ``rows`` (default: all, in order) as tab-separated lines."""
        return tsv([self.header, *(self.rows if rows is None else rows)])


def tsv(rows: list[tuple[str, ...]] | list[list[str]]) -> str:
    """Tab-separated lines that paste into spreadsheet cells: a tab or line break
    inside a cell would start a new cell or row, so each becomes a space."""
    return "\n".join("\t".join(cell.translate(_TSV_BREAKS) for cell in row) for row in rows)


def markdown_tables(document: QTextDocument) -> list[TableData]:
    """Every table of ``document`` in reading order; the first row is the header, as
    Markdown's tables always have one."""
    found: list[TableData] = []
    seen: set[int] = set()
    block = document.begin()
    while block.isValid():
        table = QTextCursor(block).currentTable()
        if table is not None and table.firstPosition() not in seen:
            seen.add(table.firstPosition())
            cells = [
                tuple(_cell_text(document, table.cellAt(r, c)) for c in range(table.columns()))
                for r in range(table.rows())
            ]
            if cells:
                found.append(TableData(cells[0], tuple(cells[1:]), table.firstPosition()))
        block = block.next()
    return found


def _cell_text(document: QTextDocument, cell: Any) -> str:
    cursor = QTextCursor(document)
    cursor.setPosition(cell.firstPosition())
    cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText().translate(_CELL_BREAKS).strip()


def min_column_widths(table: TableData, font: QFont) -> list[int]:
    """Each column's longest word in pixels (header words in bold, as Qt shows them):
    the narrowest the column can be without breaking a word."""
    plain = QFontMetrics(font)
    bold_font = QFont(font)
    bold_font.setBold(True)
    bold = QFontMetrics(bold_font)
    widths = [max((bold.horizontalAdvance(w) for w in name.split()), default=0) for name in table.header]
    for row in table.rows:
        for column, text in enumerate(row):
            for word in text.split():
                widths[column] = max(widths[column], plain.horizontalAdvance(word))
    return widths


def parse_number(text: str) -> float | None:
    """``text`` as a number when it reads as one in an analyst's table, else None."""
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    digits = re.sub(r"[,\u202f\u00a0 ]", "", match["digits"]) + (match["fraction"] or "")
    value = float(digits) * _SCALE[match["suffix"] or ""]
    return -value if match["sign"] in ("-", "\u2212") else value


def numeric_columns(table: TableData) -> list[bool]:
    """Per column: True when every cell with a value is a number (and one has)."""
    result = []
    for column in range(table.column_count):
        values = [row[column].strip() for row in table.rows if row[column].strip() not in _MISSING]
        result.append(bool(values) and all(parse_number(v) is not None for v in values))
    return result


class TableModel(QAbstractTableModel):
    """A :class:`TableData`, read-only; :data:`SORT_ROLE` gives numbers for number columns."""

    def __init__(self, table: TableData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._numeric = numeric_columns(table)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._table.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._table.column_count

    def is_numeric(self, column: int) -> bool:
        return self._numeric[column]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        text = self._table.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return text if len(text) > MAX_COLUMN_CHARS else None  # the cell shows it elided
        if role == SORT_ROLE:
            if self._numeric[index.column()]:
                value = parse_number(text)
                return -math.inf if value is None else value
            return text.casefold()
        if role == Qt.ItemDataRole.TextAlignmentRole and self._numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.header[section] if 0 <= section < self._table.column_count else None
        return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class CellTableView(QTableView):
    """The dialog's table: Ctrl+C (the platform's Copy key) copies the selected cells.

    Signals:
        sig_copy_requested: the Copy key was pressed on the table.
    """

    sig_copy_requested = Signal()
    """The user pressed Copy with the table focused."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.sig_copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class TableViewDialog(QDialog):
    """One table of an answer: sortable, Copy (TSV with header), Save as CSV, Close."""

    def __init__(self, table: TableData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._table = table
        self._file_dialog: QFileDialog | None = None

        # Widgets
        rows, columns = len(table.rows), table.column_count
        self.summary = QLabel(
            f"{rows} row{'s' * (rows != 1)} × {columns} column{'s' * (columns != 1)}. "
            "Click a column's header to sort by it.",
            self,
        )
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.model = TableModel(table, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = CellTableView(self)
        self.view.setModel(self.proxy)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Table status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("&Copy table", self)
        self.save_button = QPushButton("&Save as CSV…", self)
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self._feedback = QTimer(self)
        self._copy_cells_action = QAction("Copy selected cells", self.view)
        self._sort_up_action = QAction("Sort ascending by this column", self.view)
        self._sort_down_action = QAction("Sort descending by this column", self.view)

        # Setup
        self.setWindowTitle(f"Table: {_short(' · '.join(table.header), 80)}")
        self.setAccessibleName("Table from the answer")
        self.view.setAccessibleName("Table")
        self.view.setAccessibleDescription(
            f"{rows} rows, {columns} columns; Ctrl+C copies the selected cells"
        )
        self.copy_button.setAccessibleName("Copy table")
        self.copy_button.setToolTip(
            "Copy every row with the header, tab-separated: pastes into a spreadsheet"
        )
        self.save_button.setAccessibleName("Save as CSV")
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # as the answer had it, until asked
        self.view.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setSectionsMovable(False)
        self.view.horizontalHeader().setHighlightSections(False)
        self.view.horizontalHeader().setStretchLastSection(False)
        self._copy_cells_action.setShortcut(QKeySequence.StandardKey.Copy)
        self._copy_cells_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.view.addActions([self._copy_cells_action, self._sort_up_action, self._sort_down_action])
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._feedback.setSingleShot(True)
        self._feedback.setInterval(FEEDBACK_MS)
        self._size_columns()
        self._size_window()
        if rows and columns:
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self.view.setFocus()

        # Layout
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        # Signals
        self.buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.view.sig_copy_requested.connect(self._on_view_copy_requested)
        self._copy_cells_action.triggered.connect(self._on_view_copy_requested)
        self._sort_up_action.triggered.connect(self._on_sort_up_triggered)
        self._sort_down_action.triggered.connect(self._on_sort_down_triggered)
        self._feedback.timeout.connect(self._on_feedback_timeout)

    # -- what the buttons do -------------------------------------------------------------------

    def shown_rows(self) -> list[tuple[str, ...]]:
        """The rows in the order the table shows them (sorted or not)."""
        source = self.proxy.mapToSource
        return [self._table.rows[source(self.proxy.index(r, 0)).row()] for r in range(self.proxy.rowCount())]

    def copy_table(self) -> str:
        """Put the header and every row, as shown, on the clipboard as TSV; returns it."""
        text = self._table.as_tsv(self.shown_rows())
        links.copy_text(text)
        count = len(self._table.rows)
        self._say(f"Copied the header and {count} row{'s' * (count != 1)} to the clipboard.")
        self.copy_button.setText("Copied ✓")
        self._feedback.start()
        return text

    def copy_selection(self) -> str:
        """Put the selected cells on the clipboard as TSV (their bounding rectangle, in the
        order shown; cells inside it that are not selected stay empty); returns it."""
        selected = self.view.selectionModel().selectedIndexes()
        if not selected:
            self._say("Select cells to copy them, or use Copy table.")
            return ""
        rows = sorted({i.row() for i in selected})
        columns = sorted({i.column() for i in selected})
        chosen = {(i.row(), i.column()) for i in selected}
        grid = [
            [str(self.proxy.index(r, c).data() or "") if (r, c) in chosen else "" for c in columns]
            for r in rows
        ]
        text = tsv(grid)
        links.copy_text(text)
        self._say(f"Copied {len(chosen)} cell{'s' * (len(chosen) != 1)} to the clipboard.")
        return text

    def save_csv(self, path: str | Path) -> bool:
        """Write the table (header, then the rows as shown) to ``path`` as formula-safe
        CSV; a failure is said in the dialog, which stays open with the table."""
        try:
            written = write_table_csv(path, self._table.header, self.shown_rows())
        except GalileioError as exc:
            self._say(f"Not saved. {exc}", error=True)
            return False
        self._say(f"Saved {len(self._table.rows)} rows to {written.name}.")
        self.status.setToolTip(str(written))
        return True

    def file_dialog(self) -> QFileDialog | None:
        """The Save dialog while it is open (tests choose a file through it)."""
        return self._file_dialog

    # -- slots ---------------------------------------------------------------------------------

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        self.copy_table()

    @Slot()
    def _on_view_copy_requested(self) -> None:
        self.copy_selection()

    @Slot()
    def _on_save_button_clicked(self) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        dialog = QFileDialog(self, "Save table as CSV", folder, "CSV files (*.csv);;All files (*)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("csv")
        dialog.selectFile("table.csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._on_file_selected)
        dialog.finished.connect(self._on_file_dialog_finished)
        self._file_dialog = dialog
        dialog.open()

    @Slot(str)
    def _on_file_selected(self, path: str) -> None:
        self.save_csv(path)

    @Slot(int)
    def _on_file_dialog_finished(self, _result: int) -> None:
        self._file_dialog = None

    @Slot()
    def _on_sort_up_triggered(self) -> None:
        self.view.sortByColumn(max(0, self.view.currentIndex().column()), Qt.SortOrder.AscendingOrder)

    @Slot()
    def _on_sort_down_triggered(self) -> None:
        self.view.sortByColumn(max(0, self.view.currentIndex().column()), Qt.SortOrder.DescendingOrder)

    @Slot()
    def _on_feedback_timeout(self) -> None:
        self.copy_button.setText("&Copy table")

    # -- helpers -------------------------------------------------------------------------------

    def _say(self, text: str, *, error: bool = False) -> None:
        if error:
            palette = self.palette()
            colour = readable(theme.error(palette), palette.color(QPalette.ColorRole.Window))
            self.status.setStyleSheet(f"color: {colour.name()};")
        else:
            self.status.setStyleSheet("")
        self.status.setText(text)
        self.status.setAccessibleDescription(text)
        self.status.setToolTip("")

    def _size_columns(self) -> None:
        header = self.view.horizontalHeader()
        cap = self.view.fontMetrics().averageCharWidth() * MAX_COLUMN_CHARS
        header.setMaximumSectionSize(cap)
        self.view.resizeColumnsToContents()
        for column in range(self.model.columnCount()):
            header.resizeSection(column, min(cap, header.sectionSize(column) + 8))

    def _size_window(self) -> None:
        """Wide enough for every column up to 90% of the screen, tall enough for 15 rows."""
        header = self.view.horizontalHeader()
        wanted_width = header.length() + self.view.verticalHeader().sizeHint().width() + 48
        row_height = max(self.view.verticalHeader().defaultSectionSize(), self.fontMetrics().height() + 8)
        wanted_height = row_height * (min(len(self._table.rows), 15) + 1) + 140
        available = available_geometry(self.parentWidget() or self)
        max_width = int(available.width() * 0.9) if available is not None else 1200
        max_height = int(available.height() * 0.8) if available is not None else 800
        self.resize(max(480, min(wanted_width, max_width)), max(300, min(wanted_height, max_height)))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
