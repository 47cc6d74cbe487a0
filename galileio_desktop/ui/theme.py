"""Colours and metrics shared by the painting delegates, derived from the system palette.

Delegates paint with palette roles so light and dark themes both work; the only
fixed colours are the accents (one blue, one amber for warnings, one red for
errors), each with a light and a dark variant.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette

ACCENT_LIGHT = QColor("#2563eb")
ACCENT_DARK = QColor("#60a5fa")
WARNING_LIGHT = QColor("#b45309")
WARNING_DARK = QColor("#fbbf24")
ERROR_LIGHT = QColor("#dc2626")
ERROR_DARK = QColor("#f87171")
SUCCESS_LIGHT = QColor("#16a34a")
SUCCESS_DARK = QColor("#4ade80")

#: Rounded corners of bubbles, cards and badges, in pixels.
RADIUS = 10


def is_dark(palette: QPalette) -> bool:
    """True when the window background is dark (system dark mode)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def accent(palette: QPalette) -> QColor:
    return QColor(ACCENT_DARK if is_dark(palette) else ACCENT_LIGHT)


def warning(palette: QPalette) -> QColor:
    return QColor(WARNING_DARK if is_dark(palette) else WARNING_LIGHT)


def error(palette: QPalette) -> QColor:
    return QColor(ERROR_DARK if is_dark(palette) else ERROR_LIGHT)


def success(palette: QPalette) -> QColor:
    return QColor(SUCCESS_DARK if is_dark(palette) else SUCCESS_LIGHT)


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    t = max(0.0, min(1.0, amount))
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        a.alphaF() + (b.alphaF() - a.alphaF()) * t,
    )


def human_bubble(palette: QPalette) -> QColor:
    """The user's own messages: the base colour tinted with the accent."""
    return blend(palette.color(QPalette.ColorRole.Base), accent(palette), 0.22 if is_dark(palette) else 0.12)


def ai_bubble(palette: QPalette) -> QColor:
    """Answers: a neutral card a little apart from the background."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    return blend(base, text, 0.07 if is_dark(palette) else 0.035)


def code_background(palette: QPalette) -> QColor:
    return blend(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.08)


def muted_text(palette: QPalette) -> QColor:
    """Secondary text (times, group headers): text half-way to the background."""
    return blend(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.45)


def border(palette: QPalette) -> QColor:
    return blend(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.14)


def selection(palette: QPalette) -> QColor:
    """A soft selection fill that keeps the text readable in both themes."""
    return blend(palette.color(QPalette.ColorRole.Base), accent(palette), 0.28 if is_dark(palette) else 0.16)


def find_mark(palette: QPalette, *, current: bool = False) -> QColor:
    """The fill behind a find-in-chat hit; the current hit's is stronger."""
    if is_dark(palette):
        return QColor("#fbbf24") if current else QColor("#7c5a10")
    return QColor("#f59e0b") if current else QColor("#fde68a")


def find_mark_text(palette: QPalette, *, current: bool = False) -> QColor:
    """Text on a find mark (kept at 4.5:1 or better against :func:`find_mark`)."""
    if is_dark(palette):
        return QColor("#111111") if current else QColor("#ffffff")
    return QColor("#111111")


def hover(palette: QPalette) -> QColor:
    return blend(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text), 0.06)


def scaled_font(font: QFont, factor: float, *, bold: bool | None = None) -> QFont:
    """``font`` resized by ``factor`` (point or pixel based), optionally bold."""
    out = QFont(font)
    if out.pointSizeF() > 0:
        out.setPointSizeF(out.pointSizeF() * factor)
    elif out.pixelSize() > 0:
        out.setPixelSize(max(1, round(out.pixelSize() * factor)))
    if bold is not None:
        out.setBold(bold)
    return out
