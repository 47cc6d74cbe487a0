"""The sidebar: filter box, New chat, and the chat list with rename in place, pins and
delete with Undo.

It runs its own operations on the library: it loads the list, renames, pins and
deletes, and applies one-chat updates as writes report them. A delete hides the chat at once
and is queued with ``not_before_ms`` a few seconds ahead, so Undo can cancel the
operation before anything is sent.

The filter matches titles only. When it matches none, the list says so and points to
Ctrl+K, which searches messages and sources; when it hides the open chat, a line under
the filter box says so and offers to show it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QKeyCombination,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import bidi
from ..workers.operation import LibraryOp
from .chat_delegate import ChatDelegate
from .chat_list_model import ChatListModel
from .chat_ops import FIRST_SCREEN_CHATS, create_chat_op, first_screen_op

if TYPE_CHECKING:
    from ...data.sync import ChatView
    from ..toast import Toast
    from ..workers.client import WorkerClient
    from .list_read import ListRead

log = logging.getLogger(__name__)

FILTER_DELAY_MS = 120
FILTER_KEYS = QKeyCombination(
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier, Qt.Key.Key_F
)
NO_MATCH_TEXT = "No titles match.\nCtrl+K searches messages and sources."
#: Rows the chat list lays out a turn of the event loop (see :class:`ChatListView`).
LAYOUT_BATCH_ROWS = 1000
#: The delete is sent this long after the toast is gone, so a late Undo still wins.
UNDO_GRACE_MS = 500
#: The rest of the list is read after the first screen is painted, or after this long
#: (a window covered by another may not paint at once).
FIRST_PAINT_WAIT_MS = 500


class ChatListView(QListView):
    """A QListView whose keyboard navigation steps over group headers.

    It lays its rows out :data:`LAYOUT_BATCH_ROWS` at a time, one batch a turn of the
    event loop: a new filter over 10,000 chats lays out every row again (Qt asks the
    model about each), which in one go held the window for 20-30 ms at each key. The
    rows on screen come in the first batch; scrolling to a row not laid out yet finishes
    the layout first.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH_ROWS)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)

    def scrollTo(
        self,
        index: QModelIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        if index.isValid() and not self.visualRect(index).isValid():
            self.finish_layout()
        super().scrollTo(index, hint)

    def finish_layout(self) -> None:
        """Lay out every row now (the batches still to come included)."""
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        try:
            self.doItemsLayout()
        finally:
            self.setLayoutMode(QListView.LayoutMode.Batched)

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        index = super().moveCursor(cursorAction, modifiers)
        model = self.model()
        if not isinstance(model, ChatListModel) or not index.isValid() or not model.is_header(index.row()):
            return index
        forward = cursorAction in (
            QAbstractItemView.CursorAction.MoveDown,
            QAbstractItemView.CursorAction.MoveNext,
            QAbstractItemView.CursorAction.MovePageDown,
            QAbstractItemView.CursorAction.MoveEnd,
        )
        row = index.row()
        step = 1 if forward else -1
        while 0 <= row < model.rowCount() and model.is_header(row):
            row += step
        if not 0 <= row < model.rowCount():
            # Past the first header going up: stay where we were.
            row = index.row() - step
            while 0 <= row < model.rowCount() and model.is_header(row):
                row -= step
        return model.index(row, 0) if 0 <= row < model.rowCount() else self.currentIndex()


class ChatSidebar(QWidget):
    """Lists chats and turns the user's list actions into worker requests.

    Signals:
        sig_chat_selected(chat_id): the user opened a chat ("" when none is left).
        sig_new_chat_created(chat_id): a chat the user asked for exists and is selected.
        sig_export_requested(chat_id): "Export…" chosen from the context menu.
        sig_chat_moved(old_id, new_id): the open chat, created here, has the server's id now.
    """

    sig_chat_selected = Signal(str)
    """The current chat changed (by the user, or because the current one was deleted)."""
    sig_new_chat_created = Signal(str)
    """The chat made by "New chat" exists; it is selected."""
    sig_export_requested = Signal(str)
    """The user asked to export this chat."""
    sig_first_list_shown = Signal()
    """The first chat list is on screen (painted; or arrived while the list is not visible)."""
    sig_list_loaded = Signal()
    """A chat list arrived and is in the model."""
    sig_delete_queued = Signal(str)
    """(chat id) its delete waits in the outbox; Undo can still take it back."""
    sig_delete_undone = Signal(str, bool)
    """(chat id, in time) Undo took the delete back, or it had been sent already."""
    sig_search_requested = Signal(str)
    """(text) The filter matched no title; the user asked to search messages and sources for it."""
    sig_chat_moved = Signal(str, str)
    """(old id, new id) The open chat was created on the server, which gave it its own id
    (the deployment's API does): it stays open under that id."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._load_op: LibraryOp[list[ChatView]] | None = None
        self._first_op: LibraryOp[list[ChatView]] | None = None
        self._current_id = ""
        self._deleting: dict[str, ChatView] = {}
        self._delete_ops: dict[str, int] = {}
        self._undo_wanted: set[str] = set()
        self._toast_chat = ""
        self._loaded_once = False
        self._first_shown = False
        self._first_list_told = False
        #: The first screen is in; the rest of the list is read once it is painted.
        self._rest_wanted = False
        #: The whole list being read, a page at a time (after the first screen, a sync).
        self._read: ListRead | None = None
        #: The open chat is moving in the list (pinned, new activity): it stays open.
        self._moving_current = False
        #: The open chat's id while it is not listed: looked up (it may have taken the
        #: server's id), or the server's id it took, until the list has it.
        self._awaited = ""
        self._looking_up = False
        #: How long Undo is offered after a delete, when not the toast's own default.
        self._undo_timeout_ms: int | None = None
        self.model = ChatListModel(self)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._day_timer = QTimer(self)
        self._day_timer.setInterval(60_000)

        # Widgets
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter chats")
        self.filter_edit.setAccessibleName("Filter chats")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setObjectName("filterEdit")
        # Buttons and actions are made empty, then given their text: a text in the
        # constructor makes PySide6 match the overload with an icon, which creates
        # QIcon's enums (about 1% of a start) before the first paint.
        self.new_button = QPushButton(self)
        self.new_button.setText("+  New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("New chat (Ctrl+N)")
        self.new_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.list_view = ChatListView(self)
        self.list_view.setAccessibleName("Chats")
        self.delegate = ChatDelegate(self.list_view)
        self.empty_label = QLabel("No chats yet.\nStart one with New chat.", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setAccessibleName("No chats")
        self.empty_label.setEnabled(False)
        self.hidden_chat_label = QLabel("The open chat is hidden by the filter.", self)
        self.hidden_chat_label.setProperty("muted", True)
        self.hidden_chat_label.setWordWrap(True)
        self.show_hidden_button = QPushButton(self)
        self.show_hidden_button.setText("Show")
        self.show_hidden_button.setAccessibleName("Show the open chat")
        self.show_hidden_button.setToolTip("Clear the filter and show the open chat")
        self.show_hidden_button.setFlat(True)
        self.show_hidden_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hidden_chat_hint = QWidget(self)
        self.hidden_chat_hint.setObjectName("hiddenChatHint")
        self.hidden_chat_hint.setAccessibleName("The open chat is hidden by the filter")
        self.no_match = QWidget(self)
        self.no_match.setObjectName("noMatch")
        self.no_match_label = QLabel(NO_MATCH_TEXT, self.no_match)
        self.no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match_label.setWordWrap(True)
        self.no_match_label.setProperty("muted", True)
        self.no_match_label.setAccessibleName("No titles match")
        self.search_button = QPushButton(self.no_match)
        self.search_button.setText("Search messages and sources")
        self.search_button.setAccessibleName("Search messages and sources")
        self.search_button.setToolTip("Search every message and source for this text (Ctrl+K)")
        self.search_button.setCursor(Qt.CursorShape.PointingHandCursor)
        #: Made, with its module, the first time a message shows (see :attr:`toast`).
        self._toast: Toast | None = None
        self.rename_action = QAction(self)
        self.rename_action.setText("Rename")
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.delete_action = QAction(self)
        self.delete_action.setText("Delete")
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.export_action = QAction(self)
        self.export_action.setText("Export…")
        self.pin_action = QAction(self)
        self.pin_action.setText("Pin")
        self.pin_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pin_action.setToolTip("Pin the chat at the top of the list, or unpin it (Ctrl+Shift+P)")

        # Setup
        self.setObjectName("sidebar")
        self.setAccessibleName("Chat list")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(self.delegate)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        for action in (self.rename_action, self.delete_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.list_view.addAction(action)
        self.addAction(self.pin_action)  # the whole window's shortcut, wherever the focus is
        self.pin_action.setEnabled(False)
        self.empty_label.hide()
        self.hidden_chat_hint.hide()
        self.no_match.hide()

        # Layout
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(6)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.setSpacing(8)
        hint = QHBoxLayout(self.hidden_chat_hint)
        hint.setContentsMargins(4, 0, 0, 0)
        hint.setSpacing(4)
        hint.addWidget(self.hidden_chat_label, 1)
        hint.addWidget(self.show_hidden_button)
        no_match = QVBoxLayout(self.no_match)
        no_match.setContentsMargins(8, 24, 8, 8)
        no_match.setSpacing(10)
        no_match.addWidget(self.no_match_label)
        no_match.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignHCenter)
        no_match.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.hidden_chat_hint)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.no_match, 1)
        layout.addWidget(self.empty_label, 1)
        self.setTabOrder(self.filter_edit, self.new_button)
        self.setTabOrder(self.new_button, self.list_view)

        # Signals
        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)
        self._filter_timer.timeout.connect(self._on_filter_timer_timeout)
        self._day_timer.timeout.connect(self._on_day_timer_timeout)
        self.new_button.clicked.connect(self.new_chat)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action.triggered.connect(self.delete_current)
        self.export_action.triggered.connect(self._on_export_action_triggered)
        self.pin_action.triggered.connect(self.pin_current)
        self.show_hidden_button.clicked.connect(self._on_show_hidden_button_clicked)
        self.search_button.clicked.connect(self._on_search_button_clicked)
        self.list_view.customContextMenuRequested.connect(self._on_list_view_context_menu)
        selection = self.list_view.selectionModel()
        selection.currentChanged.connect(self._on_selection_current_changed)
        self.model.sig_rename_requested.connect(self._on_model_rename_requested)
        self.model.rowsInserted.connect(self._on_model_rows_changed)
        self.model.rowsRemoved.connect(self._on_model_rows_changed)
        self.model.modelReset.connect(self._on_model_reset)
        client.events.sig_chat_changed.connect(self._on_events_chat_changed)
        client.events.sig_data_changed.connect(self.reload)
        self._day_timer.start()

    # -- public -------------------------------------------------------------------------

    @property
    def toast(self) -> Toast:
        """The Undo toast, made the first time it is wanted: nothing shows it before the
        first paint, and its module and widgets are about 0.7% of a start."""
        if self._toast is None:
            from ..toast import Toast

            self._toast = Toast(self)
            self._toast.sig_action_clicked.connect(self._on_toast_action_clicked)
            self._toast.sig_expired.connect(self._on_toast_expired)
        return self._toast

    @property
    def undo_timeout_ms(self) -> int:
        """How long Undo is offered after a delete (the delete is sent only after it): the
        toast's own default unless set (tests shorten it), read with the toast's module,
        which is not loaded before the first paint."""
        if self._undo_timeout_ms is not None:
            return self._undo_timeout_ms
        from ..toast import DEFAULT_TIMEOUT_MS

        return DEFAULT_TIMEOUT_MS

    @undo_timeout_ms.setter
    def undo_timeout_ms(self, timeout_ms: int) -> None:
        self._undo_timeout_ms = timeout_ms

    @property
    def current_chat_id(self) -> str:
        return self._current_id

    @property
    def loaded(self) -> bool:
        """True once the first list arrived."""
        return self._loaded_once

    @Slot()
    def reload(self) -> None:
        """Read the list again; the very first time, its first screen, then the rest.

        The first screen comes without reading and decoding every chat first; the whole
        list is read a page at a time (see :mod:`.list_read`).
        """
        if not self._loaded_once and self._first_op is None:
            self.adopt_first_load(first_screen_op().run_in(self._client.local))
        else:
            self._read_all()

    @property
    def reading(self) -> bool:
        """True while the whole list is being read (pages still to come)."""
        return self._read is not None and self._read.active

    def _read_all(self) -> None:
        """Read the whole list anew, a page at a time; a read still going stops there."""
        from .list_read import ListRead  # not needed before the first paint

        if self._read is not None:
            self._read.cancel()
        self._rest_wanted = False
        self._read = ListRead(
            self._client.local,
            self._on_page_loaded,
            self._on_list_read,
            self._client.sig_failed.emit,
            self.model.chat_ids,
            self,
        )
        self._read.start()

    def adopt_first_load(self, op: LibraryOp[list[ChatView]]) -> None:
        """Take the first screen of chats (:func:`first_screen_op`), asked for before this
        sidebar existed (the window asks for it while it is being built), as the first load."""
        self._first_op = op
        self._load(op, sent=True)

    def _load(self, op: LibraryOp[list[ChatView]], *, sent: bool = False) -> None:
        """Only the newest list asked for counts: an older one still coming is dropped."""
        if self._load_op is not None and self._load_op is not op:
            self._load_op.cancel()
        self._load_op = op
        self._rest_wanted = False
        op.success(functools.partial(self._on_chats_loaded, op))
        if not sent:
            op.run_in(self._client.local)

    @Slot()
    def new_chat(self) -> None:
        create_chat_op().success(self._on_chat_created).run_in(self._client.local)

    def follow_chat(self, old_id: str, new_id: str) -> None:
        """Chat ``old_id`` has the server's id ``new_id`` now; open, it stays open."""
        if self._current_id != old_id:
            return
        self._current_id = new_id
        self._awaited = new_id if self.model.view(new_id) is None else ""
        if self._awaited:
            self.reload()
        else:
            self._restore_selection()

    def select_chat(self, chat_id: str) -> bool:
        """Make ``chat_id`` current (clearing a filter that hides it); False if unknown."""
        if self.model.view(chat_id) is None:
            return False
        if not self.model.index_of(chat_id).isValid():
            self.filter_edit.clear()
            self.model.set_filter("")
        index = self.model.index_of(chat_id)
        self.list_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.list_view.scrollTo(index)
        return True

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    @Slot()
    def rename_current(self) -> None:
        index = self.list_view.currentIndex()
        if index.isValid() and self.model.chat_id_at(index.row()):
            self.list_view.edit(index)

    @Slot()
    def pin_current(self) -> None:
        """Pin the open chat, or unpin it when it is pinned."""
        view = self.model.view(self._current_id) if self._current_id else None
        if view is not None:
            self.pin_chat(view.chat.chat_id, not view.pinned)

    def pin_chat(self, chat_id: str, pinned: bool) -> None:
        """Pin or unpin a chat; the list moves it when the library has stored the change."""
        LibraryOp(lambda lib: lib.pin_chat(chat_id, pinned), name="pin chat").touching(
            chat_id
        ).after_write().run_in(self._client.local)

    @Slot()
    def delete_current(self) -> None:
        chat_id = self._current_id
        if chat_id:
            self.delete_chat(chat_id)

    def delete_chat(self, chat_id: str) -> None:
        """Hide the chat now; send the delete when the Undo toast has gone."""
        view = self.model.view(chat_id)
        if view is None:
            return
        row = self.model.index_of(chat_id).row()
        self._deleting[chat_id] = view
        self.model.remove_chat(chat_id)
        if chat_id == self._current_id:
            self._select_near(row)
        from ...data.schema import now_ms  # not needed before the first paint

        undo_ms = self.undo_timeout_ms
        not_before = now_ms() + undo_ms + UNDO_GRACE_MS
        LibraryOp(
            lambda lib: lib.delete_chat(chat_id, not_before_ms=not_before), name="delete chat"
        ).after_write(undo_ms + UNDO_GRACE_MS + 250).success(
            functools.partial(self._on_delete_scheduled, chat_id)
        ).run_in(self._client.local)
        self._toast_chat = chat_id
        self.toast.show_message(f"Deleted “{_short(view.chat.title)}”", "Undo", undo_ms)

    @Slot()
    def undo_delete(self) -> None:
        chat_id = self._toast_chat
        if not chat_id or chat_id not in self._deleting:
            return
        op_id = self._delete_ops.get(chat_id)
        if op_id is None:
            self._undo_wanted.add(chat_id)  # the worker has not queued it yet; cancel when it has
        else:
            self._cancel_delete(chat_id, op_id)

    def _cancel_delete(self, chat_id: str, op_id: int) -> None:
        LibraryOp(lambda lib: lib.cancel(op_id), name="undo delete").after_write().success(
            functools.partial(self._on_delete_cancelled, chat_id)
        ).run_in(self._client.local)

    # -- results ------------------------------------------------------------------------

    def _on_chats_loaded(self, op: LibraryOp[list[ChatView]], views: list[ChatView]) -> None:
        first_screen = op is self._first_op and len(views) >= FIRST_SCREEN_CHATS
        self._loaded_once = True
        kept = [v for v in views if v.chat.chat_id not in self._deleting]
        current = self._current_id
        listed = any(v.chat.chat_id == current for v in kept)
        if current and not listed and not self._looking_up:
            self._find_current_id(current)
        with self._keeping_current(bool(current) and (listed or self._awaited == current)):
            self.model.set_chats(kept)
        self._update_empty()
        self._update_pin_action()
        self._restore_selection()
        if first_screen and self._read is None:
            # The rest once this screen is painted: decoding every chat in the worker
            # would compete with the paint for the interpreter.
            self._rest_wanted = True
        self.sig_list_loaded.emit()
        self._watch_first_paint()

    def _on_page_loaded(self, views: list[ChatView]) -> None:
        """A page of the whole list: its chats join those shown, which stay where they are."""
        self._loaded_once = True
        kept = [v for v in views if v.chat.chat_id not in self._deleting]
        current = self._current_id
        keep = bool(current) and (self.model.view(current) is not None or self._awaited == current)
        with self._keeping_current(keep):
            self.model.add_chats(kept)
        self._update_empty()
        self._update_pin_action()
        self._restore_selection()
        self._watch_first_paint()

    def _on_list_read(self, found: set[str]) -> None:
        """The last page is in: chats held that the read did not find are gone."""
        current = self._current_id
        listed = current in found and self.model.view(current) is not None
        if current and not listed and not self._looking_up:
            self._find_current_id(current)
        with self._keeping_current(bool(current) and (listed or self._awaited == current)):
            self.model.retain(found)
        self._update_empty()
        self._update_pin_action()
        self._restore_selection()
        self.sig_list_loaded.emit()

    def _touch(self, chat_id: str) -> None:
        """The list was told about ``chat_id`` by a write: a read still going leaves it be."""
        if self._read is not None and self._read.active:
            self._read.touch(chat_id)

    @Slot(str, object)
    def _on_events_chat_changed(self, chat_id: str, view: ChatView | None) -> None:
        self._touch(chat_id)
        if chat_id in self._deleting:
            return
        if view is None:
            if chat_id == self._current_id and not self._looking_up:
                self._find_current_id(chat_id)
            with self._keeping_current(bool(self._current_id) and self._awaited == self._current_id):
                self.model.remove_chat(chat_id)
        else:
            with self._keeping_current(self.model.view(self._current_id) is not None):
                self.model.upsert_chat(view)
        self._update_empty()
        self._update_pin_action()

    def _on_chat_created(self, view: ChatView | None) -> None:
        if view is None:
            return
        self._touch(view.chat.chat_id)
        self.model.upsert_chat(view)
        self._update_empty()
        self.filter_edit.clear()
        self.select_chat(view.chat.chat_id)
        self.sig_new_chat_created.emit(view.chat.chat_id)

    def _on_delete_scheduled(self, chat_id: str, op_id: int) -> None:
        self._delete_ops[chat_id] = op_id
        self.sig_delete_queued.emit(chat_id)
        if chat_id in self._undo_wanted:
            self._undo_wanted.discard(chat_id)
            self._cancel_delete(chat_id, op_id)

    def _on_delete_cancelled(self, chat_id: str, cancelled: bool) -> None:
        self._delete_ops.pop(chat_id, None)
        view = self._deleting.pop(chat_id, None)
        self.sig_delete_undone.emit(chat_id, cancelled)
        if not cancelled:
            self.toast.show_message("Too late to undo: the chat was already deleted.", "", 4000)
            return
        if view is not None:
            self._touch(chat_id)
            self.model.upsert_chat(view)
        self._update_empty()
        self.select_chat(chat_id)
        self.reload()

    @Slot()
    def _on_toast_action_clicked(self) -> None:
        self.undo_delete()

    @Slot()
    def _on_toast_expired(self) -> None:
        self._toast_chat = ""

    # -- user actions -------------------------------------------------------------------

    @Slot(str)
    def _on_filter_edit_text_changed(self, text: str) -> None:
        self._filter_timer.start()

    @Slot()
    def _on_filter_timer_timeout(self) -> None:
        self.model.set_filter(self.filter_edit.text())
        self._restore_selection()

    @Slot()
    def _on_day_timer_timeout(self) -> None:
        self.model.refresh_day(dt.date.today())

    @Slot(QModelIndex, QModelIndex)
    def _on_selection_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._moving_current:
            return  # the view moved the selection off a row being moved: not the user's choice
        chat_id = self.model.chat_id_at(current.row()) if current.isValid() else None
        if chat_id and chat_id != self._current_id:
            self._current_id = chat_id
            self._update_pin_action()
            self.sig_chat_selected.emit(chat_id)

    @Slot(str, str)
    def _on_model_rename_requested(self, chat_id: str, title: str) -> None:
        # Afterwards the chat is read again: the list shows the title really stored.
        LibraryOp(lambda lib: lib.rename_chat(chat_id, title), name="rename chat").touching(
            chat_id
        ).after_write().run_in(self._client.local)

    @Slot(QPoint)
    def _on_list_view_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu_at(pos)
        if menu is not None:
            menu.popup(self.list_view.viewport().mapToGlobal(pos))

    def context_menu_at(self, pos: QPoint) -> QMenu | None:
        """The menu of the chat at ``pos`` (in the list's viewport), which becomes current;
        None over a header or empty space."""
        index = self.list_view.indexAt(pos)
        if not index.isValid() or not self.model.chat_id_at(index.row()):
            return None
        self.list_view.setCurrentIndex(index)
        self._update_pin_action()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.pin_action)
        menu.addAction(self.rename_action)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        return menu

    @Slot()
    def _on_export_action_triggered(self) -> None:
        if self._current_id:
            self.sig_export_requested.emit(self._current_id)

    @Slot()
    def _on_show_hidden_button_clicked(self) -> None:
        if self._current_id and self.select_chat(self._current_id):
            self.list_view.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def _on_search_button_clicked(self) -> None:
        self.sig_search_requested.emit(self.model.filter_text())

    # -- selection upkeep ---------------------------------------------------------------

    @Slot(QModelIndex, int, int)
    def _on_model_rows_changed(self, parent: QModelIndex, first: int, last: int) -> None:
        self._update_empty()
        self._restore_selection()

    @Slot()
    def _on_model_reset(self) -> None:
        self._update_empty()
        self._restore_selection()

    @contextmanager
    def _keeping_current(self, keep: bool) -> Iterator[None]:
        """While the model moves rows, the open chat stays open (when ``keep``): a row
        removed to be inserted elsewhere must not open its neighbour."""
        if not keep or self._moving_current:
            yield
            return
        self._moving_current = True
        try:
            yield
        finally:
            self._moving_current = False
            self._restore_selection()

    def _find_current_id(self, chat_id: str) -> None:
        """The open chat left the list: created here, it may have taken the server's id.
        Until that is known, the selection stays where it is."""
        self._awaited = chat_id
        self._looking_up = True
        LibraryOp(lambda lib: lib.current_chat_id(chat_id), name="chat id now").success(
            functools.partial(self._on_current_id_found, chat_id)
        ).failure(lambda _failure: self._on_current_id_found(chat_id, chat_id)).run_in(self._client.local)

    def _on_current_id_found(self, old_id: str, new_id: str) -> None:
        self._looking_up = False
        if self._awaited == old_id:
            self._awaited = ""
        if self._current_id == old_id and new_id != old_id:
            self.follow_chat(old_id, new_id)
            self.sig_chat_moved.emit(old_id, new_id)
            return
        self._restore_selection()

    def _restore_selection(self) -> None:
        """Keep the current chat selected across list changes; pick one when there is none."""
        if self._current_id and self.model.view(self._current_id) is not None:
            if self._awaited == self._current_id:
                self._awaited = ""
            # Hidden by the filter, the open chat stays open (a line says so).
            index = self.model.index_of(self._current_id)
            if index.isValid() and self.list_view.currentIndex() != index:
                selection = self.list_view.selectionModel()
                selection.blockSignals(True)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                selection.blockSignals(False)
                self.list_view.viewport().update()
            return
        if self._current_id and self._current_id == self._awaited:
            return  # not listed yet: its id now is being looked up, or the list brings it
        if self._current_id and self.model.view(self._current_id) is None and self._loaded_once:
            self._select_near(0)
            return
        if not self._current_id and self._loaded_once:
            self._select_near(0)

    def _select_near(self, row: int) -> None:
        model = self.model
        for candidate in list(range(row, model.rowCount())) + list(range(row - 1, -1, -1)):
            chat_id = model.chat_id_at(candidate)
            if chat_id:
                self.select_chat(chat_id)
                return
        if self._current_id:
            self._current_id = ""
            self.sig_chat_selected.emit("")

    def _watch_first_paint(self) -> None:
        """Say when the first list is on screen: after the list's first paint, or now when
        nothing of it is visible (an empty list, a window not shown)."""
        if self._first_shown:
            return
        self._first_shown = True
        viewport = self.list_view.viewport()
        if self.list_view.isVisible() and viewport.isVisible():
            viewport.installEventFilter(self)
            QTimer.singleShot(FIRST_PAINT_WAIT_MS, self, self._emit_first_list_shown)
        else:
            QTimer.singleShot(0, self, self._emit_first_list_shown)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self.list_view.viewport():
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._emit_first_list_shown)  # once this paint is done
        return super().eventFilter(watched, event)

    @Slot()
    def _emit_first_list_shown(self) -> None:
        if self._first_list_told:
            return
        self._first_list_told = True
        self.list_view.viewport().removeEventFilter(self)
        if self._rest_wanted:
            self._read_all()
        self.sig_first_list_shown.emit()

    def _update_empty(self) -> None:
        """Show the list, "no chats yet", or "no titles match"; and whether the filter
        hides the open chat."""
        empty = self._loaded_once and self.model.chat_count() == 0
        no_match = not empty and bool(self.model.filter_text()) and self.model.shown_chat_count() == 0
        self.empty_label.setVisible(empty)
        self.no_match.setVisible(no_match)
        self.list_view.setVisible(not empty and not no_match)
        hidden = bool(self._current_id) and self.model.hidden_by_filter(self._current_id)
        self.hidden_chat_hint.setVisible(hidden)

    def _update_pin_action(self) -> None:
        view = self.model.view(self._current_id) if self._current_id else None
        self.pin_action.setEnabled(view is not None)
        self.pin_action.setText("Unpin" if view is not None and view.pinned else "Pin")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Ctrl+F finds in the open chat (the window's); the filter is Ctrl+Shift+F.
        if event.keyCombination() == FILTER_KEYS:
            self.focus_filter()
            return
        super().keyPressEvent(event)


def _short(title: str, limit: int = 40) -> str:
    """A title for our own sentence: cut, one line, bidi-isolated (it cannot reorder ours)."""
    return bidi.inline(title, limit)
