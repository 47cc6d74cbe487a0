"""The app's name and icon, apart from the window so the start-up path can set them early.

Making the icon loads Qt's SVG icon engine (a plugin and a library): the window's
start-up path sets it only once its chat list is painted (:func:`install_app_icon`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

APP_TITLE = "Galileio Desktop"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


def app_icon() -> QIcon:
    """The app icon from ``resources/icon.svg``, or an empty icon when it is missing."""
    from PySide6.QtGui import QIcon

    return QIcon(str(ICON_PATH)) if ICON_PATH.is_file() else QIcon()


def install_app_icon() -> None:
    """Give the application (so every window and dialog without its own) the app icon, once."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication) and app.windowIcon().isNull():
        app.setWindowIcon(app_icon())
