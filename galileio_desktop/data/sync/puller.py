"""Pull: bring the server's changes into the mirror, cheaply or completely.

- **Incremental** (every sync): one Query of GSI1 for the chat list (new chats,
  renames; a chat missing from the list is confirmed gone by a consistent read before
  it is dropped: GSI absence proves nothing), then, for chats opened in the last
  7 days only, one Query for messages newer than the newest one seen (minus a margin
  for clock skew between devices and GSI lag). With nothing changed this costs one
  request plus one per recently opened chat.
- **Reconcile** (first sync of a mirror, then daily, or on demand): a consistent Query
  of the user's whole partition, every page. It is the only pass that may conclude
  that items vanished, and only once every page was read: a failed or partial pass
  has updated what it saw and deleted nothing.

Messages written offline elsewhere carry their (older) creation time, so an
incremental pull can miss them; the next reconcile brings them in.

**Revalidation** of an opened chat (once it is shown from the mirror, and after each
sync while it stays open): every page of its messages is read again, what is new or
changed is stored, and the messages the pages no longer hold are dropped, once proven
gone: over DynamoDB by a consistent read of each (the index may lag); over the API,
whose lists are all there is, when older than :data:`INDEX_LAG_MS`. Messages with a
queued change are left alone (the outbox decides their fate), and messages written
here and not yet sent have no server state to drop. Cost: one request per 1 MB page
over DynamoDB (plus one read per message missing from the index), one per page of
messages over the API.

Opening a chat not yet in the mirror reads its messages only: the window's page of the
newest first, small, so it is shown after one round trip, then 1 MB pages (a long chat is
a few requests); the answers' sources follow in :meth:`Puller.fetch_sources`, one query
per answer on the gateway's bounded pool, skipping answers whose sources the mirror
already holds (:mod:`.known_sources`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from ..dynamo.gateway import ChatGateway
from ..mirror import bulk_load, items, outbox, sync_state
from ..mirror.database import Mirror
from ..mirror.overlay import chat_sk
from ..schema import TypedItem, chat_key, created_ms, message_key, now_ms
from ..timestamps import is_known
from . import known_sources
from .outcome import WriteObserver
from .results import PullResult

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

DAY_MS = 24 * 3600 * 1000
RECENT_MS = 7 * DAY_MS
#: Messages of the first page when a chat is opened: the window's first page (50), read
#: on its own so it is stored and shown after one small round trip; the rest follows in
#: pages of up to 1 MB.
NEWEST_PAGE = 50
#: Newer-than queries start this much before the newest message seen.
OVERLAP_MS = 15 * 60 * 1000
#: More vanished chats than this and a reconcile is cheaper than reading each one.
MAX_CHAT_CHECKS = 10
#: A message younger than this missing from the API's list may not be indexed yet: kept.
INDEX_LAG_MS = 60 * 1000
#: Sources queries sent (concurrently) before their answers are written to the mirror:
#: an interrupted fetch keeps what it read, a chunk at a time.
SOURCES_CHUNK = 64


def _str(item: TypedItem, name: str) -> str:
    attr = item.get(name)
    return str(attr["S"]) if isinstance(attr, dict) and "S" in attr else ""


class Puller:
    """Reads the server into the mirror through one gateway."""

    def __init__(
        self,
        mirror: Mirror,
        gateway: ChatGateway,
        observer: WriteObserver,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.mirror = mirror
        self.gateway = gateway
        self.observer = observer
        self.clock = clock
        self.user_id = mirror.user_id

    def _own(self, item: TypedItem) -> bool:
        if _str(item, "PK") != self.user_id:
            log.warning("ignoring an item outside the user's partition")
            return False
        return True

    # -- reconcile --------------------------------------------------------------------

    def reconcile(self, progress: Progress | None = None) -> PullResult:
        requests_before = self.observer.requests
        with self.mirror.write() as conn:
            start = self.mirror.next_seq(conn)
        changed = pages = 0
        # One page after another: reading the next page while this one is written hid
        # nothing measurable of a first sync's wall time (its round trips are a tenth of
        # it) and gave the window's thread a second thread to wait for (longer stalls).
        for page in self.gateway.iter_partition():
            pages += 1
            own = [item for item in page if self._own(item)]
            with self.mirror.write() as conn:
                op_chats = outbox.chats_with_ops(conn)
                changed += bulk_load.put_remote_many(conn, own, start, op_chats)
            if progress:
                progress("reconcile", pages, 0)
        # Every page was read: whatever the pass did not see is gone from the server.
        with self.mirror.write() as conn:
            removed = items.sweep_unseen(conn, start)
            sync_state.mark_all_cached(conn)
            known_sources.mark_all_mirrored(conn)
            now = self.clock()
            sync_state.set_time(conn, sync_state.LAST_RECONCILE, now)
            sync_state.set_time(conn, sync_state.LAST_PULL, now)
        log.info("reconciled: %d pages, %d changed, %d removed", pages, changed, removed)
        return PullResult(True, changed, removed, self.observer.requests - requests_before)

    # -- incremental --------------------------------------------------------------------

    def incremental(self, progress: Progress | None = None) -> PullResult:
        requests_before = self.observer.requests
        chat_items = [i for i in self.gateway.list_chat_items() if self._own(i)]
        listed = {_str(i, "chatId") or _str(i, "SK").split("#", 1)[-1] for i in chat_items}
        changed = removed = 0
        with self.mirror.write() as conn:
            seq = self.mirror.next_seq(conn)
            op_chats = outbox.chats_with_ops(conn)
            for item in chat_items:
                changed += items.put_remote(conn, item, seq, op_chats)
            missing = sorted(items.remote_chat_ids(conn) - listed)
        if len(missing) > MAX_CHAT_CHECKS:
            result = self.reconcile(progress)
            return PullResult(
                True, changed + result.changed, result.removed, self.observer.requests - requests_before
            )
        for chat_id in missing:
            found = self.gateway.get_item(chat_key(self.user_id, chat_id), consistent=True)
            with self.mirror.write() as conn:
                if found is None:
                    removed += items.forget_remote(conn, [chat_sk(chat_id)])
                    conn.execute("DELETE FROM chat_sync WHERE chat_id = ?", (chat_id,))
                else:
                    changed += items.put_remote(conn, found, self.mirror.next_seq(conn))
        with self.mirror.read() as conn:
            recent = [
                cs
                for cs in sync_state.recently_opened(conn, self.clock() - RECENT_MS)
                if items.has_remote(conn, chat_sk(cs.chat_id))
            ]
        for index, cs in enumerate(recent):
            since = max(0, cs.last_seen - OVERLAP_MS) if cs.cached and cs.last_seen else None
            changed += self._pull_messages(cs.chat_id, since)
            changed += self.fetch_sources(cs.chat_id)  # of new answers (and any not fetched yet)
            if progress:
                progress("pull", index + 1, len(recent))
        with self.mirror.write() as conn:
            sync_state.set_time(conn, sync_state.LAST_PULL, self.clock())
        return PullResult(False, changed, removed, self.observer.requests - requests_before)

    # -- one chat -------------------------------------------------------------------------

    def fetch_chat(self, chat_id: str, on_first_page: Callable[[], None] | None = None) -> int:
        """Every message of a chat into the mirror, marked cached; returns items changed.

        Newest first: the first page holds the newest :data:`NEWEST_PAGE` messages, what
        the window shows, and ``on_first_page`` is called once it is stored when more
        pages follow (the rest arrive meanwhile, in pages of up to 1 MB). The chat is
        marked cached only once every page is in, so an interrupted fetch is done again
        whole (writes are idempotent). Sources are not read here (see
        :meth:`fetch_sources`): a long chat's answers cost a query each.
        """
        return self._pull_messages(chat_id, None, on_first_page)

    def _pull_messages(
        self, chat_id: str, since: int | None, on_first_page: Callable[[], None] | None = None
    ) -> int:
        """Messages newer than ``since`` (all: None, newest first; else oldest first) into
        the mirror, each page of up to 1 MB written as it arrives; the chat is marked
        cached once every message is in."""
        newest_first = since is None
        pages = self._read_ahead(
            self.gateway.iter_message_pages(
                chat_id, since, newest_first=newest_first, first_page=NEWEST_PAGE if newest_first else None
            )
        )
        changed = newest = 0
        for number, page in enumerate(pages):
            own = [item for item in page if self._own(item)]
            with self.mirror.write() as conn:
                seq = self.mirror.next_seq(conn)
                changed += bulk_load.put_remote_many(conn, own, seq, outbox.chats_with_ops(conn))
            newest = max([newest, *(_created(item) for item in own)])
            if number == 0 and on_first_page is not None and getattr(page, "more", False):
                on_first_page()
        with self.mirror.write() as conn:
            sync_state.mark_cached(conn, chat_id, newest)
        return changed

    def revalidate_chat(self, chat_id: str) -> PullResult:
        """Read every message of an opened chat again: store what is new or changed, drop
        what the server no longer holds (see the module docstring), then fetch the sources
        of new answers. Nothing is dropped unless every page was read."""
        requests_before = self.observer.requests
        with self.mirror.write() as conn:
            start = self.mirror.next_seq(conn)
        changed = newest = 0
        for page in self._read_ahead(self.gateway.iter_message_pages(chat_id, None, newest_first=True)):
            own = [item for item in page if self._own(item)]
            with self.mirror.write() as conn:
                changed += bulk_load.put_remote_many(conn, own, start, outbox.chats_with_ops(conn))
            newest = max([newest, *(_created(item) for item in own)])
        with self.mirror.read() as conn:
            unseen = items.unseen_messages(conn, chat_id, start)
        gone, found = self._gone(unseen)
        with self.mirror.write() as conn:
            seq = self.mirror.next_seq(conn)
            for item in found:
                changed += items.put_remote(conn, item, seq)
            removed = sum(items.forget_message_items(conn, message_id) for message_id in gone)
            sync_state.mark_cached(conn, chat_id, newest)
        changed += self.fetch_sources(chat_id)
        if removed:
            log.info("revalidated a chat: %d changed, %d gone", changed, removed)
        return PullResult(False, changed, removed, self.observer.requests - requests_before)

    def _gone(self, unseen: list[tuple[str, int]]) -> tuple[list[str], list[TypedItem]]:
        """Of the messages a complete read of their chat did not return: those gone from
        the server, and the items of those still there (the index had not caught up)."""
        if not getattr(self.gateway, "consistent_reads", True):
            recent = self.clock() - INDEX_LAG_MS
            return [message_id for message_id, created in unseen if created < recent], []
        ids = [message_id for message_id, _ in unseen]
        read = self.gateway.each(
            lambda message_id: self.gateway.get_item(message_key(self.user_id, message_id), consistent=True),
            ids,
        )
        found = [item for item in read if item is not None and self._own(item)]
        return [m for m, item in zip(ids, read, strict=True) if item is None], found

    def _read_ahead(self, pages: Iterator[list[TypedItem]]) -> Iterator[list[TypedItem]]:
        """The pages; the next one is read on the gateway's pool while the caller writes
        this one (SQLite works without holding the GIL)."""
        pool = self.gateway.pool
        ahead = pool.submit(next, pages, None)
        while (page := ahead.result()) is not None:
            ahead = pool.submit(next, pages, None)
            yield page

    def fetch_sources(self, chat_id: str) -> int:
        """The sources of the chat's answers the mirror does not hold yet; returns items
        changed. Queries run concurrently on the gateway's pool, and each chunk is
        written (and its answers marked known) as soon as it is read."""
        with self.mirror.read() as conn:
            wanted = known_sources.answers_to_fetch(conn, chat_id)
        changed = 0
        for start in range(0, len(wanted), SOURCES_CHUNK):
            chunk = wanted[start : start + SOURCES_CHUNK]
            found = self._sources_of(chunk)
            with self.mirror.write() as conn:
                seq = self.mirror.next_seq(conn)
                op_chats = outbox.chats_with_ops(conn)
                changed += bulk_load.put_remote_many(conn, found, seq, op_chats)
                known_sources.mark(conn, chunk)
        return changed

    def _sources_of(self, message_ids: list[str]) -> list[TypedItem]:
        pages = self.gateway.each(self.gateway.list_source_items, message_ids)
        return [i for page in pages for i in page if self._own(i)]


def _created(item: TypedItem) -> int:
    """An item's time for the newest-seen mark; 0 when unknown (out of range, another
    writer's), so one such message neither overflows the mark nor hides newer ones."""
    ms = created_ms(item)
    return ms if is_known(ms) else 0
