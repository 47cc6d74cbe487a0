"""The look of the whole application: its theme (light, dark, or the system's) and its zoom.

Both apply at runtime to every window already open: Qt tells each widget of a new
palette (``PaletteChange``) or font (``FontChange``), and the parts that bake colours
or sizes in (the window's style sheet, the message documents, source cards, toasts)
rebuild them on those events.

- ``apply_theme(app, "dark")``: Fusion with :func:`dark_palette`; ``"light"``: Fusion
  with :func:`light_palette`; ``"system"``: the platform's own style and palette,
  followed when the system switches between light and dark while the app runs. A
  platform that reports a dark scheme but hands out a light palette (or the reverse)
  gets the app's own palette for that scheme.
- ``apply_zoom(app, percent, font_size)``: the application font at ``percent`` of the
  chosen text size (``font_size`` points, 0 for the system's), and every font a widget
  set for itself (a title, a heading) scaled by the same step.

Both palettes hold WCAG AA against the colours of :mod:`.theme` (see the contrast test).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from . import theme

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")
#: Labels a settings dialog can show for :data:`THEMES`.
THEME_LABELS = {"system": "Same as the system", "light": "Light", "dark": "Dark"}

ZOOM_MIN = 50
ZOOM_MAX = 200
DEFAULT_ZOOM = 100
#: The sizes View > Zoom in / Zoom out step through.
ZOOM_STEPS = (50, 67, 80, 90, 100, 110, 125, 150, 175, 200)

_R = QPalette.ColorRole
_G = QPalette.ColorGroup

_LIGHT = {
    _R.Window: "#efefef",
    _R.WindowText: "#1a1a1a",
    _R.Base: "#ffffff",
    _R.AlternateBase: "#f5f5f5",
    _R.ToolTipBase: "#ffffff",
    _R.ToolTipText: "#1a1a1a",
    _R.PlaceholderText: "#6b6b6b",
    _R.Text: "#1a1a1a",
    _R.Button: "#f5f5f5",
    _R.ButtonText: "#1a1a1a",
    _R.BrightText: "#ffffff",
    _R.Light: "#ffffff",
    _R.Midlight: "#e3e3e3",
    _R.Mid: "#b4b4b4",
    _R.Dark: "#8a8a8a",
    _R.Shadow: "#4d4d4d",
    _R.Highlight: "#1d4ed8",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#1d4ed8",
    _R.LinkVisited: "#6d28d9",
}
_LIGHT_DISABLED = {
    _R.WindowText: "#8a8a8a",
    _R.Text: "#8a8a8a",
    _R.ButtonText: "#8a8a8a",
    _R.Button: "#ebebeb",
    _R.Highlight: "#9a9a9a",
}
_DARK = {
    _R.Window: "#1f2125",
    _R.WindowText: "#e6e6e6",
    _R.Base: "#17181b",
    _R.AlternateBase: "#1f2125",
    _R.ToolTipBase: "#2b2d31",
    _R.ToolTipText: "#e6e6e6",
    _R.PlaceholderText: "#9b9ea4",
    _R.Text: "#e6e6e6",
    _R.Button: "#2b2d31",
    _R.ButtonText: "#e6e6e6",
    _R.BrightText: "#ffffff",
    _R.Light: "#3d4046",
    _R.Midlight: "#33363b",
    _R.Mid: "#5b5f66",
    _R.Dark: "#111214",
    _R.Shadow: "#000000",
    _R.Highlight: "#93c5fd",
    _R.HighlightedText: "#0b1220",
    _R.Link: "#93c5fd",
    _R.LinkVisited: "#c4b5fd",
}
_DARK_DISABLED = {
    _R.WindowText: "#7e8289",
    _R.Text: "#7e8289",
    _R.ButtonText: "#7e8289",
    _R.Button: "#26282c",
    _R.Highlight: "#3a3d42",
}


def _palette(colours: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]) -> QPalette:
    palette = QPalette()
    for role, name in colours.items():
        palette.setColor(role, QColor(name))  # every group
    accent_role = getattr(_R, "Accent", None)  # Qt 6.6 and later
    if accent_role is not None:
        palette.setColor(accent_role, QColor(colours[_R.Highlight]))
    for role, name in disabled.items():
        palette.setColor(_G.Disabled, role, QColor(name))
    return palette


def light_palette() -> QPalette:
    return _palette(_LIGHT, _LIGHT_DISABLED)


def dark_palette() -> QPalette:
    return _palette(_DARK, _DARK_DISABLED)


def apply_theme(app: QApplication, choice: str) -> None:
    """Show every window of ``app`` in ``choice`` (one of :data:`THEMES`), now and from now on.

    Raises ValueError for a name not in :data:`THEMES`.
    """
    if choice not in THEMES:
        raise ValueError(f"Unknown theme {choice!r}: choose one of {', '.join(THEMES)}.")
    _Appearance.of(app).set_theme(choice)


def current_theme(app: QApplication) -> str:
    """The theme last applied (``"system"`` until one is)."""
    return _Appearance.of(app).theme


def apply_zoom(app: QApplication, percent: int, font_size: int = 0) -> int:
    """Draw text at ``percent`` of ``font_size`` points (0: the system's text size).

    ``percent`` is kept within :data:`ZOOM_MIN`..:data:`ZOOM_MAX`; returns the percent applied.
    """
    return _Appearance.of(app).set_zoom(percent, font_size)


def zoom_percent(app: QApplication) -> int:
    """The zoom last applied (100 until one is)."""
    return _Appearance.of(app).zoom


def next_zoom(percent: int, direction: int) -> int:
    """The step of :data:`ZOOM_STEPS` after ``percent`` (``direction`` 1) or before it (-1)."""
    if direction > 0:
        return next((step for step in ZOOM_STEPS if step > percent), ZOOM_STEPS[-1])
    return next((step for step in reversed(ZOOM_STEPS) if step < percent), ZOOM_STEPS[0])


class _Appearance(QObject):
    """What the application looked like before any choice (to go back to it), and the
    choices made; one per application, its child."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("appearance")
        self._app = app
        self.system_style = app.style().name()
        self.system_font = QFont(app.font())
        self.theme = "system"
        self.zoom = DEFAULT_ZOOM
        self.font_size = 0
        app.styleHints().colorSchemeChanged.connect(self._on_style_hints_color_scheme_changed)

    @classmethod
    def of(cls, app: QApplication) -> _Appearance:
        found = app.findChild(_Appearance, "appearance", Qt.FindChildOption.FindDirectChildrenOnly)
        return found if isinstance(found, _Appearance) else cls(app)

    # -- theme ----------------------------------------------------------------------------

    def set_theme(self, choice: str) -> None:
        self.theme = choice
        app = self._app
        if choice == "system":
            self._use_style(self.system_style)
            app.setPalette(QPalette())  # the platform's palette, which follows the system
            scheme = app.styleHints().colorScheme()
            if scheme != Qt.ColorScheme.Unknown:
                wants_dark = scheme == Qt.ColorScheme.Dark
                if theme.is_dark(app.palette()) != wants_dark:
                    # The platform's style draws the other scheme: draw it ourselves.
                    self._use_style("Fusion")
                    app.setPalette(dark_palette() if wants_dark else light_palette())
        else:
            self._use_style("Fusion")
            app.setPalette(dark_palette() if choice == "dark" else light_palette())
        log.info("theme: %s (%s)", choice, "dark" if theme.is_dark(app.palette()) else "light")

    def _use_style(self, name: str) -> None:
        if self._app.style().name().lower() != name.lower():
            self._app.setStyle(name)

    @Slot(Qt.ColorScheme)
    def _on_style_hints_color_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.theme == "system":
            self.set_theme("system")

    # -- zoom -----------------------------------------------------------------------------

    def set_zoom(self, percent: int, font_size: int) -> int:
        percent = max(ZOOM_MIN, min(ZOOM_MAX, int(percent)))
        app = self._app
        before = app.font()
        font = QFont(self.system_font)
        if font_size > 0:
            font.setPointSizeF(float(font_size))
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * percent / 100)
        elif font.pixelSize() > 0:
            font.setPixelSize(max(1, round(font.pixelSize() * percent / 100)))
        self.zoom, self.font_size = percent, font_size
        ratio = _size(font) / _size(before) if _size(before) > 0 else 1.0
        if abs(ratio - 1.0) < 1e-6:
            return percent
        app.setFont(font)
        for widget in app.allWidgets():
            # A font a widget set for itself (a title, a heading) does not follow the
            # application's: scale it by the same step.
            if widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                widget.setFont(theme.scaled_font(widget.font(), ratio))
        for widget in app.allWidgets():
            # A widget a style sheet reaches keeps the font it had when the sheet was
            # applied: applying the same sheet again hands it the new one.
            if widget.styleSheet():
                widget.setStyleSheet(widget.styleSheet())
        return percent


def _size(font: QFont) -> float:
    return font.pointSizeF() if font.pointSizeF() > 0 else float(font.pixelSize())
