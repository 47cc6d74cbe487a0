"""Where the source drawer sits: docked beside the conversation in a wide window, over it in a narrow one.

At :data:`OVERLAY_BELOW` pixels wide and more, the drawer is the splitter's third panel,
as wide as the user left it. In a narrower window it leaves the splitter, so the
conversation keeps the whole width, and opens over the conversation's right side when
a sources chip or a citation asks for it (or View > Sources panel); Esc or its close
button puts it away and gives the keyboard focus back to where it was.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QFrame, QMainWindow, QSplitter, QToolButton, QVBoxLayout, QWidget

from . import theme

log = logging.getLogger(__name__)

#: Windows narrower than this show the drawer over the conversation.
OVERLAY_BELOW = 1100
#: The overlay's width: this share of the window, within these bounds.
OVERLAY_SHARE = 0.45
OVERLAY_MIN_WIDTH = 280
OVERLAY_MAX_WIDTH = 400
#: The drawer's width when docked and nothing else is known.
DOCKED_WIDTH = 340


class DrawerOverlay(QFrame):
    """The frame the drawer floats in over the conversation, with a close button.

    Signals:
        sig_close_requested(): Esc or the close button.
    """

    sig_close_requested = Signal()
    """The user asked to put the overlay away (Esc inside it, or its close button)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        # Widgets
        self.close_button = QToolButton(self)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)

        # Setup
        self.setObjectName("sourceOverlay")
        self.setAccessibleName("Sources")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Close sources")
        self.close_button.setToolTip("Close sources (Esc)")
        self.close_button.setAutoRaise(True)
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._apply_colours()
        self.hide()

        # Layout
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 0, 0)
        layout.setSpacing(0)

        # Signals
        self.close_button.clicked.connect(self.sig_close_requested)
        self._escape.activated.connect(self.sig_close_requested)

    def hold(self, drawer: QWidget) -> None:
        """Put ``drawer`` inside the frame (taking it out of wherever it was)."""
        layout = self.layout()
        assert layout is not None
        layout.addWidget(drawer)
        drawer.show()
        self.close_button.raise_()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        hint = self.close_button.sizeHint()
        self.close_button.setGeometry(self.width() - hint.width() - 8, 8, hint.width(), hint.height())
        self.close_button.raise_()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()

    def _apply_colours(self) -> None:
        # The window's palette: the frame's own is the style sheet's (set just below).
        parent = self.parentWidget()
        palette = parent.palette() if parent is not None else self.palette()
        edge = theme.input_border(palette)
        text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
        style = (
            f"QFrame#sourceOverlay {{ background: {theme.sidebar_background(palette).name()};"
            f" border-left: 2px solid {edge.name()}; }}"
            f"QFrame#sourceOverlay > QToolButton {{ color: {text.name()}; padding: 4px 8px; }}"
        )
        if style != self.styleSheet():
            self.setStyleSheet(style)


