"""The status bar: online / offline / syncing, progress on long work, pending writes, refused writes.

It only reflects what the worker reports (``WorkerStatus`` and progress
signals); the Parked button opens the dialog where refused changes are retried
or discarded.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from .. import theme, time_groups
from ..workers.sync_worker import WorkerStatus

if TYPE_CHECKING:
    from ...data.sync.results import LibraryStatus
    from ..workers.client import WorkerClient
    from .parked_dialog import ParkedDialog

log = logging.getLogger(__name__)

#: Progress shows only for work that takes longer than this (no flicker on quick syncs).
PROGRESS_DELAY_MS = 400

ONLINE = "online"
OFFLINE = "offline"
SYNCING = "syncing"
CONNECTING = "connecting"
LOCAL = "local"


def _weak_callable(function: Callable[[str], str]) -> Callable[[str], str]:
    """``function``, holding its object weakly when it is a bound method ("" once it is gone)."""
    if not inspect.ismethod(function):
        return function
    method = weakref.WeakMethod(function)

    def call(chat_id: str) -> str:
        target = method()
        return target(chat_id) if target is not None else ""

    return call


class StateDot(QWidget):
    """A small filled circle in the state's colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor()
        self.setFixedSize(QSize(12, 12))

    def set_colour(self, colour: QColor) -> None:
        self._colour = QColor(colour)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        painter.drawEllipse(QRectF(2, 2, 8, 8))


class SyncStatusBar(QStatusBar):
    """Shows the worker's status; see the module docstring."""

    def __init__(
        self, client: WorkerClient, title_of: Callable[[str], str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        # Weakly: ``title_of`` is usually a method of the window that owns this bar, and a
        # strong reference would make the pair a cycle only the garbage collector frees,
        # in whatever thread it happens to run (Qt objects must die in the GUI thread).
        self._title_of = _weak_callable(title_of)
        self._status: WorkerStatus | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._dialog: ParkedDialog | None = None
        self.state = CONNECTING

        # Widgets
        self.dot = StateDot(self)
        self.state_label = QLabel("Connecting…", self)
        self.progress = QProgressBar(self)
        self.pending_label = QLabel(self)
        self.parked_button = QPushButton(self)
        self.sync_button = QPushButton(self)  # its text set apart: see ChatSidebar (QIcon's enums)
        self.sync_button.setText("Sync now")

        # Setup
        self.setAccessibleName("Status")
        self.setSizeGripEnabled(True)
        self.state_label.setAccessibleName("Connection")
        self.progress.setAccessibleName("Sync progress")
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.pending_label.setAccessibleName("Changes waiting to be sent")
        self.pending_label.hide()
        self.parked_button.setAccessibleName("Changes not sent")
        self.parked_button.setFlat(True)
        self.parked_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.parked_button.hide()
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setFlat(True)
        self.sync_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._apply_colours()

        # Layout
        # All permanent: a passing message ("Exported to ...") never hides the connection state.
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.pending_label)
        self.addPermanentWidget(self.parked_button)
        self.addPermanentWidget(self.dot)
        self.addPermanentWidget(self.state_label)
        self.addPermanentWidget(self.sync_button)

        # Signals
        self._progress_timer.timeout.connect(self._on_progress_timer_timeout)
        self.parked_button.clicked.connect(self.open_parked_dialog)
        self.sync_button.clicked.connect(self._on_sync_button_clicked)
        client.events.sig_status_changed.connect(self._on_client_status_changed)
        client.events.sig_queue_changed.connect(self._on_client_queue_changed)
        client.events.sig_sync_progress.connect(self._on_client_sync_progress)

    @property
    def status(self) -> WorkerStatus | None:
        return self._status

    @Slot(object)
    def _on_client_queue_changed(self, library: LibraryStatus) -> None:
        """A local write changed the outbox: new counts, same connectivity."""
        if self._status is None:
            self._status = WorkerStatus(None, False, library)
        else:
            self._status = self._status._replace(library=library)
        self._show(self._status)

    @Slot(object)
    def _on_client_status_changed(self, status: WorkerStatus) -> None:
        self._show(status)

    def _show(self, status: WorkerStatus) -> None:
        self._status = status
        palette = self.palette()
        if not status.networked:
            self.state, text, colour = LOCAL, "Local only", theme.muted_text(palette)
        elif status.syncing:
            self.state, text, colour = SYNCING, "Syncing…", theme.accent(palette)
        elif status.online is None:
            self.state, text, colour = CONNECTING, "Connecting…", theme.muted_text(palette)
        elif status.online:
            self.state, text, colour = ONLINE, "Online", theme.success(palette)
        else:
            self.state, text, colour = OFFLINE, "Offline", theme.warning(palette)
        self.state_label.setText(text)
        self.dot.set_colour(colour)
        tooltip = []
        if status.error and status.online is False:
            tooltip.append(status.error)
            if not status.damaged:  # the damaged installation's words say what is kept
                tooltip.append("Your changes are kept and sent when the connection is back.")
        library = status.library
        if library is not None and library.last_sync:
            tooltip.append(f"Last synced {time_groups.full_time(library.last_sync)}")
        self.state_label.setToolTip("\n".join(tooltip))
        self.dot.setToolTip(self.state_label.toolTip())
        pending = library.pending if library is not None else 0
        parked = library.parked if library is not None else 0
        self.pending_label.setVisible(pending > 0)
        self.pending_label.setText(f"{pending} change{'s' if pending != 1 else ''} waiting to sync")
        if parked > 0:
            self._style_parked_button()
        self.parked_button.setVisible(parked > 0)
        self.parked_button.setText(f"{parked} change{'s' if parked != 1 else ''} not sent")
        if status.syncing:
            if not self.progress.isVisible() and not self._progress_timer.isActive():
                self.progress.setRange(0, 0)
                self._progress_timer.start()
        else:
            self._progress_timer.stop()
            self.progress.hide()
        if self._dialog is not None and library is not None:
            self._dialog.set_operations(library.parked_operations)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()

    def _apply_colours(self) -> None:
        """The colours taken from the palette, again when the theme changes."""
        if not self.parked_button.isHidden():
            self._style_parked_button()
        if self._status is not None:
            self._show(self._status)
        else:
            self.dot.set_colour(theme.muted_text(self.palette()))

    def _style_parked_button(self) -> None:
        """The parked count in the error colour: set when the button shows, and again when
        the theme changes while it shows: a button hidden at start-up costs no style sheet
        before the first paint."""
        style = f"color: {theme.error(self.palette()).name()}; font-weight: bold;"
        if self.parked_button.styleSheet() != style:
            self.parked_button.setStyleSheet(style)

    @Slot(str, int, int)
    def _on_client_sync_progress(self, what: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setToolTip(f"{what}: {done} of {total}" if total else what)
        if total >= 50 and not self.progress.isVisible():
            self.progress.show()

    @Slot()
    def _on_progress_timer_timeout(self) -> None:
        if self._status is not None and self._status.syncing:
            self.progress.show()

    @Slot()
    def _on_sync_button_clicked(self) -> None:
        self._client.sync_now()

    @Slot()
    def open_parked_dialog(self) -> ParkedDialog:
        if self._dialog is None:
            from .parked_dialog import ParkedDialog  # rarely needed: not loaded at start-up

            self._dialog = ParkedDialog(self._client, self._title_of, self.window())
        library = self._status.library if self._status is not None else None
        self._dialog.set_operations(library.parked_operations if library is not None else [])
        self._dialog.show()
        self._dialog.raise_()
        return self._dialog
