"""The window on a damaged mirror tells the user once; on an unwritable folder it names the folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_disks import remount_read_only, tmpfs
from PySide6.QtWidgets import QMessageBox
from ui_helpers import offline_factory, seed_library

from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def _open(qtbot, mirror: Path, settings: Path) -> MainWindow:
    window = build_window(offline_factory(mirror), None, "recovery", settings, start=True)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    return window


def _notice(window: MainWindow) -> QMessageBox | None:
    return window.findChild(QMessageBox, "recoveredMirrorDialog")


def test_a_damaged_mirror_is_replaced_and_the_window_says_so_once(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=3)
    mirror.write_bytes(b"\x00garbled by a failing disk\x00" * 2_000)
    window = _open(qtbot, mirror, tmp_path / "settings")
    qtbot.waitUntil(lambda: _notice(window) is not None, timeout=15_000)
    notice = _notice(window)
    assert notice is not None and notice.isVisible() and not notice.isModal()
    text = notice.text()
    assert text.startswith("The local copy was damaged; it was moved aside to ")
    assert str(tmp_path / "mirror.sqlite3.corrupt-") in text and "rebuilt from DynamoDB" in text
    assert [p.name.startswith("mirror.sqlite3.corrupt-") for p in tmp_path.glob("*.corrupt-*")] == [True]
    # The fresh mirror works: the window is usable, with an empty list until a sync.
    qtbot.waitUntil(lambda: window.sidebar.loaded, timeout=10_000)
    assert window.sidebar.model.chat_count() == 0
    window.close()
    # A second window on the now healthy mirror has nothing to tell.
    again = _open(qtbot, mirror, tmp_path / "settings")
    qtbot.waitUntil(lambda: again.client.background_started and again.sidebar.loaded, timeout=15_000)
    qtbot.wait(200)
    assert _notice(again) is None
    again.close()


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk") as disk:
        if os.geteuid() == 0:
            remount_read_only(disk)
        else:
            disk.chmod(0o500)
        yield disk


def test_an_unwritable_data_folder_is_named_in_the_window(
    qtbot, tmp_path: Path, read_only_disk: Path
) -> None:
    mirror = read_only_disk / "data" / "mirrors" / "mirror.sqlite3"
    window = _open(qtbot, mirror, tmp_path / "settings")
    qtbot.waitUntil(
        lambda: window.parts_built and "could not be opened" in window.pane.placeholder.text(), timeout=15_000
    )
    text = window.pane.placeholder.text()
    assert f"Cannot write to {read_only_disk}" in text
    assert "read-only file system" in text or "permission denied" in text
    assert window.status.currentMessage() in text
    window.close()
