"""``run_window(..., screenshot=PATH)``: loads everything, selects a cited answer, saves the PNG, exits 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from ui_helpers import offline_factory, seed_library

from galileio_desktop.ui import qt_log
from galileio_desktop.ui.app_window import run_window

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _qt_messages_reach_pytest_qt(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_window routes Qt's messages into the log file; here they stay with pytest-qt,
    which fails the test on a warning."""
    monkeypatch.setattr(qt_log, "install", lambda: None)


def test_screenshot_of_a_loaded_window(qapp, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=3)
    target = tmp_path / "shots" / "window.png"
    code = run_window(
        offline_factory(mirror), None, "demo", tmp_path / "settings", screenshot=target, size=(1100, 700)
    )
    assert code == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1100, 700)
    # Not a blank window: many distinct colours (text, bubbles, cards).
    colours = {image.pixel(x, y) for x in range(0, 1100, 7) for y in range(0, 700, 7)}
    assert len(colours) > 20


def test_screenshot_of_an_empty_library_still_exits(qapp, tmp_path: Path) -> None:
    target = tmp_path / "empty.png"
    code = run_window(
        offline_factory(tmp_path / "m.sqlite3"), None, "", tmp_path / "settings", screenshot=target
    )
    assert code == 0 and target.is_file()
