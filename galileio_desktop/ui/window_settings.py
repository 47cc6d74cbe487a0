"""The window's remembered layout (geometry, dock state, splitter sizes, drawer shown) in an INI file.

Panel sizes are kept per screen size (a laptop's screen and a large monitor each get
their own), with the last sizes left anywhere as the fallback.

The file lives in the folder the app names (its config folder, or a test's
temporary folder), never in Qt's default per-user location, so tests and
``--data-dir`` runs never touch the real user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..data.paths import private_dir

SCHEMA_VERSION = 1
FILE_NAME = "window.ini"

GEOMETRY = "window/geometry"
STATE = "window/state"
SPLITTER = "window/splitter"
SPLITTER_BY_SCREEN = "window/splitter_by_screen"
DRAWER_VISIBLE = "window/drawer_visible"
LAST_CHAT = "window/last_chat"
VERSION = "version"


def splitter_key(width: int, height: int) -> str:
    """Where the panel sizes left on a screen of ``width`` x ``height`` pixels are kept."""
    return f"{SPLITTER_BY_SCREEN}/{width}x{height}"


def open_settings(settings_dir: Path) -> QSettings:
    """The settings file in ``settings_dir`` (created private); read only here: writing
    waits for :func:`stamp` at close (a write is a disk sync on the GUI thread, which a
    busy disk can hold for tens of milliseconds)."""
    private_dir(settings_dir)
    settings = QSettings(str(settings_dir / FILE_NAME), QSettings.Format.IniFormat)
    stored = settings.value(VERSION)
    if stored is not None and str(stored) != str(SCHEMA_VERSION):
        settings.clear()  # a layout from another version: start from the defaults
    return settings


def stamp(settings: QSettings) -> None:
    """Mark what is about to be saved with this version of the layout."""
    settings.setValue(VERSION, SCHEMA_VERSION)


def read_bytes(settings: QSettings, key: str) -> QByteArray | None:
    value = settings.value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    value = settings.value(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def read_ints(settings: QSettings, key: str) -> list[int]:
    value = settings.value(key)
    if isinstance(value, (list, tuple)):
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            return []
    return []


def read_str(settings: QSettings, key: str) -> str:
    value = settings.value(key)
    return str(value) if isinstance(value, str) else ""
