"""The user's preferences for the app (look, text size, how often to sync), in ``preferences.json``.

Declared once, typed, with defaults and a schema version. The file sits in the app's
config folder beside the window's layout; nothing secret is ever written to it (an
assistant's API key lives in the keyring, an account's assistant in the accounts file).
A file that cannot be read, or holds values out of range, gives the defaults for what
is wrong and keeps the rest, with a warning in the log: the app always starts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import InvalidInput
from .paths import FolderUnusable

log = logging.getLogger(__name__)

FILE_NAME = "preferences.json"
SCHEMA_VERSION = 1

THEMES: tuple[str, ...] = ("system", "light", "dark")
ZOOM_RANGE = (50, 200)
#: Text size in points; 0 keeps the system's size.
FONT_SIZE_RANGE = (0, 32)
#: Seconds between two syncs of the window.
SYNC_INTERVAL_RANGE = (15, 24 * 3600)
#: What the Settings dialog offers for "Sync every" (seconds, label).
SYNC_CHOICES: tuple[tuple[int, str], ...] = (
    (30, "Every 30 seconds"),
    (60, "Every minute"),
    (300, "Every 5 minutes"),
    (900, "Every 15 minutes"),
    (3600, "Every hour"),
)


@dataclass(frozen=True)
class Preferences:
    """What the user chose in Settings; every field has a default."""

    theme: str = "system"
    #: Percent of the normal size of everything the window draws.
    zoom_percent: int = 100
    #: Points; 0 is the system's own text size.
    font_size: int = 0
    sync_interval_s: int = 60

    def validate(self) -> Preferences:
        """Raise :class:`InvalidInput` naming the first value that is out of range; return self."""
        if self.theme not in THEMES:
            raise InvalidInput(f"Unknown theme {self.theme!r}: choose one of {', '.join(THEMES)}.")
        _check_range("Zoom", self.zoom_percent, ZOOM_RANGE, "%")
        _check_range("Text size", self.font_size, FONT_SIZE_RANGE, " pt")
        _check_range("Sync interval", self.sync_interval_s, SYNC_INTERVAL_RANGE, " seconds")
        return self

    def to_json(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> Preferences:
        """Preferences from the file's contents: each bad or missing value is the default."""
        prefs = cls()
        if not isinstance(data, dict):
            log.warning("preferences: not a JSON object; using the defaults")
            return prefs
        for f in fields(cls):
            if f.name not in data:
                continue
            candidate = replace(prefs, **{f.name: data[f.name]})
            try:
                if type(data[f.name]) is not type(getattr(prefs, f.name)):
                    raise InvalidInput(f"{f.name} has the wrong type")
                candidate.validate()
            except InvalidInput as exc:
                log.warning("preferences: ignoring %s (%s)", f.name, exc)
                continue
            prefs = candidate
        return prefs


def _check_range(what: str, value: object, bounds: tuple[int, int], unit: str) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{what} must be a whole number from {low}{unit} to {high}{unit}, not {value!r}.")


class PreferencesStore:
    """The preferences file in one folder (the window's settings folder)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME

    def load(self) -> Preferences:
        """The stored preferences, or the defaults where there are none or they are unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Preferences()
        except OSError as exc:
            log.warning("preferences: cannot read %s (%s); using the defaults", self.path, exc.strerror)
            return Preferences()
        try:
            data = json.loads(text)
        except ValueError as exc:
            log.warning("preferences: %s is damaged (%s); using the defaults", self.path, exc)
            return Preferences()
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            log.warning("preferences: %s is from a newer version; reading what this one knows", self.path)
        return Preferences.from_json(data)

    def save(self, prefs: Preferences) -> Preferences:
        """Write ``prefs`` (validated) atomically; a folder that cannot be written is named."""
        prefs.validate()
        try:
            from .auth.accounts import write_private_json  # only to save: not at start-up

            write_private_json(self.path, prefs.to_json())
        except OSError as exc:
            raise FolderUnusable.of(exc, self.path.parent) from exc
        return prefs
