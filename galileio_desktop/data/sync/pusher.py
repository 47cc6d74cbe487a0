"""Push: drain the outbox to DynamoDB, in order per chat, safe to interrupt anywhere.

Order and blocking (the choice, and why):

- Operations of one chat go out in the order they were made; chats are independent.
  An operation that must wait (its Undo window ``not_before``, or a backoff after a
  network error) holds back the later operations of its chat only.
- A network or throttling error stops the whole pass (the next op would meet the same
  network) and stores a backoff time in the row; nothing sleeps.
- An operation DynamoDB refuses for good is *parked* with its error and the pass goes
  on. A parked op holds back only what depends on it: a parked chat create holds the
  later ops of that chat (they would act on a chat that does not exist) except a
  delete of the chat, which is idempotent and settles the create. Nothing else
  depends on a parked op: a later rename supersedes a parked one; a later delete of a
  message or chat removes the parked ops it overrides once it is confirmed (so a
  Retry can never write a message after its own delete); a write to a chat whose
  delete was refused is what the user sees and expects.

Replays: every write carries client-generated ids. Creates and new messages are
conditional puts, deletes are idempotent, renames and pins only update an existing
chat (a pin also only when no later pin is stored, see :mod:`..pins`). A
message is only written while its chat still exists (delete beats new messages:
otherwise the message is parked as unsent, the chat never comes back): a condition of
the one transaction that writes the message with its sources, or, on a server without
transactions, a consistent read first. See :mod:`.outcome` for the one case a replay
cannot decide by itself: a write whose answer was lost and whose item is missing now.
It is sent again (a conditional write with the same ids: it can never double), never
parked: a timeout says nothing about what DynamoDB did, and "not there" after one most
likely means "never written". Before an operation is called refused, DynamoDB is asked
whether it holds it already (an earlier attempt's answer lost): then it is applied.

Deletes use the source keys the mirror knows for sure (:mod:`.known_sources`) and query
the rest.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..aws_errors import client_error_code, is_access_denied, is_condition_failure, never_sent
from ..dynamo.gateway import ChatGateway, ChatGone
from ..errors import Cancelled, CredentialsError, GalileioError, NotFound
from ..mirror import items, outbox, overlay
from ..mirror.codec import decode
from ..mirror.database import Mirror
from ..mirror.outbox import Op
from ..pins import PinChange
from ..schema import Chat, Message, TypedItem, chat_key, key_of, now_ms
from . import known_sources, server_ids
from .backoff import retry_delay_ms
from .outcome import WriteObserver
from .push_lock import push_lock
from .results import PushResult

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

CHAT_GONE_REASON = (
    "Not sent: this chat was deleted on another device or in the web app. "
    "The message is kept here; discard it or copy it into another chat."
)


@dataclass
class _Outcome:
    removed: set[int] = field(default_factory=set)
    parked: Op | None = None
    pushed: int = 0
    dropped: int = 0

    def apply(self, ops: list[Op]) -> list[Op]:
        kept = [op for op in ops if op.op_id not in self.removed]
        if self.parked is not None:
            kept = [self.parked if op.op_id == self.parked.op_id else op for op in kept]
        return kept


def next_ready(ops: list[Op], now: int, retry_now: bool = False) -> Op | None:
    """The first operation that may be sent now, keeping each chat's order."""
    held_chats: set[str] = set()
    parked: list[Op] = []
    for op in ops:
        if op.chat_id in held_chats:
            continue
        if op.parked:
            parked.append(op)
            continue
        if any(p.blocks(op) for p in parked):
            continue
        if op.not_before > now or (op.next_attempt > now and not retry_now):
            held_chats.add(op.chat_id)
            continue
        return op
    return None


def _log_hide_bugs(bugs: list[Exception]) -> None:
    """Bugs met hiding the rows of a chat being deleted, when another failure is the one
    the pass raises: logged with their tracebacks, not lost with it."""
    for bug in bugs:
        log.error("unexpected error hiding the rows of a chat being deleted", exc_info=bug)


