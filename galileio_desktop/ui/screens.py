"""The screen a widget is on, asked for without ``QWidget.screen()``.

PySide gives the ``QScreen`` that ``QWidget.screen()`` returns a Python parent: the
widget (its heuristic for a returned QObject that has no Qt parent). When that widget
later dies as part of a garbage cycle, the collector may clear the screen's wrapper
before the widget's; the wrapper then takes ownership of Qt's ``QScreen`` and deletes it,
while Qt still lists it, and the next widget created crashes reading it. (Seen as a
segfault in a status bar's constructor long after a window was closed.)
``QGuiApplication``'s static functions have no widget to tie the wrapper to, so the
screen's wrapper is freed as any other temporary and Qt's screen stays Qt's.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def available_geometry(widget: QWidget) -> QRect | None:
    """The available geometry of the screen under ``widget``'s centre (else the primary
    screen's); None when there is no screen at all."""
    centre = widget.mapToGlobal(widget.rect().center())
    screen = QGuiApplication.screenAt(centre) or QGuiApplication.primaryScreen()
    return None if screen is None else screen.availableGeometry()
