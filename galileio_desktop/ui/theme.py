"""Colours and metrics shared by the painting delegates, derived from the palette.

Delegates paint with palette roles so light and dark themes both work; the only
fixed colours are the accents (one blue, one amber for warnings, one red for
errors, one green), each with a light and a dark variant.

Every colour here is made to be read: text colours hold WCAG AA's 4.5:1 against
every surface the app paints them on (:func:`text_surfaces`), and the parts a user
must see to use a control (input borders, focus rings, scroll thumbs, chips) hold
3:1. Colours are read from the palette's Active group: a delegate paints a header
row or a disabled item with the same readable colours, never Qt's greyed-out ones.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from PySide6.QtGui import QColor, QFont, QPalette

ACCENT_LIGHT = QColor("#1d4ed8")
ACCENT_DARK = QColor("#93c5fd")
WARNING_LIGHT = QColor("#92400e")
WARNING_DARK = QColor("#fbbf24")
ERROR_LIGHT = QColor("#991b1b")
ERROR_DARK = QColor("#fecaca")
SUCCESS_LIGHT = QColor("#166534")
SUCCESS_DARK = QColor("#4ade80")

#: Rounded corners of bubbles, cards and badges, in pixels.
RADIUS = 10
#: How much of its text colour a badge's fill takes ("2 unsent", "error" in the chat list).
BADGE_FILL = 0.16

#: WCAG 2.x level AA: normal text, and the parts of controls a user must see.
MIN_TEXT_CONTRAST = 4.5
MIN_UI_CONTRAST = 3.0
#: What derived colours aim for: a little above the limits, so rounding never fails them.
_TEXT_TARGET = 4.6
_UI_TARGET = 3.1

_ACTIVE = QPalette.ColorGroup.Active
_R = QPalette.ColorRole


def _role(palette: QPalette, role: QPalette.ColorRole) -> QColor:
    return palette.color(_ACTIVE, role)


def is_dark(palette: QPalette) -> bool:
    """True when the window background is dark (a dark theme)."""
    return _role(palette, _R.Window).lightness() < 128


def accent(palette: QPalette) -> QColor:
    return QColor(ACCENT_DARK if is_dark(palette) else ACCENT_LIGHT)


def warning(palette: QPalette) -> QColor:
    return QColor(WARNING_DARK if is_dark(palette) else WARNING_LIGHT)


def error(palette: QPalette) -> QColor:
    return QColor(ERROR_DARK if is_dark(palette) else ERROR_LIGHT)


def success(palette: QPalette) -> QColor:
    return QColor(SUCCESS_DARK if is_dark(palette) else SUCCESS_LIGHT)


def on_accent(palette: QPalette) -> QColor:
    """Text on an accent fill (Send, New chat, a source's number)."""
    fill = accent(palette)
    white = QColor("#ffffff")
    return white if contrast_ratio(white, fill) >= _TEXT_TARGET else QColor("#0b1220")


# -- measuring --------------------------------------------------------------------------------


def relative_luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an opaque colour."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2.x contrast ratio of two opaque colours, 1.0 to 21.0."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable(
    colour: QColor, backgrounds: Iterable[QColor], toward: QColor, minimum: float = _TEXT_TARGET
) -> QColor:
    """``colour`` moved toward ``toward`` (the text colour) until it holds ``minimum``
    contrast on every one of ``backgrounds`` (or reaches ``toward``)."""
    grounds = list(backgrounds)
    out = QColor(colour.name())
    for step in range(1, 21):
        if all(contrast_ratio(out, ground) >= minimum for ground in grounds):
            return out
        out = QColor(blend(colour, toward, step / 20).name())
    return QColor(toward)


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    t = max(0.0, min(1.0, amount))
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        a.alphaF() + (b.alphaF() - a.alphaF()) * t,
    )


# -- surfaces ---------------------------------------------------------------------------------


def human_bubble(palette: QPalette) -> QColor:
    """The user's own messages: the base colour tinted with the accent."""
    return blend(_role(palette, _R.Base), accent(palette), 0.18 if is_dark(palette) else 0.1)


def ai_bubble(palette: QPalette) -> QColor:
    """Answers and source cards: a neutral card a little apart from the background."""
    base = _role(palette, _R.Base)
    text = _role(palette, _R.Text)
    return blend(base, text, 0.07 if is_dark(palette) else 0.035)


def revealed_bubble(palette: QPalette, fill: QColor) -> QColor:
    """A bubble's ``fill`` when the message is the one a search or a link revealed."""
    return blend(fill, warning(palette), 0.12 if is_dark(palette) else 0.1)


def code_background(palette: QPalette) -> QColor:
    return blend(_role(palette, _R.Base), _role(palette, _R.Text), 0.08)


def code_button(palette: QPalette) -> QColor:
    """The fill of a code block's Copy button."""
    return blend(code_background(palette), _role(palette, _R.Text), 0.1)


