"""The sidebar's rows: pinned chats, then chats by last activity, with group headers and a
title filter.

Headers live in the model as rows of their own, so every row has the same
height and the view can keep ``setUniformItemSizes`` on for 10,000 chats.
Changes are applied as a diff of row keys: one changed chat is one
``dataChanged``, a chat that moves to the top is a remove plus an insert, and
only a new filter text resets the model.

Titles are other writers' text: the model hands them out as stored (display and
edit roles), and the strings it composes with them (tooltip, accessible text) hold
them one line long and bidi-isolated (see :mod:`.bidi`). Chats whose time is out of
range sort last, under "Unknown date".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from ...data.timestamps import is_known
from .. import bidi, time_groups

if TYPE_CHECKING:
    from ...data.sync import ChatView

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

#: A row key: ("h", group label) for a header, ("c", chat id) for a chat.
RowKey = tuple[str, str]
#: Chats of a page that moved (their activity or pin changed) each moved on its own;
#: more, and the whole order is sorted again.
MOVES_INSERTED = 64
#: Held chats a page of older ones may go among with only their rows rebuilt (ties in
#: activity at the end of the list); more, and every row is.
TAIL_REBUILT = 5000


class ChatRoles:
    """Item data roles of :class:`ChatListModel`."""

    IS_HEADER = Qt.ItemDataRole.UserRole + 1
    CHAT_ID = Qt.ItemDataRole.UserRole + 2
    CHAT_VIEW = Qt.ItemDataRole.UserRole + 3
    GROUP = Qt.ItemDataRole.UserRole + 4
    LAST_ACTIVITY = Qt.ItemDataRole.UserRole + 5
    PENDING = Qt.ItemDataRole.UserRole + 6
    UNSENT = Qt.ItemDataRole.UserRole + 7
    PARKED_ERROR = Qt.ItemDataRole.UserRole + 8
    TIME_TEXT = Qt.ItemDataRole.UserRole + 9
    PINNED = Qt.ItemDataRole.UserRole + 10


def _sort_key(view: ChatView) -> tuple[bool, bool, int, int, str]:
    # Pinned chats first; an unknown time (bounded to year 9999 or year 1, see
    # data.timestamps) sorts last in its part.
    return (
        not view.pinned,
        not is_known(view.last_activity),
        -view.last_activity,
        -view.chat.created_at,
        view.chat.chat_id,
    )


class ChatListModel(QAbstractListModel):
    """Chats, newest activity first, under Today / Yesterday / ... headers.

    Signals:
        sig_rename_requested(chat_id, title): the user edited a title in place.
    """

    sig_rename_requested = Signal(str, str)
    """A title was edited in the view; the sidebar passes it on to the worker."""

    def __init__(self, parent: QObject | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self._views: dict[str, ChatView] = {}
        self._order: list[str] = []
        self._rows: list[RowKey] = []
        self._row_of: dict[str, int] = {}
        self._filter = ""
        self._today = today or dt.date.today()
        self._fixed_today = today is not None
        self._bounds = time_groups.group_bounds(self._today)
        #: Per chat, what building the rows asks of it: (the view it was read from, its
        #: title case-folded, its group). Typing in the filter rebuilds the rows of every
        #: chat at each key; read once, 10,000 chats take a few milliseconds, not 15-30.
        self._facts: dict[str, tuple[ChatView, str, str]] = {}

    # -- Qt model API -------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Never raises: an exception escaping into a delegate's paint ends the process."""
        try:
            return self._data(index, role)
        except Exception:  # noqa: BLE001 - logged once; the row shows without this role
            _log_once(role)
            return None

    def _data(self, index: ModelIndex, role: int) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        kind, key = self._rows[index.row()]
        if kind == "h":
            return self._header_data(key, role)
        view = self._views[key]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return view.chat.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(view)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._accessible_text(view)
        if role == ChatRoles.IS_HEADER:
            return False
        if role == ChatRoles.CHAT_ID:
            return view.chat.chat_id
        if role == ChatRoles.CHAT_VIEW:
            return view
        if role == ChatRoles.GROUP:
            return self._group(view)
        if role == ChatRoles.PINNED:
            return view.pinned
        if role == ChatRoles.LAST_ACTIVITY:
            return view.last_activity
        if role == ChatRoles.PENDING:
            return bool(view.pending)
        if role == ChatRoles.UNSENT:
            return int(view.unsent)
        if role == ChatRoles.PARKED_ERROR:
            return view.parked_error
        if role == ChatRoles.TIME_TEXT:
            return time_groups.short_time(view.last_activity, self._today)
        return None

    def _header_data(self, label: str, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return label
        if role == ChatRoles.IS_HEADER:
            return True
        if role == ChatRoles.GROUP:
            return label
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return Qt.ItemFlag.NoItemFlags
        if self._rows[index.row()][0] == "h":
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """An in-place rename: shown at once, sent on by ``sig_rename_requested``."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        kind, chat_id = self._rows[index.row()]
        title = str(value).strip() if value is not None else ""
        if kind != "c" or not title or title == self._views[chat_id].chat.title:
            return False
        self.set_title(chat_id, title)
        self.sig_rename_requested.emit(chat_id, title)
        return True

    # -- queries ------------------------------------------------------------------------

    def chat_count(self) -> int:
        """All chats held, whatever the filter."""
        return len(self._order)

    def chat_ids(self) -> list[str]:
        """Every chat held, whatever the filter."""
        return list(self._views)

    def view(self, chat_id: str) -> ChatView | None:
        return self._views.get(chat_id)

    def index_of(self, chat_id: str) -> QModelIndex:
        row = self._row_of.get(chat_id)
        return self.index(row, 0) if row is not None else QModelIndex()

    def chat_id_at(self, row: int) -> str | None:
        if 0 <= row < len(self._rows) and self._rows[row][0] == "c":
            return self._rows[row][1]
        return None

    def is_header(self, row: int) -> bool:
        return 0 <= row < len(self._rows) and self._rows[row][0] == "h"

    def filter_text(self) -> str:
        return self._filter

    def shown_chat_count(self) -> int:
        """Chats the filter lets through."""
        return len(self._row_of)

    def hidden_by_filter(self, chat_id: str) -> bool:
        """True when ``chat_id`` is held but the filter hides it."""
        return chat_id in self._views and chat_id not in self._row_of

    # -- updates ------------------------------------------------------------------------

    def set_chats(self, views: Iterable[ChatView]) -> None:
        """Replace the whole list (first load, after a sync), as a diff of rows."""
        old_views = self._views
        self._views = {v.chat.chat_id: v for v in views}
        self._order = sorted(self._views, key=lambda cid: _sort_key(self._views[cid]))
        changed = {cid for cid, v in self._views.items() if cid in old_views and old_views[cid] != v}
        self._apply_rows(self._build_rows(), changed)

    def add_chats(self, views: Iterable[ChatView]) -> None:
        """Add or update many chats, keeping the others (a page of a list being read).

        A page of chats all older than those held (the pages of a long list, newest
        first) is one insert of rows at the end: its own rows are built, not the list's.
        """
        import heapq  # not needed before the first paint

        fresh: list[str] = []
        added: set[str] = set()
        changed: set[str] = set()
        moved: list[str] = []
        retitled = False
        for view in views:
            chat_id = view.chat.chat_id
            old = self._views.get(chat_id)
            self._views[chat_id] = view
            if chat_id in added:
                continue  # twice in one page: the later one is kept
            if old is None:
                added.add(chat_id)
                fresh.append(chat_id)
            elif old != view:
                changed.add(chat_id)
                if _sort_key(old) != _sort_key(view):
                    moved.append(chat_id)
                retitled = retitled or old.chat.title != view.chat.title
        key = self._key
        if len(moved) > MOVES_INSERTED:
            self._order = sorted(self._views, key=key)
            self._apply_rows(self._build_rows(), changed)
            return
        for chat_id in dict.fromkeys(moved):
            self._order.remove(chat_id)
            self._insert_sorted(chat_id)
        if moved or (retitled and self._filter):  # a held chat the filter may now show or hide
            fresh.sort(key=key)
            self._order = list(heapq.merge(self._order, fresh, key=key))
            self._apply_rows(self._build_rows(), changed)
            return
        self._merge_tail(fresh, changed)

    def retain(self, chat_ids: set[str]) -> None:
        """Forget the chats not in ``chat_ids`` (gone since a list being read began)."""
        gone = [cid for cid in self._views if cid not in chat_ids]
        if not gone:
            return
        for chat_id in gone:
            del self._views[chat_id]
        self._order = [cid for cid in self._order if cid in self._views]
        self._apply_rows(self._build_rows(), set())

    def upsert_chat(self, view: ChatView) -> None:
        """Add or update one chat; a chat whose position stays put is one ``dataChanged``."""
        chat_id = view.chat.chat_id
        old = self._views.get(chat_id)
        self._views[chat_id] = view
        if old is not None and _sort_key(old) == _sort_key(view):
            self._emit_changed(chat_id)
            return
        if old is not None:
            self._order.remove(chat_id)
        self._insert_sorted(chat_id)
        self._apply_rows(self._build_rows(), {chat_id})

    def remove_chat(self, chat_id: str) -> None:
        if self._views.pop(chat_id, None) is None:
            return
        self._order.remove(chat_id)
        self._apply_rows(self._build_rows(), set())

    def set_title(self, chat_id: str, title: str) -> None:
        """Show a new title at once (the worker's answer confirms it later)."""
        view = self._views.get(chat_id)
        if view is None:
            return
        self._views[chat_id] = view._replace(chat=dataclasses.replace(view.chat, title=title))
        self._emit_changed(chat_id)

    def set_filter(self, text: str) -> None:
        """Show only chats whose title contains ``text`` (case-insensitive)."""
        text = text.strip()
        if text == self._filter:
            return
        self.beginResetModel()
        self._filter = text
        self._rows = self._build_rows()
        self._reindex()
        self.endResetModel()

    def refresh_day(self, today: dt.date | None = None) -> None:
        """Regroup when the date changed since the rows were built (the app ran past midnight)."""
        new_day = today or (self._today if self._fixed_today else dt.date.today())
        if new_day == self._today:
            return
        self._today = new_day
        self._bounds = time_groups.group_bounds(new_day)
        self._facts.clear()
        self._apply_rows(self._build_rows(), set(self._views))

    # -- internals ----------------------------------------------------------------------

    def _key(self, chat_id: str) -> tuple[bool, bool, int, int, str]:
        return _sort_key(self._views[chat_id])

    def _insert_sorted(self, chat_id: str) -> None:
        key = _sort_key(self._views[chat_id])
        lo, hi = 0, len(self._order)
        while lo < hi:
            mid = (lo + hi) // 2
            if _sort_key(self._views[self._order[mid]]) < key:
                lo = mid + 1
            else:
                hi = mid
        self._order.insert(lo, chat_id)

    def _build_rows(self) -> list[RowKey]:
        views = self._views
        if len(self._facts) > 2 * len(views) + 64:  # chats gone since: forget them
            self._facts = {cid: f for cid, f in self._facts.items() if cid in views}
        return self._rows_of(self._order, None)

    def _rows_of(self, chat_ids: list[str], current_group: str | None) -> list[RowKey]:
        """The rows of ``chat_ids`` (in order) that the filter lets through, a header
        before each new group; ``current_group`` is the group of the row before them."""
        needle = self._filter.casefold()
        rows: list[RowKey] = []
        views = self._views
        facts = self._facts
        for chat_id in chat_ids:
            view = views[chat_id]
            fact = facts.get(chat_id)
            if fact is None or fact[0] is not view:
                fact = facts[chat_id] = (view, view.chat.title.casefold(), self._group(view))
            if needle and needle not in fact[1]:
                continue
            group = fact[2]
            if group != current_group:
                rows.append(("h", group))
                current_group = group
            rows.append(("c", chat_id))
        return rows

    def _merge_tail(self, fresh: list[str], changed: set[str]) -> None:
        """Put ``fresh`` chats in order, rebuilding only the rows from the first of them
        on: a page of older chats goes in at the end, or among the last held when their
        activity ties (the pages break ties by id the other way round)."""
        import bisect  # not needed before the first paint

        key = self._key
        fresh.sort(key=key)
        order = self._order
        pos = bisect.bisect_left(order, key(fresh[0]), key=key) if fresh else len(order)
        if len(order) - pos > TAIL_REBUILT:
            self._order = sorted(self._views, key=key)
            self._apply_rows(self._build_rows(), changed)
            return
        order[pos:] = sorted(order[pos:] + fresh, key=key)
        before = pos - 1
        while before >= 0 and order[before] not in self._row_of:  # hidden by the filter
            before -= 1
        if before < 0:
            start, group = 0, None
        else:
            start, group = self._row_of[order[before]] + 1, self._group(self._views[order[before]])
        self._apply_tail(start, self._rows_of(order[pos:], group), changed)

    def _apply_tail(self, start: int, new_tail: list[RowKey], changed: set[str]) -> None:
        """As :meth:`_apply_rows`, for the rows from ``start`` on (those before stay)."""
        old_tail = self._rows[start:]
        keys = {key for kind, key in old_tail if kind == "c"} | {key for kind, key in new_tail if kind == "c"}
        for tag, i1, i2, j1, j2 in reversed(_row_diff(old_tail, new_tail)):
            i1, i2 = i1 + start, i2 + start
            if tag in ("delete", "replace"):
                self.beginRemoveRows(QModelIndex(), i1, i2 - 1)
                del self._rows[i1:i2]
                self._reindex_tail(start, keys)
                self.endRemoveRows()
            if tag in ("insert", "replace"):
                self.beginInsertRows(QModelIndex(), i1, i1 + (j2 - j1) - 1)
                self._rows[i1:i1] = new_tail[j1:j2]
                self._reindex_tail(start, keys)
                self.endInsertRows()
        for chat_id in changed:
            self._emit_changed(chat_id)

    def _reindex_tail(self, start: int, keys: set[str]) -> None:
        """Row numbers of the rows from ``start`` on, whose chats are among ``keys``."""
        row_of = self._row_of
        for key in keys:
            row_of.pop(key, None)
        rows = self._rows
        for row in range(start, len(rows)):
            kind, key = rows[row]
            if kind == "c":
                row_of[key] = row

    def _group(self, view: ChatView) -> str:
        return time_groups.PINNED if view.pinned else time_groups.group_of(view.last_activity, self._bounds)

    def _reindex(self) -> None:
        self._row_of = {key: row for row, (kind, key) in enumerate(self._rows) if kind == "c"}

    def _apply_rows(self, new_rows: list[RowKey], changed: set[str]) -> None:
        """Move from the current rows to ``new_rows`` with row removes and inserts, never a reset."""
        old_rows = self._rows
        if old_rows == new_rows:
            for chat_id in changed:
                self._emit_changed(chat_id)
            return
        opcodes = _row_diff(old_rows, new_rows)
        # Apply from the end so earlier row numbers stay valid.
        # Row numbers are re-indexed before each end*Rows(), so slots connected to the
        # model's signals (the sidebar keeping its selection) see a consistent model.
        for tag, i1, i2, j1, j2 in reversed(opcodes):
            if tag in ("delete", "replace"):
                self.beginRemoveRows(QModelIndex(), i1, i2 - 1)
                del self._rows[i1:i2]
                self._reindex()
                self.endRemoveRows()
            if tag in ("insert", "replace"):
                self.beginInsertRows(QModelIndex(), i1, i1 + (j2 - j1) - 1)
                self._rows[i1:i1] = new_rows[j1:j2]
                self._reindex()
                self.endInsertRows()
        if self._rows != new_rows:  # pragma: no cover - the diff above is exact
            log.error("chat list diff went wrong; resetting")
            self.beginResetModel()
            self._rows = list(new_rows)
            self.endResetModel()
        self._reindex()
        for chat_id in changed:
            self._emit_changed(chat_id)

    def _emit_changed(self, chat_id: str) -> None:
        row = self._row_of.get(chat_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [])

    @staticmethod
    def _tooltip(view: ChatView) -> str:
        lines = [bidi.inline(view.chat.title), f"Last activity {time_groups.full_time(view.last_activity)}"]
        if view.pinned:
            lines.append("Pinned")
        if view.pending:
            lines.append("Changes waiting to be sent")
        if view.unsent:
            lines.append(f"{view.unsent} message(s) not sent")
        if view.parked_error:
            lines.append(f"Error: {bidi.inline(view.parked_error)}")
        return "\n".join(lines)

    @staticmethod
    def _accessible_text(view: ChatView) -> str:
        parts = [bidi.inline(view.chat.title)]
        if view.pinned:
            parts.append("pinned")
        if view.pending:
            parts.append("pending")
        if view.unsent:
            parts.append(f"{view.unsent} unsent")
        if view.parked_error:
            parts.append("error")
        return ", ".join(parts)


_logged_roles: set[int] = set()


def _log_once(role: int) -> None:
    if role not in _logged_roles:
        _logged_roles.add(role)
        log.exception("chat list: could not give role %d of a row", role)


def _row_diff(old: list[RowKey], new: list[RowKey]) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes from ``old`` to ``new``, computed on the part between the common
    prefix and suffix only: one chat changing among 10,000 costs two short scans."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    if not old_mid or not new_mid:  # rows only added, or only taken away (the first load)
        if not old_mid and not new_mid:
            return []
        tag = "insert" if not old_mid else "delete"
        return [(tag, prefix, len(old) - suffix, prefix, len(new) - suffix)]
    import difflib  # only when rows change places (not before the first paint)

    matcher = difflib.SequenceMatcher(a=old_mid, b=new_mid, autojunk=False)
    return [
        (tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
