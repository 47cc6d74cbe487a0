"""Themes and zoom: every colour pair the app paints holds WCAG AA in both themes, a theme
switched at runtime re-colours the open window, and zoom scales every text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QImage, QPalette
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QWidget
from ui_helpers import local_docs_factory, offline_factory, seed_library, write_docs

from galileio_desktop.ui import appearance, theme
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sidebar.chat_list_model import ChatRoles

pytestmark = pytest.mark.gui

R = QPalette.ColorRole
TEXT, UI = theme.MIN_TEXT_CONTRAST, theme.MIN_UI_CONTRAST
PALETTES = {"light": appearance.light_palette, "dark": appearance.dark_palette}


@pytest.fixture(autouse=True)
def _system_look_afterwards(qapp):
    """Each test leaves the application as it found it: the system's theme, 100%."""
    yield
    appearance.apply_theme(qapp, "system")
    appearance.apply_zoom(qapp, 100)


def colour_pairs(palette: QPalette) -> list[tuple[str, QColor, QColor, float]]:
    """(what, foreground, background, minimum ratio) for everything the app paints."""
    role = palette.color
    text = role(R.Text)
    muted = theme.muted_text(palette)
    accent = theme.accent(palette)
    surfaces = theme.text_surfaces(palette)
    pairs: list[tuple[str, QColor, QColor, float]] = []
    for name, ground in surfaces.items():
        pairs.append((f"text on {name}", text, ground, TEXT))
        pairs.append((f"muted text on {name}", muted, ground, TEXT))
    # Links, citations, chips' text, "Copy location", the status bar's hovered buttons.
    for name in ("base", "window", "sidebar", "ai bubble", "human bubble", "chip", "selection", "hover"):
        pairs.append((f"accent on {name}", accent, surfaces[name], TEXT))
        pairs.append((f"link on {name}", role(R.Link), surfaces[name], TEXT))
    for name in ("revealed ai bubble", "revealed human bubble", "code"):
        pairs.append((f"accent on {name}", accent, surfaces[name], TEXT))
    # Errors (failed messages, "N not sent", badges), warnings and success.
    for name in ("base", "window", "sidebar", "ai bubble", "human bubble", "selection"):
        pairs.append((f"error on {name}", theme.error(palette), surfaces[name], TEXT))
        pairs.append((f"warning on {name}", theme.warning(palette), surfaces[name], TEXT))
        pairs.append((f"success on {name}", theme.success(palette), surfaces[name], TEXT))
    pairs.append(("success (Copied) on code button", theme.success(palette), surfaces["code button"], TEXT))
    # Sidebar badges: the colour on a 16% fill of itself, on a plain and a selected row.
    for name in ("sidebar", "selection", "hover"):
        for what, colour in (("error badge", theme.error(palette)), ("unsent badge", muted)):
            fill = theme.blend(surfaces[name], colour, 0.16)
            pairs.append((f"{what} on {name}", colour, fill, TEXT))
    # Filled buttons, selections, find marks, fields.
    pairs.append(("text on accent buttons", theme.on_accent(palette), accent, TEXT))
    pairs.append(("highlighted text on highlight", role(R.HighlightedText), role(R.Highlight), TEXT))
    pairs.append(("highlighted text on accent (Retry)", role(R.HighlightedText), accent, TEXT))
    for current in (False, True):
        pairs.append(
            (
                f"find mark text (current={current})",
                theme.find_mark_text(palette, current=current),
                theme.find_mark(palette, current=current),
                TEXT,
            )
        )
    pairs.append(("placeholder on base", role(R.PlaceholderText), role(R.Base), TEXT))
    pairs.append(("window text on window", role(R.WindowText), role(R.Window), TEXT))
    pairs.append(("button text on button", role(R.ButtonText), role(R.Button), TEXT))
    pairs.append(("tooltip", role(R.ToolTipText), role(R.ToolTipBase), TEXT))
    # Parts of controls: 3:1 against what they sit on.
    for name in ("base", "window", "sidebar", "ai bubble"):
        pairs.append((f"input border on {name}", theme.input_border(palette), surfaces[name], UI))
        pairs.append((f"focus ring on {name}", theme.focus_ring(palette), surfaces[name], UI))
        pairs.append((f"scroll thumb on {name}", theme.scroll_thumb(palette), surfaces[name], UI))
        pairs.append((f"chip outline (accent) on {name}", accent, surfaces[name], UI))
    for name in ("ai bubble", "human bubble"):
        pairs.append(
            (f"current find mark on {name}", theme.find_mark(palette, current=True), surfaces[name], UI)
        )
    for what, dot in (("online", theme.success(palette)), ("offline", theme.warning(palette))):
        pairs.append((f"{what} dot on window", dot, role(R.Window), UI))
    return pairs


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_colour_pair_holds_wcag_aa(qapp, name: str) -> None:
    pairs = colour_pairs(PALETTES[name]())
    assert len(pairs) > 90
    failing = {
        what: round(theme.contrast_ratio(fg, bg), 2)
        for what, fg, bg, minimum in pairs
        if theme.contrast_ratio(fg, bg) < minimum
    }
    assert failing == {}