def sidebar_background(palette: QPalette) -> QColor:
    """The chat list's and the source drawer's panel."""
    return blend(_role(palette, _R.Window), _role(palette, _R.Base), 0.35)


def chip_fill(palette: QPalette) -> QColor:
    """The fill of a pill that opens something (an answer's "3 sources")."""
    return blend(_role(palette, _R.Base), accent(palette), 0.14)


def selection(palette: QPalette) -> QColor:
    """A soft selection fill that keeps the text readable in both themes."""
    return blend(_role(palette, _R.Base), accent(palette), 0.2 if is_dark(palette) else 0.14)


def hover(palette: QPalette) -> QColor:
    return blend(_role(palette, _R.Base), _role(palette, _R.Text), 0.06)


def text_surfaces(palette: QPalette) -> dict[str, QColor]:
    """Every background the app paints text on, by name: what text colours are made for."""
    return {
        "base": _role(palette, _R.Base),
        "window": _role(palette, _R.Window),
        "sidebar": sidebar_background(palette),
        "ai bubble": ai_bubble(palette),
        "human bubble": human_bubble(palette),
        "revealed ai bubble": revealed_bubble(palette, ai_bubble(palette)),
        "revealed human bubble": revealed_bubble(palette, human_bubble(palette)),
        "code": code_background(palette),
        "code button": code_button(palette),
        "chip": chip_fill(palette),
        "selection": selection(palette),
        "hover": hover(palette),
    }


# -- text on those surfaces -------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _muted(text: int, base: int, window: int) -> QColor:
    palette = QPalette()
    palette.setColor(_ACTIVE, _R.Text, QColor.fromRgba(text))
    palette.setColor(_ACTIVE, _R.Base, QColor.fromRgba(base))
    palette.setColor(_ACTIVE, _R.Window, QColor.fromRgba(window))
    ink = QColor.fromRgba(text)
    surfaces = text_surfaces(palette)
    out = blend(ink, QColor.fromRgba(base), 0.42)
    for _ in range(3):  # a badge's fill is the muted colour itself, faint: settle both
        badges = [blend(surfaces[name], out, BADGE_FILL) for name in ("sidebar", "selection", "hover")]
        out = readable(out, [*surfaces.values(), *badges], ink)
    return out


def muted_text(palette: QPalette) -> QColor:
    """Secondary text (times, group headers, hints): the text colour moved toward the
    background as far as it can while holding 4.5:1 on every surface."""
    return QColor(
        _muted(
            _role(palette, _R.Text).rgba(),
            _role(palette, _R.Base).rgba(),
            _role(palette, _R.Window).rgba(),
        )
    )


def find_mark(palette: QPalette, *, current: bool = False) -> QColor:
    """The fill behind a find-in-chat hit; the current hit's stands 3:1 apart from the bubble."""
    if is_dark(palette):
        return QColor("#fbbf24") if current else QColor("#7c5a10")
    return QColor("#b45309") if current else QColor("#fde68a")


def find_mark_text(palette: QPalette, *, current: bool = False) -> QColor:
    """Text on a find mark (kept at 4.5:1 or better against :func:`find_mark`)."""
    if is_dark(palette):
        return QColor("#111111") if current else QColor("#ffffff")
    return QColor("#ffffff") if current else QColor("#111111")


# -- parts of controls (3:1) ------------------------------------------------------------------


def border(palette: QPalette) -> QColor:
    """A decorative line (a bubble's edge, the splitter): nothing a user must see to act."""
    return blend(_role(palette, _R.Base), _role(palette, _R.Text), 0.14)


@functools.lru_cache(maxsize=16)
def _control(text: int, base: int, window: int, amount: float) -> QColor:
    palette = QPalette()
    palette.setColor(_ACTIVE, _R.Text, QColor.fromRgba(text))
    palette.setColor(_ACTIVE, _R.Base, QColor.fromRgba(base))
    palette.setColor(_ACTIVE, _R.Window, QColor.fromRgba(window))
    grounds = (
        QColor.fromRgba(base),
        QColor.fromRgba(window),
        sidebar_background(palette),
        ai_bubble(palette),
    )
    seed = blend(QColor.fromRgba(base), QColor.fromRgba(text), amount)
    return readable(seed, grounds, QColor.fromRgba(text), _UI_TARGET)


def _control_colour(palette: QPalette, amount: float) -> QColor:
    return QColor(
        _control(
            _role(palette, _R.Text).rgba(),
            _role(palette, _R.Base).rgba(),
            _role(palette, _R.Window).rgba(),
            amount,
        )
    )


def input_border(palette: QPalette) -> QColor:
    """The edge of a text field or a chip: 3:1 on the panels it sits on."""
    return _control_colour(palette, 0.4)


def scroll_thumb(palette: QPalette) -> QColor:
    """A scroll bar's handle: 3:1 on the panels it sits on."""
    return _control_colour(palette, 0.45)


def focus_ring(palette: QPalette) -> QColor:
    """The outline of the focused control (the accent, 3:1 on every panel)."""
    return accent(palette)


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
