"""Settings → General: theme, text size, zoom, and how often the window syncs."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QWidget

from ...data.preferences import FONT_SIZE_RANGE, SYNC_CHOICES, ZOOM_RANGE, Preferences
from ..appearance import THEME_LABELS, THEMES


class GeneralPage(QWidget):
    """Shows one :class:`Preferences` and reads the user's changes back with :meth:`preferences`."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._initial = prefs

        # Widgets
        self.theme_box = QComboBox(self)
        self.font_size_box = QSpinBox(self)
        self.zoom_box = QSpinBox(self)
        self.sync_box = QComboBox(self)
        note = QLabel(
            "Zoom is also on the View menu (Ctrl+=, Ctrl+-, Ctrl+0). Your own changes are sent "
            "soon after you make them; the interval is how often the window looks for changes "
            "made elsewhere.",
            self,
        )

        # Setup
        for theme in THEMES:
            self.theme_box.addItem(THEME_LABELS.get(theme, theme.title()), theme)
        self.theme_box.setAccessibleName("Theme")
        self.font_size_box.setRange(*FONT_SIZE_RANGE)
        self.font_size_box.setSpecialValueText("System size")
        self.font_size_box.setSuffix(" pt")
        self.font_size_box.setAccessibleName("Text size")
        self.zoom_box.setRange(*ZOOM_RANGE)
        self.zoom_box.setSingleStep(10)
        self.zoom_box.setSuffix(" %")
        self.zoom_box.setAccessibleName("Zoom")
        for seconds, label in SYNC_CHOICES:
            self.sync_box.addItem(label, seconds)
        self.sync_box.setAccessibleName("Sync interval")
        note.setWordWrap(True)
        note.setObjectName("settingsNote")
        self.show_preferences(prefs)

        # Layout
        form = QFormLayout(self)
        form.addRow("&Theme:", self.theme_box)
        form.addRow("Te&xt size:", self.font_size_box)
        form.addRow("&Zoom:", self.zoom_box)
        form.addRow("S&ync:", self.sync_box)
        form.addRow(note)

    def show_preferences(self, prefs: Preferences) -> None:
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(prefs.theme)))
        self.font_size_box.setValue(prefs.font_size)
        self.zoom_box.setValue(prefs.zoom_percent)
        index = self.sync_box.findData(prefs.sync_interval_s)
        if index < 0:  # a value written by hand in the file: offered as it is
            self.sync_box.addItem(f"Every {prefs.sync_interval_s} seconds", prefs.sync_interval_s)
            index = self.sync_box.count() - 1
        self.sync_box.setCurrentIndex(index)

    def preferences(self) -> Preferences:
        """The preferences as the page shows them now."""
        return Preferences(
            theme=str(self.theme_box.currentData()),
            zoom_percent=self.zoom_box.value(),
            font_size=self.font_size_box.value(),
            sync_interval_s=int(self.sync_box.currentData()),
        )