class Pusher:
    """One pass over the outbox with one gateway."""

    def __init__(
        self,
        mirror: Mirror,
        gateway: ChatGateway,
        observer: WriteObserver,
        *,
        clock: Callable[[], int] = now_ms,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.mirror = mirror
        self.gateway = gateway
        self.observer = observer
        self.clock = clock
        self.rand = rand
        self._verified_chats: set[str] = set()
        self._moved_chats: dict[str, str] = {}

    def run(self, *, retry_now: bool = False, progress: Progress | None = None) -> PushResult:
        with push_lock(self.mirror.path) as held:
            if not held:
                with self.mirror.read() as conn:
                    pending, _ = outbox.counts(conn)
                return PushResult(pending=pending, busy=True)
            return self._drain(retry_now, progress)

    def _drain(self, retry_now: bool, progress: Progress | None) -> PushResult:
        requests_before = self.observer.requests
        with self.mirror.write() as conn:
            outbox.recover_interrupted(conn)
            ops = outbox.all_ops(conn)
        total = sum(1 for op in ops if not op.parked)
        pushed = parked = dropped = done = 0
        failure: GalileioError | None = None
        self._verified_chats = set()
        try:
            while True:
                self.gateway.cancel_token.check()
                op = next_ready(ops, self.clock(), retry_now)
                if op is None:
                    with self.mirror.read() as conn:
                        ops = outbox.all_ops(conn)
                    op = next_ready(ops, self.clock(), retry_now)
                    if op is None:
                        break
                outcome = self._push_one(op, ops)
                ops = outcome.apply(ops)
                pushed += outcome.pushed
                dropped += outcome.dropped
                parked += 1 if outcome.parked else 0
                done += 1
                if progress:
                    progress("push", done, max(total, done))
        except GalileioError as exc:
            if not exc.transient:
                raise
            failure = exc
            log.info("push stopped: %s", exc)
        with self.mirror.read() as conn:
            pending, _ = outbox.counts(conn)
        return PushResult(
            pushed=pushed,
            parked=parked,
            dropped=dropped,
            pending=pending,
            error=str(failure) if failure else None,
            requests=self.observer.requests - requests_before,
            failure=failure,
            moved_chats=dict(self._moved_chats),
        )

    # -- one operation --------------------------------------------------------------

    def _push_one(self, op: Op, ops: list[Op]) -> _Outcome:
        collapsed = self._collapse(op, ops)
        if collapsed is not None:
            return collapsed
        with self.mirror.write() as conn:
            claimed = outbox.claim(conn, op.op_id)
        if claimed is None:  # cancelled meanwhile
            return _Outcome(removed={op.op_id})
        try:
            return self._send(claimed)
        except GalileioError as exc:
            return self._failed(claimed, exc)
        except BaseException:
            with self.mirror.write() as conn:
                outbox.release(conn, claimed.op_id)
            raise

    def _collapse(self, op: Op, ops: list[Op]) -> _Outcome | None:
        """A create (or new message) never sent, deleted again before it went out:
        drop both without a request. Nothing of it can exist on the server."""
        if op.kind not in (outbox.CREATE_CHAT, outbox.PUT_MESSAGE) or not op.cancellable:
            return None
        now = self.clock()
        for later in ops:
            if later.op_id <= op.op_id or later.parked or later.not_before > now:
                continue
            if (
                op.kind == outbox.CREATE_CHAT
                and later.kind == outbox.DELETE_CHAT
                and later.chat_id == op.chat_id
            ):
                doomed = [o for o in ops if o.chat_id == op.chat_id and o.op_id <= later.op_id]
                break
            if (
                op.kind == outbox.PUT_MESSAGE
                and later.kind == outbox.DELETE_MESSAGE
                and later.message_id == op.message_id
            ):
                doomed = [op, later]
                break
        else:
            return None
        with self.mirror.write() as conn:
            for victim in doomed:
                outbox.remove(conn, victim.op_id)
            for victim in doomed:
                overlay.refresh_for_op(conn, victim)
        log.info("dropped %d operations on %s: created and deleted before sending", len(doomed), op.chat_id)
        return _Outcome(removed={o.op_id for o in doomed}, dropped=len(doomed))

    def _send(self, op: Op) -> _Outcome:
        if op.kind == outbox.CREATE_CHAT:
            return self._create_chat(op)
        if op.kind == outbox.RENAME_CHAT:
            return self._rename_chat(op)
        if op.kind == outbox.PIN_CHAT:
            return self._pin_chat(op)
        if op.kind == outbox.DELETE_CHAT:
            return self._delete_chat(op)
        if op.kind == outbox.PUT_MESSAGE:
            return self._put_message(op)
        if op.kind == outbox.DELETE_MESSAGE:
            return self._delete_message(op)
        raise ValueError(f"unknown operation kind {op.kind!r}")

    def _create_chat(self, op: Op) -> _Outcome:
        item = decode(op.payload["item"])
        if getattr(self.gateway, "makes_chat_ids", False):  # the deployment's API
            with self._sending(op):
                stored = self.gateway.create_chat(
                    Chat.from_item(item), since_ms=op.created if op.doubt else None
                )
            with self.mirror.write() as conn:
                chat_id = server_ids.adopt_chat(conn, op, stored, self.mirror.next_seq(conn))
            if chat_id != op.chat_id:
                self._moved_chats[op.chat_id] = chat_id
            return _Outcome(removed={op.op_id}, pushed=1)
        if op.doubt:
            existing = self.gateway.get_item(key_of(item))
            if existing is not None:
                return self._confirm(op, [existing])
            # Not there: most likely never written (the answer that was lost was a
            # refusal, or the request never arrived). Written again, conditionally.
        with self._sending(op):
            stored = self.gateway.create_chat(Chat.from_item(item))
        return self._confirm(op, [stored])

    def _rename_chat(self, op: Op) -> _Outcome:
        try:
            stored = self.gateway.rename_chat(
                op.chat_id, str(op.payload["title"]), int(op.payload["updatedAt"])
            )
        except NotFound as exc:
            if not is_condition_failure(exc):
                raise
            # The chat is gone (a consistent fact): delete beats rename.
            with self.mirror.write() as conn:
                outbox.remove(conn, op.op_id)
                items.forget_remote(conn, [overlay.chat_sk(op.chat_id)])
                overlay.refresh_for_op(conn, op)
            log.info("rename of a chat deleted elsewhere dropped (delete wins)")
            return _Outcome(removed={op.op_id}, dropped=1)
        return self._confirm(op, [stored])

    def _pin_chat(self, op: Op) -> _Outcome:
        change = PinChange.from_payload(op.payload)
        try:
            stored = self.gateway.pin_chat(op.chat_id, change)
        except NotFound as exc:
            if not is_condition_failure(exc):
                raise
            # The chat is gone (delete wins), or it holds a later pin (that pin wins):
            # a consistent read says which, and the mirror takes what DynamoDB holds.
            existing = self.gateway.get_item(chat_key(self.mirror.user_id, op.chat_id))
            if existing is not None:
                log.info("pin change superseded by a later pin")
                return self._confirm(op, [existing])
            with self.mirror.write() as conn:
                outbox.remove(conn, op.op_id)
                items.forget_remote(conn, [overlay.chat_sk(op.chat_id)])
                overlay.refresh_for_op(conn, op)
            log.info("pin change of a chat deleted elsewhere dropped (delete wins)")
            return _Outcome(removed={op.op_id}, dropped=1)
        return self._confirm(op, [stored])

    def _delete_chat(self, op: Op) -> _Outcome:
        """Delete the chat on the server, the mirror's work beside the requests: every row
        of the chat is hidden for good, its full-text entry removed (queuing the delete
        hid the chat and its messages and kept their entries, see
        :func:`overlay.refresh_chat`), once the first requests are on their way (the
        pool's threads started first: started beside the hide, they took ~20 ms more),
        and its messages and sources forgotten while the chat item's own delete is; the
        chat row and the queue follow once that is confirmed.
        Each of these commits by itself, so an interruption anywhere leaves a state the
        next pass finishes (the queued delete hides whatever is left). A bug in the hide
        is raised once all this is done (see :meth:`_hide_chat`)."""
        with self.mirror.read() as conn:
            known = known_sources.source_keys_of_chat(conn, op.chat_id, self.mirror.user_id)
        bugs: list[Exception] = []
        hiding = threading.Thread(target=self._hide_chat, args=(op.chat_id, bugs), name="hide-chat")
        try:
            self.gateway.delete_chat(
                op.chat_id,
                known_sources=known,
                once_sent=hiding.start,
                meanwhile=lambda: self._forget_contents(op.chat_id),
            )
        except BaseException:
            self._hidden(hiding, op.chat_id, bugs)
            _log_hide_bugs(bugs)  # the delete's own failure is the one raised
            raise
        self._hidden(hiding, op.chat_id, bugs)
        try:
            with self.mirror.write() as conn:
                known_sources.forget_chat(conn, op.chat_id)
                # Earlier operations of the chat left here are parked or held: the delete
                # wins over all of them.
                earlier = [
                    o for o in outbox.ops_of_chat(conn, op.chat_id) if o.op_id <= op.op_id and not o.sending
                ]
                for victim in earlier + [op]:
                    outbox.remove(conn, victim.op_id)
                items.forget_chat_items(conn, op.chat_id)
        except BaseException:
            _log_hide_bugs(bugs)  # the mirror's failure (a full disk) is the one raised
            raise
        if bugs:  # the delete is done and the mirror says so: now the bug is reported
            raise bugs[0]
        return _Outcome(removed={o.op_id for o in earlier} | {op.op_id}, pushed=1)

    def _hidden(self, hiding: threading.Thread, chat_id: str, bugs: list[Exception]) -> None:
        """Wait for the hide started beside the requests, or hide here when it never
        started (nothing was sent)."""
        if hiding.ident is not None:
            hiding.join()
        else:
            self._hide_chat(chat_id, bugs)

    def _hide_chat(self, chat_id: str, bugs: list[Exception]) -> None:
        """Hide every row of a chat being deleted and remove their full-text entries (the
        claimed delete can no longer be undone, see :func:`overlay.refresh_chat`), most
        of the mirror's work of a delete: SQLite does it without the interpreter lock,
        beside the requests. A failure here changes nothing of the delete: the rows go
        when the delete is confirmed. An expected one (a full disk) is logged; anything
        else is a bug, kept in ``bugs`` for the pass to raise once the delete is done, so
        that it is reported as every bug of a pass is, not printed by a thread that dies
        of it."""
        try:
            with self.mirror.write() as conn:
                overlay.refresh_chat(conn, chat_id)
        except GalileioError as exc:
            log.warning("could not hide the rows of a chat being deleted: %s", exc)
        except Exception as exc:  # noqa: BLE001 - raised by the pass, see above
            bugs.append(exc)

    def _forget_contents(self, chat_id: str) -> None:
        """The chat's messages and sources are gone from the server: forget their rows
        (the chat row stays, hidden, until its own delete is confirmed). A failure is
        logged: the rows go with the chat row all the same."""
        try:
            with self.mirror.write() as conn:
                known_sources.forget_chat(conn, chat_id)
                items.forget_chat_contents(conn, chat_id)
        except GalileioError as exc:
            log.warning("could not forget the messages of a deleted chat yet: %s", exc)

    def _put_message(self, op: Op) -> _Outcome:
        item = decode(op.payload["item"])
        # The sources exactly as they were written locally (typed items, in order).
        source_items = [decode(s) for s in op.payload.get("sources", [])]
        message = Message.from_item(item)
        if op.doubt:
            if op.chat_id not in self._verified_chats:
                if self.gateway.get_item(chat_key(self.mirror.user_id, op.chat_id)) is None:
                    self._clean_partial_write(op)
                    return self._chat_gone(op)
                self._verified_chats.add(op.chat_id)
            existing = self.gateway.get_item(key_of(item))
            if existing is not None:
                return self._confirm(op, [existing, *source_items], known=op.message_id)
            # Not there: written again below (sources are overwritten as they were).
        try:
            with self._sending(op):
                stored = self.gateway.put_message(
                    message,
                    source_items=source_items,
                    chat_must_exist=True,
                    chat_seen=op.chat_id in self._verified_chats,
                    attempt=op.attempts,
                )
        except ChatGone as gone:
            if gone.message_written:  # an earlier attempt wrote it: take it away again
                self.gateway.delete_message(op.message_id)
            else:
                self._clean_partial_write(op)
            return self._chat_gone(op)
        self._verified_chats.add(op.chat_id)
        return self._confirm(op, [stored, *source_items], known=op.message_id)

    def _chat_gone(self, op: Op) -> _Outcome:
        with self.mirror.write() as conn:
            items.forget_remote(conn, [overlay.chat_sk(op.chat_id)])
        return self._park(op, CHAT_GONE_REASON, outbox.CHAT_GONE)

    def _clean_partial_write(self, op: Op) -> None:
        """An earlier attempt may have written the sources of a message that is not on
        the server now: remove them (idempotent), so no orphan stays behind."""
        if op.attempts > 1 and op.payload.get("sources"):
            self.gateway.delete_message(op.message_id)

    def _delete_message(self, op: Op) -> _Outcome:
        with self.mirror.read() as conn:
            known = known_sources.source_keys_of_message(conn, op.message_id, self.mirror.user_id)
        self.gateway.delete_message(op.message_id, known)
        with self.mirror.write() as conn:
            known_sources.forget_message(conn, op.message_id)
            earlier = [
                o
                for o in outbox.ops_of_chat(conn, op.chat_id)
                if o.message_id == op.message_id and o.op_id <= op.op_id and not o.sending
            ]
            for victim in earlier + [op]:
                outbox.remove(conn, victim.op_id)
            items.forget_message_items(conn, op.message_id)
            for victim in earlier + [op]:
                overlay.refresh_for_op(conn, victim)
        return _Outcome(removed={o.op_id for o in earlier} | {op.op_id}, pushed=1)

    # -- outcomes -------------------------------------------------------------------

    @contextmanager
    def _sending(self, op: Op) -> Iterator[None]:
        """Mark the op in doubt just before its write (PutItem, TransactWriteItems) leaves,
        and clear the mark when the attempt provably wrote nothing."""
        prior = bool(op.doubt)

        def mark() -> None:
            if not prior:
                with self.mirror.write() as conn:
                    outbox.set_doubt(conn, op.op_id, True)

        with self.observer.watch(mark) as watch:
            if not self.observer.precise:
                mark()
            try:
                yield
            except GalileioError as exc:
                if isinstance(exc, ChatGone) and not exc.message_written:
                    maybe_applied = False  # refused by the chat's condition: nothing written
                elif self.observer.precise:
                    maybe_applied = watch.maybe_applied
                else:
                    maybe_applied = not never_sent(exc)
                if not prior and not maybe_applied:
                    with self.mirror.write() as conn:
                        outbox.set_doubt(conn, op.op_id, False)
                raise

    def _confirm(self, op: Op, stored: list[TypedItem], known: str | None = None) -> _Outcome:
        """The server has ``stored``; ``known``: a message whose sources are all in it."""
        with self.mirror.write() as conn:
            seq = self.mirror.next_seq(conn)
            outbox.remove(conn, op.op_id)
            # Rows of chats with no other queued change take the fast path; the op's own
            # rows are refreshed once, below.
            op_chats = outbox.chats_with_ops(conn)
            for item in stored:
                items.put_remote(conn, item, seq, op_chats)
            if known:
                known_sources.mark(conn, [known])
            overlay.refresh_for_op(conn, op)
        return _Outcome(removed={op.op_id}, pushed=1)

    def _park(self, op: Op, error: str, kind: str) -> _Outcome:
        with self.mirror.write() as conn:
            outbox.park(conn, op.op_id, error, kind)
            parked = outbox.get(conn, op.op_id)
            overlay.refresh_for_op(conn, op)
        log.warning("operation %d (%s) parked: %s", op.op_id, op.kind, error)
        return _Outcome(parked=parked)

    def _failed(self, op: Op, exc: GalileioError) -> _Outcome:
        if isinstance(exc, Cancelled):
            # Stopped on purpose: not the operation's fault, no backoff.
            with self.mirror.write() as conn:
                outbox.release(conn, op.op_id)
            raise exc
        if exc.transient:
            delay = retry_delay_ms(op.attempts, self.rand)
            with self.mirror.write() as conn:
                outbox.back_off(conn, op.op_id, self.clock() + delay, str(exc))
            raise exc
        table_missing = isinstance(exc, NotFound) and client_error_code(exc) == "ResourceNotFoundException"
        if table_missing or (isinstance(exc, CredentialsError) and not is_access_denied(exc)):
            # Not this operation's fault: the session or the settings need the user.
            with self.mirror.write() as conn:
                outbox.release(conn, op.op_id)
            raise exc
        try:
            applied = self._already_applied(op)
        except GalileioError as check_failed:
            log.info("could not check whether a refused operation was applied: %s", check_failed)
            if check_failed.transient:
                return self._failed(op, check_failed)
            applied = None
        if applied is not None:
            log.info("operation %d (%s) was applied by an earlier attempt", op.op_id, op.kind)
            known = op.message_id if op.kind == outbox.PUT_MESSAGE else None
            return self._confirm(op, applied, known=known)
        return self._park(op, str(exc), outbox.REJECTED)

    def _already_applied(self, op: Op) -> list[TypedItem] | None:
        """What DynamoDB holds of ``op`` when an earlier attempt (whose answer was lost)
        applied it; None when it does not. Asked before an operation is called refused."""
        user_id = self.mirror.user_id
        if op.kind == outbox.CREATE_CHAT:
            existing = self.gateway.get_item(chat_key(user_id, op.chat_id))
            return [existing] if existing is not None else None
        if op.kind == outbox.PUT_MESSAGE:
            item = decode(op.payload["item"])
            existing = self.gateway.get_item(key_of(item))
            if existing is None:
                return None
            sources = [decode(s) for s in op.payload.get("sources", [])]
            return [existing, *sources]
        if op.kind == outbox.RENAME_CHAT:
            existing = self.gateway.get_item(chat_key(user_id, op.chat_id))
            title = (existing or {}).get("title", {}).get("S")
            return [existing] if existing is not None and title == op.payload.get("title") else None
        if op.kind == outbox.PIN_CHAT:
            existing = self.gateway.get_item(chat_key(user_id, op.chat_id))
            settled = existing is not None and PinChange.from_payload(op.payload).settled_by(existing)
            return [existing] if existing is not None and settled else None
        return None
