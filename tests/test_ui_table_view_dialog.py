"""An answer's Markdown table opened whole: read from the document, sorted, copied, saved as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from local_disks import fill, remount_read_only, tmpfs
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPalette, QTextDocument
from PySide6.QtWidgets import QApplication

from galileio_desktop.ui.conversation.code_highlight import contrast_ratio
from galileio_desktop.ui.conversation.safe_markdown import render_markdown
from galileio_desktop.ui.conversation.table_view_dialog import (
    MAX_COLUMN_CHARS,
    TableData,
    TableModel,
    TableViewDialog,
    markdown_tables,
    min_column_widths,
    numeric_columns,
    parse_number,
)
from galileio_desktop.ui.screens import available_geometry

pytestmark = pytest.mark.gui

COLUMNS = [
    "customer_id",
    "customer_name",
    "country_code",
    "segment",
    "signup_date",
    "first_order_date",
    "last_order_date",
    "orders_total",
    "shipments_total",
    "revenue_total_eur",
    "avg_order_value_eur",
    "customer_lifetime_value_eur",
    "churn_probability_pct",
    "days_since_last_order",
    "preferred_carrier",
    "payment_terms_days",
    "account_manager",
    "marketing_opt_in",
]
ROWS = [
    ["C-10482", "Müller Logistik GmbH", "DE", "Mid-market", "2021-03-14", "2021-03-20", "2024-11-18", "412",
     "1,208", "€1,284,330.50", "€3,117.31", "€2,410,000", "4.2%", "2", "DHL", "30", "Ana Pérez", "yes"],
    ["C-20117", "Transportes Ibéricos S.L.", "ES", "Enterprise", "2019-07-02", "2019-07-09", "2024-11-19",
     "1,933", "5,870", "€8,902,115.00", "€4,605.34", "€15,300,000", "1.1%", "1", "DB Schenker", "45",
     "Jonas Berg", "no"],
    ["C-30009", "=cmd|' /C calc'!A0", "PT", "SMB", "2023-01-30", "2023-02-02", "2024-08-01", "37", "44",
     "€61,020.75", "€1,649.21", "€95,000", "38.5%", "110", "CTT", "14", "Ana Pérez", "yes"],
]  # fmt: skip
WIDE_TABLE_MARKDOWN = (
    "Here are the customers:\n\n"
    + "| "
    + " | ".join(COLUMNS)
    + " |\n|"
    + "---|" * len(COLUMNS)
    + "\n"
    + "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in ROWS)
    + "\n\nThat is all."
)


def rendered(markdown: str) -> QTextDocument:
    document = QTextDocument()
    render_markdown(document, markdown)
    return document


def wide_table() -> TableData:
    (table,) = markdown_tables(rendered(WIDE_TABLE_MARKDOWN))
    return table


@pytest.fixture
def dialog(qtbot) -> TableViewDialog:
    widget = TableViewDialog(wide_table())
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def column_texts(dialog: TableViewDialog, column: int) -> list[str]:
    return [dialog.proxy.index(r, column).data() for r in range(dialog.proxy.rowCount())]


def click_header(qtbot, dialog: TableViewDialog, column: int) -> None:
    header = dialog.view.horizontalHeader()
    dialog.view.scrollTo(dialog.proxy.index(0, column))
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().center().__class__(x, 5))


# -- reading tables out of a rendered answer ---------------------------------------------------


def test_an_18_column_table_is_read_whole(qapp) -> None:
    document = rendered(WIDE_TABLE_MARKDOWN)
    (table,) = markdown_tables(document)
    assert table.header == tuple(COLUMNS)
    assert table.rows == tuple(tuple(row) for row in ROWS)
    assert table.column_count == 18
    assert table.position == document.toPlainText().index("customer_id")


def test_cells_are_plain_text_and_tables_come_in_reading_order(qapp) -> None:
    document = rendered(
        "| a | **b** c | `code` |\n|---|--:|---|\n| 1 | 2 \\| 3 | [link](https://a.example) |\n| é | | 😀 |\n\n"
        "Text between.\n\n- item\n\n  | q | r |\n  |---|---|\n  | 1 | 2 |\n"
    )
    first, second = markdown_tables(document)
    assert first.header == ("a", "b c", "code")
    assert first.rows == (("1", "2 | 3", "link"), ("é", "", "😀"))
    assert second.header == ("q", "r") and second.rows == (("1", "2"),)
    assert first.position < second.position
    assert markdown_tables(rendered("No table here.\n\n```\n| a | b |\n```\n")) == []


def test_min_column_widths_are_the_longest_word_of_each_column(qapp) -> None:
    table = wide_table()
    font = QFont(QApplication.font())
    widths = min_column_widths(table, font)
    bold = QFont(font)
    bold.setBold(True)
    header_metrics, cell_metrics = QFontMetrics(bold), QFontMetrics(font)
    assert len(widths) == 18
    ltv = COLUMNS.index("customer_lifetime_value_eur")
    assert widths[ltv] == header_metrics.horizontalAdvance("customer_lifetime_value_eur")
    name = COLUMNS.index("customer_name")  # "Transportes" is the longest word, not the whole name
    assert widths[name] == max(
        header_metrics.horizontalAdvance("customer_name"), cell_metrics.horizontalAdvance("Transportes")
    )
    assert widths[name] < cell_metrics.horizontalAdvance("Transportes Ibéricos S.L.")
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 2)
    assert min_column_widths(table, bigger)[ltv] > widths[ltv]


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42.0),
        ("-3.5", -3.5),
        ("\u22124.0%", -4.0),
        ("1,208", 1208.0),
        ("€1,284,330.50", 1284330.5),
        ("€105.6M", 105.6e6),
        ("$2bn", 2e9),
        ("12 k", 12e3),
        ("38.5%", 38.5),
        ("1\u202f000", 1000.0),
    ],
)
def test_numbers_as_analysts_write_them(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["", "C-10482", "2024-11-18", "1,20", "12,3456", "1.2.3", "v2", "(12)", "abc 1"]
)
def test_other_text_is_not_a_number(text: str) -> None:
    assert parse_number(text) is None


def test_a_column_is_numeric_only_when_every_value_is_a_number() -> None:
    table = TableData(
        ("n", "mixed", "empty", "dash"), (("9", "9", "", "—"), ("10", "ten", "", "3"), ("100", "1", "", "2"))
    )
    assert numeric_columns(table) == [True, False, False, True]


def test_the_model_passes_the_model_tester(qtmodeltester) -> None:
    model = TableModel(wide_table())
    qtmodeltester.check(model)
    assert model.headerData(11, Qt.Orientation.Horizontal) == "customer_lifetime_value_eur"


# -- the dialog --------------------------------------------------------------------------------


def test_clicking_a_number_column_sorts_by_value_not_by_text(qtbot, dialog: TableViewDialog) -> None:
    revenue = COLUMNS.index("revenue_total_eur")
    assert column_texts(dialog, 0) == ["C-10482", "C-20117", "C-30009"]  # as the answer had them
    click_header(qtbot, dialog, revenue)
    assert column_texts(dialog, revenue) == ["€61,020.75", "€1,284,330.50", "€8,902,115.00"]
    click_header(qtbot, dialog, revenue)
    assert column_texts(dialog, revenue) == ["€8,902,115.00", "€1,284,330.50", "€61,020.75"]
    days = COLUMNS.index("days_since_last_order")  # "110" after "2" by value, before it by text
    click_header(qtbot, dialog, days)
    assert column_texts(dialog, days) == ["1", "2", "110"]
    name = COLUMNS.index("customer_name")
    click_header(qtbot, dialog, name)
    assert column_texts(dialog, name)[0] == "=cmd|' /C calc'!A0"  # "=" sorts before letters


def test_copy_table_puts_tsv_with_header_on_the_clipboard_and_says_so(qtbot, qapp) -> None:
    table = TableData(
        ("name", "note", "amount"),
        (("Ana", "line one\nline two", "10"), ("Bo", "tab\there", "9"), ("Cy", "plain", "100")),
    )
    widget = TableViewDialog(table)
    qtbot.addWidget(widget)
    widget.show()
    click_header(qtbot, widget, 2)  # the copy follows the order shown
    qtbot.mouseClick(widget.copy_button, Qt.MouseButton.LeftButton)
    clipboard = QGuiApplication.clipboard().text()
    assert clipboard == "name\tnote\tamount\nBo\ttab here\t9\nAna\tline one line two\t10\nCy\tplain\t100"
    rows = [line.split("\t") for line in clipboard.split("\n")]
    assert all(len(row) == 3 for row in rows)
    assert widget.copy_button.text() == "Copied ✓"
    assert "Copied the header and 3 rows" in widget.status.text()
    qtbot.waitUntil(lambda: widget.copy_button.text() == "&Copy table", timeout=5000)


def test_ctrl_c_copies_the_selected_cells_as_tsv(qtbot, dialog: TableViewDialog) -> None:
    selection = QItemSelection(dialog.proxy.index(1, 0), dialog.proxy.index(2, 2))
    dialog.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    dialog.view.setFocus()
    qtbot.keyClick(dialog.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert (
        QGuiApplication.clipboard().text()
        == "C-20117\tTransportes Ibéricos S.L.\tES\nC-30009\t=cmd|' /C calc'!A0\tPT"
    )
    assert "Copied 6 cells" in dialog.status.text()


def test_save_writes_a_csv_whose_formulas_never_run(qtbot, dialog: TableViewDialog, tmp_path: Path) -> None:
    target = tmp_path / "customers.csv"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    chooser = dialog.file_dialog()
    assert chooser is not None and chooser.isVisible()
    chooser.selectFile(str(target))
    chooser.accept()
    qtbot.waitUntil(target.exists)
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == COLUMNS
    assert rows[1:] == [[("'" + c if c.startswith("=") else c) for c in row] for row in ROWS]
    assert rows[3][1] == "'=cmd|' /C calc'!A0"
    assert target.read_bytes().count(b"\r\n") == 4
    assert "Saved 3 rows to customers.csv" in dialog.status.text()
    assert [p.name for p in tmp_path.iterdir()] == ["customers.csv"]  # no temporary file left


def test_saving_into_a_read_only_folder_says_why_and_loses_nothing(
    qtbot, dialog: TableViewDialog, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        (disk / "kept.csv").write_bytes(b"earlier,file\r\n")
        remount_read_only(disk)
        assert not dialog.save_csv(disk / "kept.csv")
        message = dialog.status.text()
        assert message.startswith("Not saved.")
        assert "Read-only file system" in message and "kept.csv" in message
        assert dialog.isVisible()
        assert (disk / "kept.csv").read_bytes() == b"earlier,file\r\n"
        assert sorted(p.name for p in disk.iterdir()) == ["kept.csv"]
    assert dialog.model.rowCount() == 3  # the table is still there to save elsewhere
    assert dialog.save_csv(tmp_path / "elsewhere.csv")
    assert dialog.status.text() == "Saved 3 rows to elsewhere.csv."


def test_a_full_disk_keeps_the_earlier_file_whole(qtbot, dialog: TableViewDialog, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size="1m") as disk:
        earlier = b"earlier,file\r\n" * 10
        (disk / "kept.csv").write_bytes(earlier)
        fill(disk)
        assert not dialog.save_csv(disk / "kept.csv")
        assert "No space left on device" in dialog.status.text()
        assert (disk / "kept.csv").read_bytes() == earlier
        assert not [p for p in disk.iterdir() if p.name.endswith(".part")]


def test_a_path_that_is_a_folder_is_refused_in_words(dialog: TableViewDialog, tmp_path: Path) -> None:
    assert not dialog.save_csv(tmp_path)
    assert dialog.status.text().startswith(f"Not saved. Cannot write {tmp_path}:")
    # the error is shown in the error colour, readable on the window (WCAG AA)
    shown = QColor(dialog.status.styleSheet().removeprefix("color: ").rstrip(";"))
    assert shown.isValid() and shown != dialog.palette().color(QPalette.ColorRole.WindowText)
    assert contrast_ratio(shown, dialog.palette().color(QPalette.ColorRole.Window)) >= 4.5
    assert dialog.save_csv(tmp_path / "fine.csv")
    assert dialog.status.styleSheet() == ""


def test_a_table_with_a_header_only_opens_and_copies(qtbot) -> None:
    (table,) = markdown_tables(rendered("| name | amount |\n|---|---:|\n"))
    assert table.header == ("name", "amount") and table.rows == ()
    widget = TableViewDialog(table)
    qtbot.addWidget(widget)
    widget.show()
    assert "0 rows × 2 columns" in widget.summary.text()
    assert widget.copy_table() == "name\tamount"
    assert widget.copy_selection() == ""
    assert "Select cells" in widget.status.text()


def test_keyboard_and_screen_reader_use(qtbot, dialog: TableViewDialog) -> None:
    assert dialog.view.hasFocus()
    assert dialog.view.accessibleName() == "Table"
    assert dialog.copy_button.accessibleName() == "Copy table"
    assert dialog.save_button.accessibleName() == "Save as CSV"
    assert "3 rows × 18 columns" in dialog.summary.text()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Tab)  # Tab leaves the table instead of walking its cells
    assert not dialog.view.hasFocus()
    # sorting without a mouse: the table's context menu sorts by the current column
    dialog.view.setCurrentIndex(dialog.proxy.index(0, COLUMNS.index("orders_total")))
    sort_down = next(a for a in dialog.view.actions() if a.text() == "Sort descending by this column")
    sort_down.trigger()
    assert column_texts(dialog, COLUMNS.index("orders_total")) == ["1,933", "412", "37"]


def test_columns_fit_their_content_up_to_a_cap_and_the_window_a_sensible_size(qtbot) -> None:
    long_text = "word " * 60
    widget = TableViewDialog(TableData(("id", "note"), (("1", long_text.strip()), ("2", "short"))))
    qtbot.addWidget(widget)
    header = widget.view.horizontalHeader()
    cap = widget.view.fontMetrics().averageCharWidth() * MAX_COLUMN_CHARS
    assert header.sectionSize(1) <= cap
    assert header.sectionSize(0) >= widget.view.fontMetrics().horizontalAdvance("id")
    assert widget.model.data(widget.model.index(0, 1), Qt.ItemDataRole.ToolTipRole) == long_text.strip()
    assert 480 <= widget.width() and 300 <= widget.height()
    screen = available_geometry(widget)
    assert screen is not None
    assert widget.width() <= screen.width() and widget.height() <= screen.height()
    wide = TableViewDialog(wide_table())
    qtbot.addWidget(wide)
    ltv = COLUMNS.index("customer_lifetime_value_eur")
    assert wide.view.horizontalHeader().sectionSize(ltv) >= QFontMetrics(wide.view.font()).horizontalAdvance(
        "customer_lifetime_value_eur"
    )


def test_the_csv_text_matches_the_export_rule(qapp) -> None:
    from galileio_desktop.data.export import csv_cell, table_to_csv

    text = table_to_csv(("=head", "b"), [("+1", "@x"), ("-2", "plain")])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [[csv_cell("=head"), "b"], ["'+1", "'@x"], ["'-2", "plain"]]


def test_the_demo_has_an_18_column_table_with_long_names_that_opens_whole(qtbot) -> None:
    from galileio_desktop.demo import load_seed

    answers = [m for chat in load_seed()["chats"] for m in chat["messages"] if m["type"] == "ai"]
    wide = [t for a in answers for t in markdown_tables(rendered(a["content"])) if t.column_count == 18]
    assert wide, "no answer of the demo holds an 18-column table"
    table = wide[0]
    assert "customer_lifetime_value_eur" in table.header
    assert 3 <= len(table.rows) <= 10
    widget = TableViewDialog(table)
    qtbot.addWidget(widget)
    assert widget.model.columnCount() == 18
    revenue = table.header.index("revenue_total_eur")
    assert widget.model.is_numeric(revenue)
