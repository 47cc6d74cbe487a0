"""The screen a widget is on, asked for in a way that cannot delete Qt's screen.

``QWidget.screen()`` ties the returned screen's wrapper to the widget (PySide's heuristic
for parentless QObjects); a widget that then dies in a garbage cycle can take Qt's
QScreen with it, and the next widget made crashes. See ``galileio_desktop/ui/screens.py``.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from galileio_desktop.ui.screens import available_geometry

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]

#: A window that dies in a garbage cycle after its screen was asked for, with the screen's
#: wrapper made first, so the collector clears it before the window: with
#: ``window.screen()`` in ASK this deletes Qt's screen and the status bar made next
#: crashes the process (SIGSEGV), every time.
CYCLE_SCRIPT = textwrap.dedent(
    """
    import gc
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QMainWindow, QStatusBar
    from galileio_desktop.ui.screens import available_geometry

    app = QApplication([])
    gc.disable()

    class Window(QMainWindow):
        def __init__(self):
            super().__init__()
            self.me = self.method  # a cycle: only the collector frees this window

        def method(self):
            pass

    screen = QGuiApplication.primaryScreen()
    window = Window()
    geometry = ASK
    assert geometry.width() > 0
    del screen, window
    gc.collect()
    QStatusBar()
    assert QGuiApplication.primaryScreen().availableGeometry().width() > 0
    print("alive")
    """
)


def _run_cycle(ask: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-c", CYCLE_SCRIPT.replace("ASK", ask)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_a_window_dying_in_a_cycle_leaves_the_screen_alive() -> None:
    done = _run_cycle("available_geometry(window)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "alive"


def test_the_geometry_is_the_screen_s_and_ties_nothing_to_the_widget(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(400, 300)
    window.show()
    geometry = available_geometry(window)
    primary = QGuiApplication.primaryScreen()
    assert geometry is not None and geometry == primary.availableGeometry()
    # The screen's wrapper is referred to by nothing of the window's.
    assert window not in gc.get_referrers(primary)


def test_no_code_asks_a_widget_for_its_screen_or_style() -> None:
    """``.screen()``, ``.windowHandle()`` and ``.style()`` on a widget return Qt-owned
    objects without a Qt parent (under a window's style sheet, ``style()`` is one made for
    the widget), which PySide then ties to the widget; the app and its tests use
    ``available_geometry`` and ``QApplication.style()`` instead."""
    # Not their mention in prose (``QWidget.screen()``), nor the application's style.
    pattern = re.compile(r"(?<!QWidget)(?<!QApplication)(?<!app)\.(screen|windowHandle|style)\(\)")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("galileio_desktop", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
