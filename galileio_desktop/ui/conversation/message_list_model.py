"""The open chat's messages, oldest at the top, loaded newest page first.

The model holds only the pages the user has seen: the newest page when a chat
opens, older pages prepended as the user scrolls up (the pane asks for them).
Besides stored messages it holds two kinds of transient rows: a question shown
the instant it is sent (before the worker confirms it) and the answer being
streamed. A changed row is one ``dataChanged``; only switching chats resets.

Rows come from other writers too: a time out of range reads "unknown date" (see
:mod:`.time_groups`), text joined with ours is bidi-isolated (see :mod:`.bidi`), and
``data`` never raises into a painting delegate.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from .. import bidi, time_groups
from .safe_markdown import plain_text_of

if TYPE_CHECKING:
    from ...data.sync import MessageView

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

HUMAN = "human"
AI = "ai"
#: The most time stamps kept worked out (a paint shows a row's every time it draws it).
TIME_TEXTS = 4_096


class MessageRoles:
    """Item data roles of :class:`MessageListModel`."""

    KEY = Qt.ItemDataRole.UserRole + 1
    KIND = Qt.ItemDataRole.UserRole + 2
    ROW = Qt.ItemDataRole.UserRole + 3
    TIME_TEXT = Qt.ItemDataRole.UserRole + 4
    STATE_TEXT = Qt.ItemDataRole.UserRole + 5
    REVISION = Qt.ItemDataRole.UserRole + 6
    HIGHLIGHTED = Qt.ItemDataRole.UserRole + 7
    SOURCE_COUNT = Qt.ItemDataRole.UserRole + 8


@dataclass(frozen=True)
class MessageRow:
    """What the pane shows for one message; ``key`` is the message id or a transient key."""

    key: str
    kind: str
    text: str
    created_at: int
    message_id: str | None = None
    pending: bool = False
    unsent_reason: str | None = None
    stopped: bool = False
    streaming: bool = False
    #: The question whose answer failed, with the error to show next to Retry.
    failed: str | None = None
    source_count: int = 0
    #: Bumped on every change of ``text``: part of the delegate's height cache key.
    revision: int = 0

    @property
    def transient(self) -> bool:
        return self.message_id is None

    @property
    def order(self) -> tuple[int, int, str]:
        # Transient rows sort after stored ones of the same millisecond.
        return (self.created_at, 1 if self.transient else 0, self.key)

    @classmethod
    def from_view(cls, view: MessageView) -> MessageRow:
        message = view.message
        return cls(
            key=message.message_id,
            kind=message.type,
            text=message.content,
            created_at=message.created_at,
            message_id=message.message_id,
            pending=bool(view.pending),
            unsent_reason=view.unsent_reason,
            stopped=bool(view.stopped),
            source_count=len(message.sources),
        )


_logged_roles: set[int] = set()


class MessageListModel(QAbstractListModel):
    """Rows of the open chat, with the paging state the pane needs."""

    def __init__(self, parent: QObject | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self._rows: list[MessageRow] = []
        self._row_of: dict[str, int] = {}
        self._stored = 0
        #: Whether messages older (newer) than the loaded rows are left to load: the rows
        #: are a window over the chat, moved as the user scrolls (see :meth:`trim`).
        self._more_older = False
        self._more_newer = False
        self._chat_id: str | None = None
        self._total = 0
        self._highlighted: str | None = None
        #: Messages this window saw stored, numbered in the order they were (see
        #: :meth:`write_mark`): a page read before one was stored does not have it.
        self._writes = 0
        self._written_at: dict[str, int] = {}
        self._today = today or dt.date.today()
        self._fixed_today = today is not None
        #: The stamp under a message, by its time (see :meth:`time_text`).
        self._time_texts: dict[int, str] = {}

    # -- Qt model API -------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Never raises: an exception escaping into a delegate's paint ends the process."""
        try:
            return self._data(index, role)
        except Exception:  # noqa: BLE001 - logged once; the row shows without this role
            if role not in _logged_roles:
                _logged_roles.add(role)
                log.exception("message list: could not give role %d of a row", role)
            return None

    def _data(self, index: ModelIndex, role: int) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == Qt.ItemDataRole.AccessibleTextRole:
            who = "You" if row.kind == HUMAN else "Assistant"
            when = time_groups.full_time(row.created_at) if row.created_at else ""
            state = self.state_text(row)
            heading = ", ".join(part for part in (who, when, state) if part)
            return f"{heading}: {bidi.isolate(plain_text_of(row.text))}"
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [time_groups.full_time(row.created_at)] if row.created_at else []
            if row.failed or row.unsent_reason:
                lines.append(self.state_text(row))  # the footer may be cut short; this is whole
            return "\n".join(lines) or None
        if role == MessageRoles.KEY:
            return row.key
        if role == MessageRoles.KIND:
            return row.kind
        if role == MessageRoles.ROW:
            return row
        if role == MessageRoles.TIME_TEXT:
            return self.time_text(row)
        if role == MessageRoles.STATE_TEXT:
            return self.state_text(row)
        if role == MessageRoles.REVISION:
            return row.revision
        if role == MessageRoles.HIGHLIGHTED:
            return self.is_highlighted(row.key)
        if role == MessageRoles.SOURCE_COUNT:
            return row.source_count
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    @staticmethod
    def state_text(row: MessageRow) -> str:
        """The short status shown under a bubble ("Sending…", "Not sent: …", "Stopped")."""
        if row.failed:
            return f"No answer: {row.failed}"
        if row.unsent_reason:
            return f"Not sent: {row.unsent_reason}"
        if row.streaming:
            return "Answering…"
        if row.stopped:
            return "Stopped"
        if row.transient:
            return "Saving…"
        if row.pending:
            return "Waiting to sync"
        return ""

    # -- queries ------------------------------------------------------------------------

    @property
    def chat_id(self) -> str | None:
        return self._chat_id

    @property
    def total(self) -> int:
        """Messages stored in the chat, loaded or not."""
        return self._total

    def stored_count(self) -> int:
        return self._stored

    def has_older(self) -> bool:
        return self._more_older

    def has_newer(self) -> bool:
        """Newer messages are left out of the rows: the window is not at the chat's end."""
        return self._more_newer

    def newest_created_at(self) -> int | None:
        for row in reversed(self._rows):
            if not row.transient:
                return row.created_at
        return None

    def has_transient(self) -> bool:
        return self._stored < len(self._rows)

    def oldest_created_at(self) -> int | None:
        for row in self._rows:
            if not row.transient:
                return row.created_at
        return None

    def row_at(self, row: int) -> MessageRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_for(self, key: str) -> int | None:
        return self._row_of.get(key)

    def rows(self) -> Sequence[MessageRow]:
        return tuple(self._rows)

    # -- loading ------------------------------------------------------------------------

    def set_chat(
        self,
        chat_id: str | None,
        views: Iterable[MessageView] = (),
        total: int = 0,
        *,
        more_older: bool | None = None,
        more_newer: bool = False,
    ) -> None:
        """Show another chat, or another window of it (a reset: every row changes).
        ``more_older`` None: judged by ``total``."""
        self.beginResetModel()
        if not self._fixed_today:
            self._today = dt.date.today()  # "14:05" means today only on the day it is shown
        self._time_texts.clear()
        if chat_id != self._chat_id:
            self._written_at.clear()
        self._chat_id = chat_id
        self._rows = sorted((MessageRow.from_view(v) for v in views), key=lambda r: r.order)
        self._total = max(total, len(self._rows))
        self._highlighted = None
        self._reindex()
        self._more_older = self._stored < self._total if more_older is None else more_older
        self._more_newer = more_newer
        self.endResetModel()

    def prepend_older(
        self, views: Sequence[MessageView], total: int | None = None, *, more: bool | None = None
    ) -> int:
        """Insert an older page at the top; returns the number of rows inserted. ``more``:
        whether still older messages are left (None: judged by ``total``)."""
        rows = [MessageRow.from_view(v) for v in views if v.message.message_id not in self._row_of]
        if total is not None:
            self._total = total
        if not rows:
            # Nothing older could be shown: what the count says is left cannot be read (an
            # item another writer left unreadable is counted, never listed). Asking again
            # would bring the same nothing, forever.
            self._more_older = False
            if not self._more_newer:
                self._total = self.stored_count()
            return 0
        self._more_older = (self._stored + len(rows) < self._total) if more is None else more
        rows.sort(key=lambda r: r.order)
        oldest = self.oldest_created_at()
        if oldest is not None and rows[-1].created_at > oldest:
            # Not strictly older (clock skew between devices): merge row by row instead.
            for row in rows:
                self._insert_row(row)
            return len(rows)
        self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
        self._rows[0:0] = rows
        self._reindex()
        self.endInsertRows()
        return len(rows)

    def append_newer(self, views: Sequence[MessageView], total: int, *, more: bool) -> int:
        """Add a newer page below the rows (the window moving back towards the chat's end);
        ``more``: whether still newer messages are left. Returns the rows added."""
        self._total = total
        self._more_newer = more
        rows = sorted(
            (MessageRow.from_view(v) for v in views if v.message.message_id not in self._row_of),
            key=lambda r: r.order,
        )
        for row in rows:
            self._insert_row(row)
        return len(rows)

    def trim(self, keep: int, *, newest: bool) -> int:
        """Drop stored rows beyond ``keep`` from the newest end (``newest``) or the oldest,
        so the rows stay a window of bounded size; returns how many went. Never while an
        answer or question is on its way (its transient rows belong at the chat's end)."""
        extra = len(self._rows) - keep
        if extra <= 0 or self.has_transient():
            return 0
        if newest:
            first, last = len(self._rows) - extra, len(self._rows) - 1
            self._more_newer = True
        else:
            first, last = 0, extra - 1
            self._more_older = True
        self.beginRemoveRows(QModelIndex(), first, last)
        del self._rows[first : last + 1]
        self._reindex()
        self.endRemoveRows()
        return extra

    def write_mark(self) -> int:
        """Where the stored messages this window has seen stand: taken when a page is asked
        for, and handed to :meth:`merge_latest` with that page."""
        return self._writes

    def merge_latest(self, views: Sequence[MessageView], total: int, read_from: int | None = None) -> None:
        """Fold a fresh newest page in (after a sync or a write): update, insert, drop deleted
        rows. With newer messages left out of the window, only the rows shown are updated.

        ``read_from``: the :meth:`write_mark` taken when the page was asked for. A message
        stored since (a question sent meanwhile) is missing from the page because the page
        was read before it was written, not because it was deleted: it stays."""
        incoming = {v.message.message_id: MessageRow.from_view(v) for v in views}
        self._total = total
        if self._more_newer:
            for key, new in incoming.items():
                if key in self._row_of:
                    self.upsert_row(new, keep_failure=True)
            return
        covers_all = len(incoming) >= total
        covered_from = min((r.created_at for r in incoming.values()), default=None)
        for row in list(self._rows):
            if row.transient or row.key in incoming:
                continue
            if read_from is not None and self._written_at.get(row.key, -1) > read_from:
                continue
            if covers_all or (covered_from is not None and row.created_at >= covered_from):
                self._remove_row(row.key)
        for new in incoming.values():
            self.upsert_row(new, keep_failure=True)
        # Older pages may have arrived since (a chat fetched page by page): they can be loaded.
        self._more_older = not covers_all and (self._more_older or self._stored < self._total)

    def upsert_view(self, view: MessageView) -> None:
        """A stored message arrived or changed (after the worker wrote it)."""
        self._note_written(view.message.message_id)
        known = view.message.message_id in self._row_of
        self.upsert_row(MessageRow.from_view(view), keep_failure=True)
        if not known:
            self._total += 1

    def upsert_row(self, new: MessageRow, *, keep_failure: bool = False) -> None:
        row_number = self._row_of.get(new.key)
        if row_number is None:
            self._insert_row(new)
            return
        old = self._rows[row_number]
        if keep_failure and old.failed and not new.failed:
            new = dataclasses.replace(new, failed=old.failed)
        if old.text != new.text:
            new = dataclasses.replace(new, revision=old.revision + 1)
        else:
            new = dataclasses.replace(new, revision=old.revision)
        if new == old:
            return
        self._rows[row_number] = new
        if not self._in_order(row_number):
            self._remove_row(new.key)
            self._insert_row(new)
            return
        self._emit_changed(row_number)

    # -- transient rows -----------------------------------------------------------------

    def add_local_question(self, key: str, text: str, created_at: int) -> None:
        """The question the user just sent, shown before the worker has stored it."""
        self._insert_row(MessageRow(key=key, kind=HUMAN, text=text, created_at=created_at))

    def confirm_local(self, key: str, view: MessageView) -> None:
        """Replace a transient row by the stored message (same place, new key)."""
        row_number = self._row_of.get(key)
        stored = MessageRow.from_view(view)
        self._note_written(stored.key)
        self._total += 1
        if row_number is None:
            self.upsert_row(stored)
            return
        old = self._rows[row_number]
        if stored.key in self._row_of:  # a refresh already brought it in
            self._remove_row(key)
            return
        stored = dataclasses.replace(stored, failed=old.failed, revision=old.revision + 1)
        self._rows[row_number] = stored
        self._reindex()
        if not self._in_order(row_number):
            self._remove_row(stored.key)
            self._insert_row(stored)
            return
        self._emit_changed(row_number)

    def start_answer(self, key: str, created_at: int) -> None:
        self._insert_row(MessageRow(key=key, kind=AI, text="", created_at=created_at, streaming=True))

    def append_answer_text(self, key: str, text: str) -> None:
        row_number = self._row_of.get(key)
        if row_number is None or not text:
            return
        old = self._rows[row_number]
        self._rows[row_number] = dataclasses.replace(old, text=old.text + text, revision=old.revision + 1)
        self._emit_changed(row_number)

    def remove_key(self, key: str) -> None:
        self._remove_row(key)

    def set_failed(self, key: str, error: str | None) -> None:
        """Show (or clear) "no answer" with Retry on a question."""
        row_number = self._row_of.get(key)
        if row_number is None:
            return
        old = self._rows[row_number]
        if old.failed != error:
            self._rows[row_number] = dataclasses.replace(old, failed=error)
            self._emit_changed(row_number)

    def time_text(self, row: MessageRow) -> str:
        """The stamp under ``row`` ("14:05" today, else with the date), worked out once."""
        if not row.created_at:
            return ""
        text = self._time_texts.get(row.created_at)
        if text is None:
            if len(self._time_texts) >= TIME_TEXTS:
                self._time_texts.clear()
            text = self._time_texts[row.created_at] = time_groups.message_time(row.created_at, self._today)
        return text

    def is_highlighted(self, key: str) -> bool:
        """Whether the row ``key`` is the one revealed (a search hit opened)."""
        return key == self._highlighted

    def set_highlighted(self, key: str | None) -> None:
        previous, self._highlighted = self._highlighted, key
        for k in (previous, key):
            if k is not None and k in self._row_of:
                self._emit_changed(self._row_of[k])

    # -- internals ----------------------------------------------------------------------

    def _note_written(self, key: str) -> None:
        self._writes += 1
        self._written_at[key] = self._writes

    def _insert_row(self, row: MessageRow) -> None:
        orders = [r.order for r in self._rows]
        position = bisect.bisect_right(orders, row.order)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, row)
        self._reindex()
        self.endInsertRows()

    def _remove_row(self, key: str) -> None:
        row_number = self._row_of.get(key)
        if row_number is None:
            return
        self.beginRemoveRows(QModelIndex(), row_number, row_number)
        del self._rows[row_number]
        self._reindex()
        self.endRemoveRows()

    def _in_order(self, row_number: int) -> bool:
        order = self._rows[row_number].order
        before = self._rows[row_number - 1].order if row_number > 0 else None
        after = self._rows[row_number + 1].order if row_number + 1 < len(self._rows) else None
        return (before is None or before <= order) and (after is None or order <= after)

    def _reindex(self) -> None:
        self._row_of = {row.key: number for number, row in enumerate(self._rows)}
        self._stored = sum(1 for row in self._rows if not row.transient)

    def _emit_changed(self, row_number: int) -> None:
        index = self.index(row_number, 0)
        self.dataChanged.emit(index, index, [])
