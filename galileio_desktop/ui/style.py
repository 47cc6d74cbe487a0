"""The window's style sheet, built from the current palette so light and dark themes both work.

Only shapes and spacing are fixed here; colours come from the palette (and the
accent of :mod:`.theme`). Rebuilt when the system palette changes.
"""

from __future__ import annotations

from PySide6.QtGui import QPalette

from . import theme


def window_style(palette: QPalette) -> str:
    base = palette.color(QPalette.ColorRole.Base)
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.Text)
    accent = theme.accent(palette)
    accent_hover = theme.blend(accent, text, 0.15)
    border = theme.border(palette)
    sidebar = theme.blend(window, base, 0.35)
    muted = theme.muted_text(palette)
    on_accent = "#ffffff" if accent.lightness() < 170 else "#0b1220"
    return f"""
    QWidget#sidebar {{ background: {sidebar.name()}; }}
    QWidget#sidebar QListView {{ background: {sidebar.name()}; border: none; }}
    QWidget#centerColumn, QWidget#messagePane, QWidget#composer {{ background: {base.name()}; }}
    QWidget#messagePane QListView {{ background: {base.name()}; border: none; }}
    QWidget#sourceDrawer {{ background: {sidebar.name()}; }}
    QWidget#sourceDrawer QScrollArea, QWidget#sourceDrawer QScrollArea > QWidget > QWidget {{
        background: {sidebar.name()}; border: none; }}
    QSplitter::handle {{ background: {border.name()}; }}
    QLineEdit#filterEdit {{
        border: 1px solid {border.name()}; border-radius: 8px; padding: 5px 8px;
        background: {base.name()}; }}
    QLineEdit#filterEdit:focus {{ border: 1px solid {accent.name()}; }}
    QPushButton#newChatButton, QPushButton#sendButton {{
        background: {accent.name()}; color: {on_accent}; border: none; border-radius: 8px;
        padding: 6px 14px; font-weight: bold; }}
    QPushButton#newChatButton:hover, QPushButton#sendButton:hover {{ background: {accent_hover.name()}; }}
    QPushButton#newChatButton:focus, QPushButton#sendButton:focus {{ outline: none; border: 2px solid {text.name()}; }}
    QPushButton#sendButton:disabled {{ background: {border.name()}; color: {muted.name()}; }}
    QPushButton#stopButton {{
        background: {base.name()}; color: {text.name()}; border: 1px solid {border.name()};
        border-radius: 8px; padding: 6px 14px; }}
    QPushButton#stopButton:hover {{ border-color: {accent.name()}; }}
    QPlainTextEdit#composerEditor {{
        border: 1px solid {border.name()}; border-radius: 12px; padding: 6px 8px;
        background: {base.name()}; }}
    QPlainTextEdit#composerEditor:focus {{ border: 1px solid {accent.name()}; }}
    QStatusBar {{ border-top: 1px solid {border.name()}; }}
    QStatusBar QPushButton {{ border: none; padding: 2px 8px; }}
    QStatusBar QPushButton:hover {{ color: {accent.name()}; }}
    """
