"""The start-up benchmark's floor: the least a window with a chat list costs, with no app code.

A fresh process (``QT_QPA_PLATFORM=offscreen``) builds what the app's first paint needs
from Qt and nothing of the app: a main window with a menu bar and a status bar, a
splitter, a filter field and a list view whose delegate paints each chat's title and
time, the rows read with :mod:`sqlite3` from the same mirror file (the newest chats by
activity, their titles parsed from the stored JSON). It prints one JSON line when the
list's first paint with rows happens, as ``app_window_probe`` does for the app:

    python -c "import sys, list_floor_probe; sys.exit(list_floor_probe.main(sys.argv[1:]))" MIRROR

Run as a module, as the bare window's and the app's probes are, so Python reads it from
its cached byte code and each side of the comparison pays the same few instructions for
its measurement.

What this costs over a bare ``QMainWindow`` is what PySide6 and SQLite themselves cost
for a chat list (creating the Python enums of the Qt classes a list touches is most of
it): no start-up of the app can go below it on the same machine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROWS = 100


def read_rows(path: str) -> list[tuple[str, str]]:
    """The newest chats' titles and activity times, read as plainly as SQLite allows."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            # The newest chats by activity, each joined to its row by the chat id.
            "SELECT item.remote, a.activity FROM chat_activity a INDEXED BY chat_activity_recent"
            " JOIN item INDEXED BY item_chat ON item.chat_id = a.chat_id AND item.kind = 'CHAT'"
            " ORDER BY a.activity DESC LIMIT ?",
            (ROWS,),
        ).fetchall()
    finally:
        conn.close()
    out = []
    for remote, activity in rows:
        try:
            title = str(json.loads(remote or "{}").get("title", {}).get("S", ""))
        except (ValueError, AttributeError):
            title = ""
        out.append((title or "Untitled", time.strftime("%d %b", time.localtime((activity or 0) / 1000))))
    return out


def main(argv: list[str]) -> int:
    """``argv``: the mirror file."""
    from PySide6.QtCore import (
        QAbstractListModel,
        QEvent,
        QModelIndex,
        QObject,
        QPersistentModelIndex,
        Qt,
        QTimer,
    )
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import (
        QApplication,
        QLineEdit,
        QListView,
        QMainWindow,
        QSplitter,
        QStyle,
        QStyledItemDelegate,
        QStyleOptionViewItem,
        QVBoxLayout,
        QWidget,
    )

    app = QApplication(sys.argv[:1])
    rows = read_rows(argv[0])
    result: dict[str, Any] = {}

    class Chats(QAbstractListModel):
        def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
            return 0 if parent is not None and parent.isValid() else len(rows)

        def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
            if role == Qt.ItemDataRole.DisplayRole:
                return rows[index.row()]
            return None

    class Delegate(QStyledItemDelegate):
        def paint(
            self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
        ) -> None:
            title, when = index.data()
            rect = option.rect.adjusted(8, 0, -8, 0)
            if option.state & QStyle.StateFlag.State_Selected:
                painter.fillRect(option.rect, option.palette.highlight())
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title)
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, when)

    window = QMainWindow()
    window.setWindowTitle("floor")
    window.menuBar().addMenu("&File").addAction("&Quit")
    window.statusBar().showMessage("Local only")
    splitter = QSplitter(Qt.Orientation.Horizontal, window)
    side = QWidget(splitter)
    layout = QVBoxLayout(side)
    layout.addWidget(QLineEdit(side))
    view = QListView(side)
    model = Chats(view)
    view.setModel(model)
    view.setItemDelegate(Delegate(view))
    layout.addWidget(view)
    splitter.addWidget(side)
    splitter.addWidget(QWidget(splitter))
    splitter.setSizes([280, 1000])
    window.setCentralWidget(splitter)
    window.resize(1280, 800)

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and "painted" not in result and rows:
                result["painted"] = time.monotonic()
                result["cpu_s_at_paint"] = round(time.process_time(), 4)
                result["chats_listed"] = len(rows)
                QTimer.singleShot(0, finish)
            return False

    def finish() -> None:
        print(json.dumps(result), flush=True)
        app.exit(0)

    watch = PaintWatch()
    view.viewport().installEventFilter(watch)
    window.show()
    QTimer.singleShot(60_000, lambda: app.exit(3))
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
