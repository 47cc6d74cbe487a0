"""The preferences of one window: read at start, applied to the running app, saved when changed.

Theme, zoom and text size go to the application through :mod:`..appearance` (the one
place that knows how to paint them); the sync interval goes to the window's sync
worker. The file is :class:`~galileio_desktop.data.preferences.PreferencesStore`'s, in
the window's settings folder.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from ...data.preferences import Preferences, PreferencesStore

if TYPE_CHECKING:
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)


class PreferencesController(QObject):
    """See the module docstring.

    Signals: sig_changed(Preferences).
    """

    sig_changed = Signal(object)
    """New preferences were applied (and saved)."""

    def __init__(self, folder: Path, client: WorkerClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = PreferencesStore(folder)
        self._client = client
        self._current = self.store.load()

    @property
    def current(self) -> Preferences:
        return self._current

    def apply_at_start(self) -> None:
        """Put the stored preferences in force (called once, as the window is made)."""
        self._apply(self._current, first=True)

    def change(self, prefs: Preferences) -> Preferences:
        """Save ``prefs`` and put them in force; a file that cannot be written raises
        :class:`~galileio_desktop.data.errors.LocalStorageError` and changes nothing."""
        self.store.save(prefs)
        previous, self._current = self._current, prefs
        self._apply(prefs, previous=previous)
        self.sig_changed.emit(prefs)
        return prefs

    def remember_zoom(self, percent: int) -> None:
        """The zoom was changed elsewhere (View → Zoom): keep it for the next start."""
        if percent != self._current.zoom_percent:
            self.change(replace(self._current, zoom_percent=int(percent)))

    def _apply(self, prefs: Preferences, *, first: bool = False, previous: Preferences | None = None) -> None:
        if previous is None or prefs.sync_interval_s != previous.sync_interval_s:
            self._client.set_sync_interval(prefs.sync_interval_s * 1000)
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        if previous is None or prefs.theme != previous.theme:
            if not (first and prefs.theme == "system"):
                from .. import appearance  # not imported at all for the system's look

                appearance.apply_theme(app, prefs.theme)
        if previous is None or (prefs.zoom_percent, prefs.font_size) != (
            previous.zoom_percent,
            previous.font_size,
        ):
            if not (first and prefs.zoom_percent == 100 and prefs.font_size == 0):
                from .. import appearance

                appearance.apply_zoom(app, prefs.zoom_percent, font_size=prefs.font_size)
