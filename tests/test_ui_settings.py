"""Settings on the real window: chosen, put in force at once, and still there after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from ui_helpers import offline_factory, seed_library

from galileio_desktop.data.preferences import FILE_NAME, Preferences
from galileio_desktop.ui import appearance, theme
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.settings.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui

OK = QDialogButtonBox.StandardButton.Ok


@pytest.fixture(autouse=True)
def plain_look(qapp: QApplication) -> Iterator[None]:
    """Every test leaves the application as it found it: the system's theme, 100 %."""
    yield
    appearance.apply_theme(qapp, "system")
    appearance.apply_zoom(qapp, 100, 0)


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    mirror = tmp_path / "data" / "mirror.sqlite3"
    mirror.parent.mkdir()
    seed_library(mirror, chats=1)
    return {"mirror": mirror, "settings": tmp_path / "config" / "window"}


def open_window(qtbot, paths: dict[str, Path]) -> MainWindow:
    window = build_window(offline_factory(paths["mirror"]), None, "analyst", paths["settings"])
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    with qtbot.waitSignal(window.sidebar.sig_list_loaded, timeout=10_000):
        window.start()
    return window


def open_settings(qtbot, window: MainWindow) -> SettingsDialog:
    window.settings_action.trigger()
    # The one shown: a dialog closed before waits for its deletion.
    [dialog] = [d for d in window.findChildren(SettingsDialog) if d.isVisible()]
    return dialog


def choose(box, data: object) -> None:
    index = box.findData(data)
    assert index >= 0, data
    box.setCurrentIndex(index)


def test_settings_are_in_force_at_once_and_after_a_restart(qtbot, qapp, paths: dict[str, Path]) -> None:
    window = open_window(qtbot, paths)
    assert window.settings_action.shortcut().toString() == "Ctrl+,"
    assert window.settings_action in window.file_menu.actions()
    dialog = open_settings(qtbot, window)
    page = dialog.general
    assert page.preferences() == Preferences()
    choose(page.theme_box, "dark")
    page.zoom_box.setValue(125)
    page.font_size_box.setValue(12)
    choose(page.sync_box, 300)
    qtbot.mouseClick(dialog.buttons.button(OK), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert appearance.current_theme(qapp) == "dark"
    qtbot.waitUntil(lambda: theme.is_dark(window.palette()))
    assert appearance.zoom_percent(qapp) == 125
    assert qapp.font().pointSizeF() == pytest.approx(15.0)
    qtbot.waitUntil(lambda: window.client.sync_worker.interval_ms == 300_000)
    window.close()

    appearance.apply_theme(qapp, "system")
    appearance.apply_zoom(qapp, 100, 0)
    assert not theme.is_dark(qapp.palette())
    again = open_window(qtbot, paths)
    try:
        assert again.preferences.current == Preferences("dark", 125, 12, 300)
        assert theme.is_dark(qapp.palette()) and appearance.zoom_percent(qapp) == 125
        qtbot.waitUntil(lambda: theme.is_dark(again.palette()))
        qtbot.waitUntil(lambda: again.client.sync_worker.interval_ms == 300_000)
        shown = open_settings(qtbot, again).general
        assert shown.theme_box.currentData() == "dark" and shown.sync_box.currentText() == "Every 5 minutes"
        assert (shown.zoom_box.value(), shown.font_size_box.value()) == (125, 12)
    finally:
        again.close()


def test_a_preferences_file_that_cannot_be_written_keeps_the_dialog_open(
    qtbot, qapp, paths: dict[str, Path]
) -> None:
    window = open_window(qtbot, paths)
    try:
        (paths["settings"] / FILE_NAME).mkdir()  # a folder where the file goes
        dialog = open_settings(qtbot, window)
        choose(dialog.general.theme_box, "dark")
        qtbot.mouseClick(dialog.buttons.button(OK), Qt.MouseButton.LeftButton)
        assert dialog.isVisible() and dialog.error_label.isVisible()
        assert (
            "Cannot write to" in dialog.error_label.text()
            and str(paths["settings"]) in dialog.error_label.text()
        )
        assert dialog.general.theme_box.currentData() == "dark"  # what was chosen is still there
        assert appearance.current_theme(qapp) == "system" and window.preferences.current == Preferences()
    finally:
        window.close()


def test_local_data_shows_the_folder_and_its_size_measured_off_the_gui_thread(
    qtbot, paths: dict[str, Path]
) -> None:
    window = open_window(qtbot, paths)
    try:
        dialog = open_settings(qtbot, window)
        page = dialog.local_data
        qtbot.waitUntil(lambda: page.usage is not None, timeout=5000)
        assert page.folder_edit.text() == str(paths["mirror"].parent)
        assert page.usage.account_bytes >= paths["mirror"].stat().st_size > 0
        assert (
            page.size_label.text().endswith("for the whole folder")
            and "for this account" in page.size_label.text()
        )
        # A window opened without an account cannot remove its data, and says why.
        assert not page.remove_button.isEnabled() and "without one" in page.remove_button.toolTip()
        assert not dialog.tabs.isTabEnabled(1)
    finally:
        window.close()


def test_settings_are_keyboard_usable_with_named_controls(qtbot, paths: dict[str, Path]) -> None:
    window = open_window(qtbot, paths)
    try:
        dialog = open_settings(qtbot, window)
        from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QWidget

        kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit)
        controls = [
            w
            for w in dialog.findChildren(QWidget)
            if isinstance(w, kinds) and not w.objectName().startswith("qt_")
        ]
        controls = [w for w in controls if not isinstance(w.parentWidget(), (QComboBox, QAbstractSpinBox))]
        assert len(controls) > 8
        assert [type(w).__name__ for w in controls if not w.accessibleName()] == []
        assert all(w.focusPolicy() & Qt.FocusPolicy.TabFocus for w in controls if w.isVisibleTo(dialog))
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert not dialog.isVisible() and window.preferences.current == Preferences()
    finally:
        window.close()


def test_the_theme_choices_are_the_appearance_themes() -> None:
    from galileio_desktop.data import preferences

    assert preferences.THEMES == appearance.THEMES
    assert (preferences.ZOOM_RANGE) == (appearance.ZOOM_MIN, appearance.ZOOM_MAX)