class DrawerPlacement(QObject):
    """Moves the drawer between the splitter and the overlay as the window's width crosses
    :data:`OVERLAY_BELOW`, and shows or hides it in whichever place it is.

    ``action`` (View > Sources panel) is kept checked while the drawer can be seen.

    Signals:
        sig_overlay_changed(overlay): the drawer moved into the overlay (True) or the splitter.
    """

    sig_overlay_changed = Signal(bool)
    """The drawer now floats over the conversation (True) or is docked in the splitter (False)."""

    def __init__(
        self,
        window: QMainWindow,
        splitter: QSplitter,
        drawer: QWidget,
        action: QAction,
        *,
        docked_visible: bool = True,
    ) -> None:
        super().__init__(window)
        # Attributes (the window is this object's parent, never held: no reference cycle)
        self._splitter = splitter
        self._drawer = drawer
        self._action = action
        #: Whether the drawer shows when docked (the user's choice, kept while it floats).
        self.docked_visible = docked_visible
        self._docked_width = DOCKED_WIDTH
        self._return_focus: QWidget | None = None
        self.overlay = False

        # Widgets
        self.frame = DrawerOverlay(window)

        # Signals
        self.frame.sig_close_requested.connect(self._on_frame_close_requested)
        window.installEventFilter(self)
        splitter.installEventFilter(self)
        self.update_placement()

    # -- public ---------------------------------------------------------------------------

    def set_visible(self, visible: bool) -> None:
        """Show or hide the drawer where it is now."""
        self._action.setChecked(visible)
        if not self.overlay:
            self.docked_visible = visible
            self._drawer.setVisible(visible)
            return
        if visible == self.frame.isVisible():
            return
        if visible:
            focus = QApplication.focusWidget()
            self._return_focus = focus if focus is not None and not self.frame.isAncestorOf(focus) else None
            self._place_frame()
            self.frame.show()
            self.frame.raise_()
            if not self.frame.isAncestorOf(QApplication.focusWidget()):
                self.frame.setFocus(Qt.FocusReason.OtherFocusReason)
                self.frame.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.frame.hide()
            target, self._return_focus = self._return_focus, None
            if target is not None and target.isVisible():
                target.setFocus(Qt.FocusReason.OtherFocusReason)

    def is_visible(self) -> bool:
        return self.frame.isVisible() if self.overlay else self._drawer.isVisible()

    def panel_sizes(self) -> list[int]:
        """[sidebar, conversation, drawer] widths as a docked layout would have them."""
        sizes = self._splitter.sizes()
        if not self.overlay and len(sizes) == 3:
            if sizes[2] > 0:
                self._docked_width = sizes[2]
            return sizes
        side, rest = (sizes[0], sum(sizes[1:])) if sizes else (0, 0)
        return [side, max(0, rest - self._docked_width), self._docked_width]

    def update_placement(self) -> None:
        """Dock or float the drawer for the window's width now."""
        window = self.parent()
        assert isinstance(window, QWidget)
        overlay = window.width() < OVERLAY_BELOW
        if overlay == self.overlay:
            if overlay and self.frame.isVisible():
                self._place_frame()
            return
        if overlay:
            self._float()
        else:
            self._dock()
        self.overlay = overlay
        self.sig_overlay_changed.emit(overlay)

    # -- moving -----------------------------------------------------------------------------

    def _float(self) -> None:
        sizes = self._splitter.sizes()
        if len(sizes) == 3 and sizes[2] > 0:
            self._docked_width = sizes[2]
        self.frame.hold(self._drawer)  # leaves the splitter, which shares its width out
        self.frame.hide()
        self._action.setChecked(False)
        log.debug("source drawer floats over the conversation")

    def _dock(self) -> None:
        had_focus = self.frame.isAncestorOf(QApplication.focusWidget())
        self.frame.hide()
        sizes = self._splitter.sizes()
        self._splitter.insertWidget(2, self._drawer)
        self._splitter.setStretchFactor(2, 0)
        if len(sizes) == 2:
            width = min(self._docked_width, max(200, sum(sizes) // 3))
            self._splitter.setSizes([sizes[0], max(1, sizes[1] - width), width])
        self._drawer.setVisible(self.docked_visible)
        self._action.setChecked(self.docked_visible)
        if had_focus and self._return_focus is not None:
            self._return_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._return_focus = None
        log.debug("source drawer docked")

    def _place_frame(self) -> None:
        area = self._splitter.geometry()  # the central area, in the window's coordinates
        width = round(area.width() * OVERLAY_SHARE)
        width = max(min(OVERLAY_MIN_WIDTH, area.width()), min(OVERLAY_MAX_WIDTH, width))
        self.frame.setGeometry(area.right() + 1 - width, area.top(), width, area.height())

    # -- events -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.Resize, QEvent.Type.Show):
            return False
        splitter = self.__dict__.get("_splitter")
        if splitter is None:
            return False  # the window is being torn down: its Python side is gone already
        if watched is self.parent():
            self.update_placement()
        elif watched is splitter and kind == QEvent.Type.Resize:
            if self.overlay and self.frame.isVisible():
                self._place_frame()
        return False

    @Slot()
    def _on_frame_close_requested(self) -> None:
        self.set_visible(False)
