"""The app's name and icon, apart from the window so the start-up path can set them early."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

APP_TITLE = "Galileio Desktop"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


def app_icon() -> QIcon:
    """The app icon from ``resources/icon.svg``, or an empty icon when it is missing."""
    return QIcon(str(ICON_PATH)) if ICON_PATH.is_file() else QIcon()