@pytest.mark.parametrize("name", ["light", "dark"])
def test_derived_colours_hold_in_the_disabled_group_too(qapp, name: str) -> None:
    """A delegate paints header rows with a palette whose current group is Disabled:
    the derived colours still come out readable (the cause of 1.32:1 headers)."""
    palette = PALETTES[name]()
    disabled = QPalette(palette)
    disabled.setCurrentColorGroup(QPalette.ColorGroup.Disabled)
    assert theme.muted_text(disabled) == theme.muted_text(palette)
    assert theme.contrast_ratio(theme.muted_text(disabled), theme.sidebar_background(disabled)) >= TEXT


def test_readable_reaches_the_ratio_on_every_background(qapp) -> None:
    grounds = [QColor("#ffffff"), QColor("#e0e0e0"), QColor("#dbe3f9")]
    out = theme.readable(QColor("#c0c0c0"), grounds, QColor("#000000"))
    assert min(theme.contrast_ratio(out, g) for g in grounds) >= TEXT
    assert out != QColor("#000000")  # moved only as far as needed


def test_an_unknown_theme_is_refused(qapp) -> None:
    with pytest.raises(ValueError, match="system, light, dark"):
        appearance.apply_theme(qapp, "sepia")


def test_zoom_steps_stay_in_range() -> None:
    assert appearance.next_zoom(100, 1) == 110
    assert appearance.next_zoom(100, -1) == 90
    assert appearance.next_zoom(appearance.ZOOM_MAX, 1) == appearance.ZOOM_MAX
    assert appearance.next_zoom(appearance.ZOOM_MIN, -1) == appearance.ZOOM_MIN
    assert appearance.next_zoom(105, -1) == 100


