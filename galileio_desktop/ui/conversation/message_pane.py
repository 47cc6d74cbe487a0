"""The open chat: loads pages of messages, follows answers as they stream, copies and opens.

Newest page first; older pages are asked for when the user scrolls near the
top, and the view keeps its place while they are inserted above. When the user
is at the bottom, new rows keep it there. Asking goes through an
:class:`~.ask_tracker.AskTracker`: the question shows at once, the answer
streams into a transient row, and a failure stays on the question with Retry.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from .. import bidi, links, theme
from ..toast import Toast
from ..workers.operation import LibraryOp, OpFailure
from .ask_tracker import AskTracker
from .citation_previews import CitationPreviews
from .find_bar import FindBar
from .message_actions import MessageActions
from .message_delegate import MessageDelegate
from .message_list_model import AI, HUMAN, MessageListModel, MessageRoles
from .message_ops import FIRST_PAGE_IN, PAGE_SIZE, MessagePage, around_op, fetch_op, page_op
from .message_view import MessageListView
from .revalidation import OpenChatRevalidation
from .row_warmer import RowWarmer
from .scroll_paint import ScrollPaintWait
from .view_message_dialog import ViewMessageDialog

if TYPE_CHECKING:
    from ...data.sync import MessageView
    from ..workers.client import WorkerClient

log = logging.getLogger(__name__)

#: Ask for an older page when the view is this close to the top, in pixels, or in
#: viewport heights when that is more: a page asked for early is in, and its rows nearest
#: the viewport laid out (see :mod:`.row_warmer`), before a fast scroll reaches them.
FETCH_MARGIN_PX = 300
FETCH_MARGIN_SCREENS = 4
BOTTOM_SLACK_PX = 6
#: The most rows the pane holds: scrolling far up drops the newest rows (and scrolling back
#: down, the oldest), so a layout, which asks every row its height, stays a few
#: milliseconds even in a chat of a million messages (a page going in above 200 rows, 2 ms;
#: above 400, 3). 200 of the shortest rows are over a dozen screens: more than the
#: :data:`FETCH_MARGIN_SCREENS` a page is asked for ahead of, at either end.
WINDOW_ROWS = 200
#: A refresh reads back at most this many of the loaded rows (older ones deleted elsewhere
#: go when the chat is opened again): folding them in is one pass on the GUI thread.
REFRESH_MAX_ROWS = 1_000
#: The most characters of a chat title the header shows (on one line).
TITLE_CHARS = 300


class MessagePane(QWidget):
    """Shows one chat's messages; see the module docstring.

    Signals:
        sig_answer_selected(message_id): an answer was selected ("" when the selection left answers).
        sig_sources_requested(message_id): the user asked to see an answer's sources.
        sig_question_stored(chat_id): a question sent from the composer is safely stored.
        sig_question_refused(chat_id, text, message): a question could not be stored at all.
        sig_answering_changed(chat_id, running): an answer started or ended in a chat.
        sig_messages_shown(chat_id): the first page of a chat is on screen.
        sig_chat_ready(chat_id): ... and the messages fetched from the network are in too.
        sig_citation_clicked(message_id, number): a citation [n] of an answer was clicked.
        sig_chat_moved(old_id, new_id): a chat made here took the server's id to ask in it.
    """

    sig_answer_selected = Signal(str)
    """The selected answer changed."""
    sig_sources_requested = Signal(str)
    """The Sources chip of an answer was clicked."""
    sig_question_stored = Signal(str)
    """The question just sent is stored; the composer may forget its draft."""
    sig_question_refused = Signal(str, str, str)
    """The question could not be stored (chat id, text, reason); the composer gets the text back."""
    sig_answering_changed = Signal(str, bool)
    """An answer is (or is no longer) streaming in a chat."""
    sig_messages_shown = Signal(str)
    """A chat's first page is loaded into the view."""
    sig_chat_ready = Signal(str)
    """A chat's first page is shown and its network top-up (if any) has been folded in."""
    sig_citation_clicked = Signal(str, int)
    """A citation of an answer was clicked: show source ``number`` (1-based) of ``message_id``."""
    sig_chat_moved = Signal(str, str)
    """(old id, new id) An ask created its chat on the server, which gave it its own id."""

    def __init__(self, client: WorkerClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._client = client
        self._chat_id = ""
        #: The operations in flight for the open chat (None when none is).
        self._page_op: LibraryOp[MessagePage] | None = None
        self._older_op: LibraryOp[MessagePage] | None = None
        self._newer_op: LibraryOp[MessagePage] | None = None
        self._open_op: LibraryOp[int] | None = None
        #: The model's write mark when the open chat's fetch began (see MessageListModel.write_mark).
        self._open_mark = 0
        self._refresh_op: LibraryOp[MessagePage] | None = None
        self._stick_to_bottom = True
        self._adjusting = False
        self._pending_highlight = ""
        self.model = MessageListModel(self)
        self.asks = AskTracker(client, self.model, self._open_chat_id, self)

        # Widgets
        self.title_label = QLabel(self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setAccessibleName("Chat title")
        # Any title another writer stored: never wider than the pane (a 5,000-character
        # title would otherwise make the window tens of thousands of pixels wide).
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.view = MessageListView(self)
        self.view.setAccessibleName("Messages")
        self.delegate = MessageDelegate(self.view)
        self.warmer = RowWarmer(self.view, self.model, self.delegate, self._anchor, self._relayout, self)
        #: Pages that arrive between a scroll and its paint go in after it.
        self.scroll_paint = ScrollPaintWait(self.view, self)
        self.placeholder = QLabel(self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAccessibleName("No messages")
        self.copy_action = QAction("Copy", self)
        self.copy_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        self.copy_action.setToolTip("Copy the selected text, or the whole message as you read it")
        self.copy_markdown_action = QAction("Copy as Markdown", self)
        self.copy_markdown_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.citations = CitationPreviews(client, self)
        self.toast = Toast(self)
        self.actions = MessageActions(client, self, self.toast)
        self.view_action = QAction("View message…", self)
        self.view_action.setShortcut(QKeySequence(Qt.Key.Key_Return))
        self.find_bar = FindBar(client, self)
        self.find_action = QAction("Find in chat…", self)

        # Setup
        self.setObjectName("messagePane")
        self.setAccessibleName("Conversation")
        font = self.title_label.font()
        self.title_label.setFont(theme.scaled_font(font, 1.15, bold=True))
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.layout_guard = self._layout_keeping_place
        self.delegate.set_style(self.view.font(), self.view.palette())
        self.delegate.defer_heights = True
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        for action in (self.copy_action, self.copy_markdown_action, self.view_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.view.addAction(action)
        self.placeholder.setText("Select a chat or start a new one.")

        # Layout
        self._stack = QStackedLayout()
        self._stack.addWidget(self.view)
        self._stack.addWidget(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QVBoxLayout()
        header.setContentsMargins(18, 12, 18, 8)
        header.addWidget(self.title_label)
        layout.addLayout(header)
        layout.addWidget(self.find_bar)
        layout.addLayout(self._stack, 1)
        self._stack.setCurrentWidget(self.placeholder)

        # Signals
        scroll = self.view.verticalScrollBar()
        scroll.valueChanged.connect(self._on_scrollbar_value_changed)
        scroll.rangeChanged.connect(self._on_scrollbar_range_changed)
        self.model.dataChanged.connect(self._on_model_data_changed)
        self.delegate.sig_estimates_made.connect(self._on_delegate_estimates_made)
        self.view.selectionModel().currentChanged.connect(self._on_selection_current_changed)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.sig_link_clicked.connect(self._on_view_link_clicked)
        self.view.sig_retry_clicked.connect(self._on_view_retry_clicked)
        self.view.sig_sources_clicked.connect(self._on_view_sources_clicked)
        self.view.sig_width_changed.connect(self._on_view_width_changed)
        self.copy_action.triggered.connect(self.copy_current)
        self.copy_markdown_action.triggered.connect(self.copy_current_markdown)
        self.view.sig_citation_clicked.connect(self._on_view_citation_clicked)
        self.view.sig_citation_hovered.connect(self._on_view_citation_hovered)
        self.view.sig_table_requested.connect(self._on_view_table_requested)
        self.view_action.triggered.connect(self.view_current)
        self.asks.sig_question_stored.connect(self.sig_question_stored)
        self.asks.sig_question_refused.connect(self.sig_question_refused)
        self.asks.sig_answering_changed.connect(self.sig_answering_changed)
        self.asks.sig_chat_moved.connect(self.sig_chat_moved)
        client.events.sig_data_changed.connect(self.refresh)
        client.events.sig_chat_changed.connect(self._on_events_chat_changed)
        self._setup_find()
        #: The open chat read again from the server once shown, and after each sync.
        self.revalidation = OpenChatRevalidation(self, client)

    # -- public -------------------------------------------------------------------------

    @property
    def chat_id(self) -> str:
        return self._chat_id

    def _open_chat_id(self) -> str:
        return self._chat_id

    def follow_chat(self, old_id: str, new_id: str) -> None:
        """Chat ``old_id`` has the server's id ``new_id`` now: the same chat, kept open as
        it is (its rows and the answers streaming into it)."""
        self.asks.follow_chat(old_id, new_id)
        if self._chat_id == old_id:
            self._chat_id = new_id
            self.find_bar.set_chat(new_id)

    def set_title(self, title: str) -> None:
        self.title_label.setText(bidi.one_line(title, TITLE_CHARS))

    def show_chat(self, chat_id: str, title: str = "") -> None:
        """Open ``chat_id`` ("" for none): newest page from the mirror, then a network top-up."""
        self.set_title(title)
        if chat_id == self._chat_id and chat_id:
            return
        self._chat_id = chat_id
        self.find_bar.set_chat(chat_id)
        for op in (self._page_op, self._older_op, self._newer_op, self._open_op, self._refresh_op):
            if op is not None:
                op.cancel()  # what was asked for the chat left behind is not shown here
        self._page_op = self._older_op = self._newer_op = self._open_op = self._refresh_op = None
        self._stick_to_bottom = True
        self._pending_highlight = ""
        self.view.clear_text_selection()
        self.delegate.focus_part = None
        self.delegate.code_offsets.clear()
        self._adjusting = True
        try:
            self.model.set_chat(chat_id or None)
        finally:
            self._adjusting = False
        self.sig_answer_selected.emit("")
        if not chat_id:
            self._set_placeholder("Select a chat or start a new one.")
            return
        self.view.sync_width()
        self._page_op = self._run(page_op(chat_id), self._on_page_loaded)
        self._open_mark = self.model.write_mark()  # the fetch's page is read after this
        self._open_op = (
            fetch_op(chat_id)
            .updates(functools.partial(self._on_open_updated, chat_id))
            .success(functools.partial(self._on_open_done, chat_id))
            .failure(functools.partial(self._on_open_failed, chat_id))
            .run_in(self._client.network)
        )
        self.sig_answering_changed.emit(chat_id, self.is_answering(chat_id))

    @Slot()
    def refresh(self) -> None:
        """Read the loaded rows again (the newest page at least, at most
        :data:`REFRESH_MAX_ROWS`) and fold them in after a sync or a pull: what changed is
        updated, and what another writer deleted goes, not only from the newest page."""
        if self._chat_id:
            if self._refresh_op is not None:
                self._refresh_op.cancel()
            rows = min(REFRESH_MAX_ROWS, max(PAGE_SIZE, self.model.stored_count()))
            self._refresh_op = self._run(
                page_op(self._chat_id, rows),
                functools.partial(self._on_latest_loaded, read_from=self.model.write_mark()),
            )

    def reveal_message(self, message_id: str) -> None:
        """Scroll to ``message_id`` and highlight it, loading older pages until it is there."""
        self._pending_highlight = message_id
        self._try_reveal()

    def ask(self, text: str) -> LibraryOp[Any]:
        """Send ``text`` in the open chat; the question shows at once."""
        if self.model.has_newer():  # the window is far up: back to the chat's end first
            self._reload_newest()
            # The page may be read before the question is stored: read it again once it is.
            self.asks.sig_question_stored.connect(self._on_asks_question_stored_after_reload)
        self._stick_to_bottom = True
        op = self.asks.ask(self._chat_id, text)
        self._stack.setCurrentWidget(self.view)
        return op

    def retry(self, question_key: str) -> None:
        """Ask again for an answer to a stored question whose answer failed."""
        row_number = self.model.row_for(question_key)
        row = self.model.row_at(row_number) if row_number is not None else None
        if row is not None:
            self.asks.retry(self._chat_id, row)

    @Slot()
    def stop_answer(self) -> None:
        """Stop the answers streaming in the open chat (what arrived is kept)."""
        self.asks.stop(self._chat_id)

    def is_answering(self, chat_id: str | None = None) -> bool:
        return self.asks.is_answering(self._chat_id if chat_id is None else chat_id)

    def current_row_key(self) -> str:
        index = self.view.currentIndex()
        return str(index.data(MessageRoles.KEY) or "") if index.isValid() else ""

    def select_key(self, key: str) -> bool:
        row = self.model.row_for(key)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index, MessageListView.ScrollHint.PositionAtCenter)
        return True

    def select_latest_answer_with_sources(self) -> str:
        """Select the newest answer that cites sources (for screenshots); its id or ""."""
        for row in reversed(self.model.rows()):
            if row.kind == AI and row.source_count and row.message_id:
                self.select_key(row.key)
                return row.message_id
        return ""

    @Slot()
    def copy_current(self) -> None:
        """The selected text as read; with no selection, the current message as read."""
        text = self.view.selected_text()
        if not text:
            text = self.view.message_plain_text(self.current_row_key())
        if text:
            links.copy_text(text)

    @Slot()
    def copy_current_markdown(self) -> None:
        """The selection as Markdown; with no selection, the current message's source."""
        text = self.view.selected_text(markdown=True)
        if not text:
            index = self.view.currentIndex()
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "") if index.isValid() else ""
        if text:
            links.copy_text(text)

    @Slot()
    def view_current(self) -> None:
        if self.view.activate_focus_part():
            return  # Enter on a focused link or Copy button
        index = self.view.currentIndex()
        row = index.data(MessageRoles.ROW) if index.isValid() else None
        if row is None:
            return
        dialog = ViewMessageDialog(row, str(index.data(MessageRoles.TIME_TEXT) or ""), self)
        dialog.open()

    # -- find in chat -------------------------------------------------------------------

    def _setup_find(self) -> None:
        self.find_bar.hide()
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.find_action)
        self.find_action.triggered.connect(self.open_find)
        self.find_bar.sig_marks_changed.connect(self._on_find_bar_marks_changed)
        self.find_bar.sig_hit_chosen.connect(self._on_find_bar_hit_chosen)
        self.find_bar.sig_closed.connect(self._on_find_bar_closed)

    @Slot()
    def open_find(self) -> None:
        """Ctrl+F: the find bar, focused, over the open chat."""
        if self._chat_id:
            self.find_bar.open_bar()

    def find(self, term: str, message_id: str = "", *, alternatives: Sequence[str] = ()) -> None:
        """Open the find bar on ``term`` and go to its first occurrence in ``message_id``
        (without one: its newest hit). ``alternatives``: terms tried in turn when
        ``term`` is not in that message. The message is shown whatever is found."""
        if self._chat_id:
            self.find_bar.find([term, *alternatives], message_id)

    @Slot(str, str, int)
    def _on_find_bar_marks_changed(self, term: str, message_id: str, occurrence: int) -> None:
        self.delegate.set_find_highlight(term, (message_id, occurrence) if message_id else None)
        self.view.viewport().update()

    @Slot(str, int)
    def _on_find_bar_hit_chosen(self, message_id: str, newer: int) -> None:
        # A hit far up the chat comes with the rows around it, in one read, whatever lies
        # between (see _try_reveal).
        self.reveal_message(message_id)

    @Slot()
    def _on_find_bar_closed(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- loading ------------------------------------------------------------------------

    def _run(self, op: LibraryOp[MessagePage], handler: Any) -> LibraryOp[MessagePage]:
        return op.success(functools.partial(handler, op)).run_in(self._client.local)

    def _on_page_loaded(self, op: LibraryOp[MessagePage], page: MessagePage) -> None:
        """The newest page of the chat just opened: the rows are replaced."""
        if op is not self._page_op or page.chat_id != self._chat_id:
            return
        self._page_op = None
        self._stick_to_bottom = True
        self._adjusting = True  # the reset's scroll moves are not the user's
        try:
            if page.views:
                # On screen before the rows go in: a view hidden behind the placeholder
                # has the width it had when last shown, and showing it lays it out.
                self._stack.setCurrentWidget(self.view)
            self.model.set_chat(page.chat_id, page.views, page.total)
            self._reapply_local_state()
            self.view.sync_width()  # the rows are replaced: no place to keep
            self._show_rows_or_placeholder()
            self.view.scrollToBottom()
        finally:
            self._adjusting = False
        self.warmer.reset()
        self.sig_messages_shown.emit(page.chat_id)
        if self._open_op is None:
            self.sig_chat_ready.emit(page.chat_id)
        self._try_reveal()

    @Slot(str)
    def _on_asks_question_stored_after_reload(self, chat_id: str) -> None:
        self.asks.sig_question_stored.disconnect(self._on_asks_question_stored_after_reload)
        if chat_id == self._chat_id:
            self.refresh()

    def _reload_newest(self) -> None:
        """Show the chat's newest page again (a reset), as when it was opened."""
        for op in (self._page_op, self._older_op, self._newer_op):
            if op is not None:
                op.cancel()
        self._older_op = self._newer_op = None
        self._page_op = self._run(page_op(self._chat_id), self._on_page_loaded)

    def _on_older_loaded(self, op: LibraryOp[MessagePage], page: MessagePage) -> None:
        if op is not self._older_op or page.chat_id != self._chat_id:
            return
        self._older_op = None
        self._rewrap()
        self._stick_to_bottom = False
        self._prepend_keeping_place(page.views, page.total, page.more_older)
        self._try_reveal()

    def _on_newer_loaded(self, op: LibraryOp[MessagePage], page: MessagePage) -> None:
        """A newer page, the window moving back down: added below, the oldest rows dropped."""
        if op is not self._newer_op or page.chat_id != self._chat_id:
            return
        self._newer_op = None
        self._rewrap()
        self.model.append_newer(page.views, page.total, more=page.more_newer)
        anchor = self._anchor()
        self._adjusting = True
        try:
            if self.model.trim(WINDOW_ROWS, newest=False):
                self.view.doItemsLayout()
                self._restore_anchor(anchor)
        finally:
            self._adjusting = False
        if not self.model.has_newer():
            self._reapply_local_state()  # back at the chat's end: what is on its way shows
        self._try_reveal()

    def _on_window_loaded(self, op: LibraryOp[MessagePage], page: MessagePage) -> None:
        """The rows around a message far from those loaded (a search or find hit)."""
        if op is not self._older_op or page.chat_id != self._chat_id:
            return
        self._older_op = None
        if not page.views:
            self._pending_highlight = ""  # not in this chat (deleted since the search)
            return
        self.view.sync_width()
        self._stick_to_bottom = False
        self._adjusting = True
        try:
            self.model.set_chat(
                page.chat_id, page.views, page.total, more_older=page.more_older, more_newer=page.more_newer
            )
            if not page.more_newer:
                self._reapply_local_state()
        finally:
            self._adjusting = False
        self._try_reveal()

    def _on_latest_loaded(self, op: LibraryOp[MessagePage], page: MessagePage, *, read_from: int) -> None:
        if op is self._refresh_op:
            self._refresh_op = None
        self._merge_latest(page, opened=False, read_from=read_from)

    def _merge_latest(self, page: MessagePage, *, opened: bool, read_from: int) -> None:
        """The newest page read again (after a sync, a fetch): folded into the rows.
        ``read_from``: the model's write mark when the page was asked for."""
        if page.chat_id != self._chat_id:
            return
        self._rewrap()
        if self._page_op is not None:
            return  # the first page, still coming, includes this
        self.model.merge_latest(page.views, page.total, read_from)
        self._reapply_local_state()
        self._show_rows_or_placeholder()
        if opened:
            self.sig_chat_ready.emit(page.chat_id)

    def _on_open_updated(self, chat_id: str, value: object) -> None:
        if value == FIRST_PAGE_IN:
            self.refresh()  # the newest page is in the mirror; older ones follow
        elif isinstance(value, MessagePage):
            self._open_op = None
            self._merge_latest(value, opened=True, read_from=self._open_mark)

    def _on_open_done(self, chat_id: str, sources_arrived: int) -> None:
        if sources_arrived:
            self.refresh()

    def _on_open_failed(self, chat_id: str, failure: OpFailure) -> None:
        """Offline or refused: what the mirror has is all there is for now (the sync after
        the connection returns brings the rest: the chat was opened). Not an error to show."""
        if chat_id != self._chat_id:
            return
        self._open_op = None
        if failure.is_bug:
            self._client.sig_failed.emit(failure)
        mark = self.model.write_mark()
        self._run(page_op(chat_id), lambda _op, page: self._merge_latest(page, opened=True, read_from=mark))

    def _prepend_keeping_place(self, views: list[MessageView], total: int, more: bool | None = None) -> None:
        """Insert an older page above the rows on screen without moving them, and drop the
        newest rows beyond :data:`WINDOW_ROWS` (far below the screen by then).

        The first visible row is the anchor: after the layout it is put back at the
        same distance from the top (heights above it may all have changed).
        """
        anchor = self._anchor()

        def prepend() -> None:
            if self.model.prepend_older(views, total, more=more):
                self.model.trim(WINDOW_ROWS, newest=True)
                self.view.doItemsLayout()
                self._restore_anchor(anchor)

        self._adjusting = True
        try:
            self.view.layout_in_place(prepend)  # (the rows shown stay as they were)
        finally:
            self._adjusting = False

    def _layout_keeping_place(self, layout: Callable[[], None]) -> None:
        """Any layout of the rows (Qt's own too, after a row changed): the row at the top
        of the view stays in its place. Rows measured since the last layout may be above
        it (the row warmer lays the view out again only once they come near it). The
        pane's own layouts keep the place themselves; at the bottom, the view stays
        there (see :meth:`_on_scrollbar_range_changed`)."""
        if self._adjusting or self._stick_to_bottom:
            layout()
            return
        anchor = self._anchor()
        self._adjusting = True
        try:
            layout()
            self._restore_anchor(anchor)
        finally:
            self._adjusting = False

    def _anchor(self) -> tuple[str, int]:
        """(key, top) of the first row on screen, to put it back after a layout."""
        view = self.view
        anchor = view.indexAt(view.viewport().rect().topLeft() + QPoint(1, 1))
        if not anchor.isValid():
            return ("", 0)
        return (str(anchor.data(MessageRoles.KEY) or ""), view.visualRect(anchor).top())

    def _restore_anchor(self, anchor: tuple[str, int]) -> None:
        key, offset = anchor
        row = self.model.row_for(key) if key else None
        if row is not None:
            delta = self.view.visualRect(self.model.index(row, 0)).top() - offset
            scroll = self.view.verticalScrollBar()
            scroll.setValue(scroll.value() + delta)

    @Slot()
    def _on_delegate_estimates_made(self) -> None:
        self.warmer.start()  # it measures them once the rows near the viewport are built

    @Slot()
    def _on_view_width_changed(self) -> None:
        self._rewrap()

    def _rewrap(self) -> None:
        """Wrap to the view's width if it changed, keeping the place (the anchor is taken
        first: asking the view where rows are lays out what is pending, at the old width)."""
        anchor = self._anchor()
        if self.view.take_width():
            self._relayout(anchor)

    def _relayout(self, anchor: tuple[str, int]) -> None:
        """Lay the rows out again: at the bottom if the view sticks there, else with the row
        that was at the top of the view back in its place."""

        def relayout() -> None:
            self.view.doItemsLayout()
            scroll = self.view.verticalScrollBar()
            if self._stick_to_bottom:
                scroll.setValue(scroll.maximum())
            else:
                self._restore_anchor(anchor)

        self._adjusting = True
        try:
            self.view.layout_in_place(relayout)
        finally:
            self._adjusting = False

    def _fetch_margin(self) -> int:
        return max(FETCH_MARGIN_PX, FETCH_MARGIN_SCREENS * self.view.viewport().height())

    def _maybe_fetch_newer(self) -> None:
        if (
            not self._chat_id
            or self._newer_op
            or self._page_op
            or self._older_op
            or not self.model.has_newer()
        ):
            return
        scroll = self.view.verticalScrollBar()
        if scroll.maximum() <= 0 or scroll.value() < scroll.maximum() - self._fetch_margin():
            return
        newest = self.model.newest_created_at()
        if newest is None:
            return
        self._newer_op = self._run(
            page_op(self._chat_id, PAGE_SIZE, after=newest), self._after_scroll_paint(self._on_newer_loaded)
        )

    def _after_scroll_paint(
        self, handler: Callable[[LibraryOp[MessagePage], MessagePage], None]
    ) -> Callable[[LibraryOp[MessagePage], MessagePage], None]:
        """``handler``, called once the paint of a scroll just made is done: a page going in
        is a layout of every row, and the two in one pass of the event loop miss a frame."""

        def after(op: LibraryOp[MessagePage], page: MessagePage) -> None:
            self.scroll_paint.run(functools.partial(handler, op, page))

        return after

    def _maybe_fetch_older(self) -> None:
        if not self._chat_id or self._older_op or self._page_op or not self.model.has_older():
            return
        scroll = self.view.verticalScrollBar()
        # maximum() is 0 while a fresh page is not laid out yet: no user scrolled there.
        if scroll.maximum() <= 0 or scroll.value() > self._fetch_margin() or self._stick_to_bottom:
            return
        oldest = self.model.oldest_created_at()
        if oldest is None:
            return
        self._older_op = self._run(
            page_op(self._chat_id, PAGE_SIZE, before=oldest), self._after_scroll_paint(self._on_older_loaded)
        )

    def _try_reveal(self) -> None:
        key = self._pending_highlight
        if not key or self._page_op:
            return
        if self.model.row_for(key) is not None:
            self._pending_highlight = ""
            self.model.set_highlighted(key)
            self._stick_to_bottom = False
            self.select_key(key)
            return
        if self._older_op or self._newer_op:
            return  # a page on its way; tried again when it is in
        if self.asks.is_answering(self._chat_id):
            # An answer streams at the chat's end: the window stays there, growing upwards.
            oldest = self.model.oldest_created_at()
            if self.model.has_older() and oldest is not None:
                self._older_op = self._run(
                    page_op(self._chat_id, PAGE_SIZE * 4, before=oldest), self._on_older_loaded
                )
            else:
                self._pending_highlight = ""  # not in this chat (deleted since the search)
            return
        self._older_op = self._run(around_op(self._chat_id, key), self._on_window_loaded)

    def _reapply_local_state(self) -> None:
        self.asks.reapply(self._chat_id)

    def _show_rows_or_placeholder(self) -> None:
        if self.model.rowCount() == 0:
            self._set_placeholder("No messages yet.\nAsk a question below to start.")
        else:
            self._stack.setCurrentWidget(self.view)

    def _set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self._stack.setCurrentWidget(self.placeholder)

    @Slot(str, object)
    def _on_events_chat_changed(self, chat_id: str, view: object) -> None:
        chat = getattr(view, "chat", None)
        if chat is not None and chat_id == self._chat_id:
            self.set_title(chat.title)

    # -- view events --------------------------------------------------------------------

    @Slot(int)
    def _on_scrollbar_value_changed(self, value: int) -> None:
        if self._adjusting:
            self.warmer.scrolled(value, by_user=False)
            return
        scroll = self.view.verticalScrollBar()
        self._stick_to_bottom = value >= scroll.maximum() - BOTTOM_SLACK_PX and not self.model.has_newer()
        self.scroll_paint.scrolled()
        self.warmer.scrolled(value)
        self._maybe_fetch_older()
        self._maybe_fetch_newer()

    @Slot(int, int)
    def _on_scrollbar_range_changed(self, minimum: int, maximum: int) -> None:
        if not self._stick_to_bottom:
            return
        adjusting, self._adjusting = self._adjusting, True
        try:
            self.view.verticalScrollBar().setValue(maximum)
        finally:
            self._adjusting = adjusting

    @Slot(QModelIndex, QModelIndex, list)
    def _on_model_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int]
    ) -> None:
        for row in range(top_left.row(), bottom_right.row() + 1):
            self.view.row_changed(self.model.index(row, 0))

    @Slot(QModelIndex, QModelIndex)
    def _on_selection_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = current.data(MessageRoles.ROW) if current.isValid() else None
        if row is not None and row.kind == AI and row.message_id:
            self.sig_answer_selected.emit(row.message_id)

    @Slot(str)
    def _on_view_link_clicked(self, href: str) -> None:
        links.confirm_and_open(href, self)

    @Slot(str, int)
    def _on_view_citation_clicked(self, key: str, number: int) -> None:
        self.select_key(key)
        row_number = self.model.row_for(key)
        row = self.model.row_at(row_number) if row_number is not None else None
        if row is not None and row.message_id:
            self.sig_citation_clicked.emit(row.message_id, number)

    @Slot(str, int, QPoint)
    def _on_view_citation_hovered(self, key: str, number: int, where: QPoint) -> None:
        row_number = self.model.row_for(key)
        row = self.model.row_at(row_number) if row_number is not None else None
        if row is not None and row.message_id:
            self.citations.show(
                row.message_id,
                number,
                where,
                self.view.viewport(),
                lambda: self.view.hovered_citation() == (key, number),
            )

    @Slot(str, int)
    def _on_view_table_requested(self, key: str, number: int) -> None:
        row_number = self.model.row_for(key)
        row = self.model.row_at(row_number) if row_number is not None else None
        if row is None:
            return
        tables = self.delegate.document(row).parts.tables
        if 0 <= number < len(tables):
            from .table_view_dialog import TableViewDialog

            dialog = TableViewDialog(tables[number], self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.open()

    @Slot(str)
    def _on_view_retry_clicked(self, key: str) -> None:
        self.retry(key)

    @Slot(str)
    def _on_view_sources_clicked(self, key: str) -> None:
        self.select_key(key)
        row_number = self.model.row_for(key)
        row = self.model.row_at(row_number) if row_number is not None else None
        if row is not None and row.message_id:
            self.sig_sources_requested.emit(row.message_id)

    @Slot(QPoint)
    def _on_view_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        menu.addAction(self.copy_markdown_action)
        menu.addAction(self.view_action)
        href = self.view.link_at(pos)
        if href:
            menu.addAction("Copy link address").setData(("copy-link", href))
        row = index.data(MessageRoles.ROW)
        if row is not None and row.failed:
            menu.addAction("Retry").setData(("retry", row.key))
        if row is not None:
            menu.addSeparator()
            if row.kind == AI and self.actions.can_regenerate(row):
                menu.addAction("Regenerate").setData(("regenerate", row.key))
            if row.kind == HUMAN and row.text:
                menu.addAction("Edit and resend").setData(("edit", row.key))
            if row.message_id:
                menu.addAction("Delete message").setData(("delete", row.key))
        menu.triggered.connect(self._on_context_menu_triggered)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    @Slot(QAction)
    def _on_context_menu_triggered(self, action: QAction) -> None:
        data = action.data()
        if not isinstance(data, tuple) or len(data) != 2:
            return
        what, value = data
        if what == "copy-link":
            links.copy_text(str(value))
        elif what == "retry":
            self.retry(str(value))
        elif what in ("regenerate", "edit", "delete"):
            self._on_row_action(what, str(value))

    def _on_row_action(self, what: str, key: str) -> None:
        number = self.model.row_for(key)
        row = self.model.row_at(number) if number is not None else None
        if row is None:
            return
        if what == "regenerate":
            self.actions.regenerate()
        elif what == "edit":
            self.actions.edit_and_resend(row)
        elif what == "delete" and row.message_id:
            who = "question" if row.kind == HUMAN else "answer"
            self.actions.delete([row.message_id], f"Deleted the {who}.")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.delegate.set_style(self.view.font(), self.view.palette())
            self.view.scheduleDelayedItemsLayout()
