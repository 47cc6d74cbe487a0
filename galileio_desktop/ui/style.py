"""The window's style sheet, built from the current palette so light and dark themes both work.

Only shapes and spacing are fixed here; colours come from the palette (and the
accent of :mod:`.theme`). Rebuilt when the palette changes (a theme switched at
runtime, or the system's). A label marked ``setProperty("muted", True)``, and a disabled
one (an empty state), is drawn in the muted text colour, which holds 4.5:1 on every
panel.
"""

from __future__ import annotations

from PySide6.QtGui import QPalette

from . import theme


def window_style(palette: QPalette) -> str:
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    accent = theme.accent(palette)
    accent_hover = theme.blend(accent, text, 0.15)
    border = theme.border(palette)
    field = theme.input_border(palette)
    thumb = theme.scroll_thumb(palette)
    sidebar = theme.sidebar_background(palette)
    muted = theme.muted_text(palette)
    on_accent = theme.on_accent(palette)
    return f"""
    QWidget#sidebar {{ background: {sidebar.name()}; }}
    QWidget#sidebar QListView {{ background: {sidebar.name()}; border: none; }}
    QWidget#centerColumn, QWidget#messagePane, QWidget#composer {{ background: {base.name()}; }}
    QWidget#messagePane QListView {{ background: {base.name()}; border: none; }}
    QWidget#sourceDrawer {{ background: {sidebar.name()}; }}
    QWidget#sourceDrawer QScrollArea, QWidget#sourceDrawer QScrollArea > QWidget > QWidget {{
        background: {sidebar.name()}; border: none; }}
    QSplitter::handle {{ background: {border.name()}; }}
    QLabel[muted="true"], QLabel:disabled {{ color: {muted.name()}; }}
    QLineEdit#filterEdit {{
        border: 1px solid {field.name()}; border-radius: 8px; padding: 5px 8px;
        background: {base.name()}; }}
    QLineEdit#filterEdit:focus {{ border: 2px solid {accent.name()}; padding: 4px 7px; }}
    QPushButton#newChatButton, QPushButton#sendButton {{
        background: {accent.name()}; color: {on_accent.name()}; border: none; border-radius: 8px;
        padding: 6px 14px; font-weight: bold; }}
    QPushButton#newChatButton:hover, QPushButton#sendButton:hover {{ background: {accent_hover.name()}; }}
    QPushButton#newChatButton:focus, QPushButton#sendButton:focus {{ outline: none; border: 2px solid {text.name()}; }}
    QPushButton#sendButton:disabled {{ background: {border.name()}; color: {muted.name()}; }}
    QPushButton#stopButton {{
        background: {base.name()}; color: {text.name()}; border: 1px solid {field.name()};
        border-radius: 8px; padding: 6px 14px; }}
    QPushButton#stopButton:hover, QPushButton#stopButton:focus {{ border: 2px solid {accent.name()}; padding: 5px 13px; }}
    QPlainTextEdit#composerEditor {{
        border: 1px solid {field.name()}; border-radius: 12px; padding: 6px 8px;
        background: {base.name()}; }}
    QPlainTextEdit#composerEditor:focus {{ border: 2px solid {accent.name()}; padding: 5px 7px; }}
    QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; border: none; }}
    QScrollBar:horizontal {{ background: transparent; height: 12px; margin: 0; border: none; }}
    QScrollBar::handle:vertical {{
        background: {thumb.name()}; min-height: 28px; border-radius: 4px; margin: 2px 3px; }}
    QScrollBar::handle:horizontal {{
        background: {thumb.name()}; min-width: 28px; border-radius: 4px; margin: 3px 2px; }}
    QScrollBar::handle:hover {{ background: {theme.blend(thumb, text, 0.3).name()}; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; background: none; }}
    QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
    QStatusBar {{ border-top: 1px solid {border.name()}; }}
    QStatusBar QPushButton {{ border: none; padding: 2px 8px; }}
    QStatusBar QPushButton:hover {{ color: {accent.name()}; }}
    QStatusBar QPushButton:focus {{ border: 2px solid {accent.name()}; border-radius: 4px; padding: 0 6px; }}
    """