# -- the real window --------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path: Path):
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=3)
    window = build_window(
        offline_factory(mirror),
        local_docs_factory(write_docs(tmp_path / "docs"), tmp_path / "index.sqlite3"),
        "a@example.com",
        tmp_path / "settings",
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    with qtbot.waitSignal(window.pane.sig_messages_shown, timeout=10_000):
        window.start()
    with qtbot.waitSignal(window.drawer.sig_sources_shown, timeout=10_000):
        window.pane.select_latest_answer_with_sources()
    yield window
    window.close()


def painted(widget: QWidget, rect: QRect | None = None) -> tuple[QColor, QColor]:
    """(background, strongest ink) of what ``widget`` paints in ``rect``: the most common
    colour, and the pixel that stands out from it most (a glyph's solid stroke)."""
    image = widget.grab(rect or widget.rect()).toImage().convertToFormat(QImage.Format.Format_RGB32)
    counts = Counter(image.pixel(x, y) for x in range(image.width()) for y in range(image.height()))
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    ink = max((QColor.fromRgb(p) for p in counts), key=lambda c: theme.contrast_ratio(c, background))
    return background, ink


def header_rect(window: MainWindow) -> QRect:
    view = window.sidebar.list_view
    model = view.model()
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data(ChatRoles.IS_HEADER):
            return view.visualRect(index)
    raise AssertionError("no group header in the chat list")


def test_the_painted_sidebar_header_and_empty_state_are_readable(qtbot, window: MainWindow) -> None:
    for name in ("light", "dark"):
        appearance.apply_theme(QApplication.instance(), name)
        qtbot.wait(50)
        background, ink = painted(window.sidebar.list_view.viewport(), header_rect(window))
        assert theme.contrast_ratio(ink, background) >= TEXT, name
        label = window.sidebar.empty_label
        label.show()  # the empty state, as a user with no chats sees it
        qtbot.wait(20)
        background, ink = painted(label)
        assert theme.contrast_ratio(ink, background) >= TEXT, name
        label.hide()


def test_switching_to_dark_at_runtime_recolours_the_open_window(qtbot, window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    appearance.apply_theme(app, "light")
    qtbot.wait(50)
    window.sidebar.toast.show_message("Deleted “Seeded chat 0”", "Undo", 60_000)
    cards = window.drawer.cards
    assert cards
    card = cards[0]
    before = {
        "sidebar": painted(window.sidebar.list_view.viewport())[0],
        "pane": painted(window.pane.view.viewport())[0],
        "card": painted(card)[0],
        "toast": painted(window.sidebar.toast)[0],
        "status": painted(window.status)[0],
    }
    assert all(colour.lightness() > 150 for what, colour in before.items() if what != "toast")
    dot_before = QColor(window.status.dot._colour)

    appearance.apply_theme(app, "dark")
    qtbot.waitUntil(lambda: painted(window.pane.view.viewport())[0].lightness() < 80, timeout=3_000)
    assert appearance.current_theme(app) == "dark"
    assert window.drawer.cards[0] is card  # the same widgets, re-coloured
    after = {
        "sidebar": painted(window.sidebar.list_view.viewport())[0],
        "pane": painted(window.pane.view.viewport())[0],
        "card": painted(card)[0],
        "toast": painted(window.sidebar.toast)[0],
        "status": painted(window.status)[0],
    }
    assert all(colour.lightness() < 80 for what, colour in after.items() if what != "toast")
    assert after["toast"].lightness() > 150  # the toast stands out: light on a dark window
    # What is written on them reads: the pane's answer bubble, the card, the toast, the status.
    index = window.pane.model.index(window.pane.model.rowCount() - 1, 0)
    for widget, rect in (
        (window.pane.view.viewport(), window.pane.view.visualRect(index)),
        (card, None),
        (window.sidebar.toast, None),
        (window.status, None),
    ):
        background, ink = painted(widget, rect)
        assert theme.contrast_ratio(ink, background) >= TEXT, widget.objectName()
    # Labels and dots coloured by the window: the composer's hint, the connection dot.
    background, ink = painted(window.composer.hint_label)
    assert theme.contrast_ratio(ink, background) >= TEXT
    assert theme.is_dark(window.status.palette())
    assert window.status.dot._colour != dot_before  # the dot took the dark theme's colour
    # The message documents were rebuilt for the dark palette (their colours are baked in).
    assert window.pane.delegate._dark is True


def row_height(window: MainWindow) -> int:
    option = QStyleOptionViewItem()
    option.font = window.sidebar.list_view.font()
    return window.sidebar.delegate.row_height(option)


def test_zoom_scales_every_text_and_is_kept(qtbot, window: MainWindow, tmp_path: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    base = app.font().pointSizeF()
    title = window.pane.title_label.font().pointSizeF()
    row = row_height(window)
    window.zoom_in_action.trigger()
    window.zoom_in_action.trigger()
    assert appearance.zoom_percent(app) == 125
    assert app.font().pointSizeF() == pytest.approx(base * 1.25)
    assert window.pane.title_label.font().pointSizeF() == pytest.approx(title * 1.25)
    assert window.sidebar.list_view.font().pointSizeF() == pytest.approx(base * 1.25)
    assert row_height(window) >= row
    assert window.preferences.store.load().zoom_percent == 125  # kept for the next start
    window.zoom_out_action.trigger()
    assert appearance.zoom_percent(app) == 110
    window.zoom_reset_action.trigger()
    assert appearance.zoom_percent(app) == 100
    assert app.font().pointSizeF() == pytest.approx(base)
    assert window.pane.title_label.font().pointSizeF() == pytest.approx(title)
    assert QFont(app.font()).pointSizeF() > 0


def test_zoom_shortcuts_are_in_the_view_menu(window: MainWindow) -> None:
    actions = {a.text().replace("&", ""): a for a in window.view_menu.actions()}
    assert actions["Zoom in"].shortcut().toString() == "Ctrl+="
    assert "Ctrl++" in [s.toString() for s in actions["Zoom in"].shortcuts()]
    assert actions["Zoom out"].shortcut().toString() == "Ctrl+-"
    assert actions["Actual size"].shortcut().toString() == "Ctrl+0"


def test_following_the_system_goes_back_to_its_palette(qapp) -> None:
    system = QPalette(qapp.palette())
    appearance.apply_theme(qapp, "dark")
    assert theme.is_dark(qapp.palette()) and qapp.style().name().lower() == "fusion"
    appearance.apply_theme(qapp, "system")
    assert qapp.palette().color(R.Window) == system.color(R.Window)
    assert qapp.palette().color(R.Text) == system.color(R.Text)
