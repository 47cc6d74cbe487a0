"""The mirror's SQLite file: private permissions, WAL, migrations, one lock per handle.

One file per account (see :func:`mirror_path_for`), created 0600 in a 0700 folder before
SQLite touches it; SQLite gives its ``-wal`` and ``-shm`` files the same mode. Several
handles (the window's connections, a CLI process) may open a new file at the same
moment: switching it to WAL and migrating it are both safe to race. The
connection is shared by the threads of one process under a re-entrant lock, so a
read never sees half a write of this process; other processes are kept apart by
SQLite's own locking (WAL: readers never wait for the writer).

The disk is not always kind: SQLite's storage errors (a full disk, an I/O error, a
read-only file or folder, a file that cannot be opened, a lock held too long) reach every
caller as :class:`LocalStorageError` with a message that names the folder, after the
change was rolled back. A mirror that cannot be written is opened read-only when it can
be, so what is on disk can still be read (``status`` answers on a full disk). A damaged
file is set aside and replaced, its unsent changes carried over (see :mod:`.recovery`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..errors import GalileioError, LocalStorageError
from ..paths import FolderUnusable, private_dir, private_file
from . import damage
from .damage import MirrorDamaged
from .migrations import SCHEMA_VERSION, migrate, user_version

if TYPE_CHECKING:  # imported by an opening that finds the file damaged
    from .recovery import MirrorRecovery

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
MIRROR_FOLDER = "mirrors"
#: Free space under which an I/O error is taken for a full disk.
NEARLY_FULL_BYTES = 256 * 1024

# SQLite's primary result codes for a failing disk or file (``sqlite_errorcode & 0xFF``).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
#: The same, by SQLite's words (Python 3.10 has no error codes on its exceptions).
_CODES_BY_WORDS = (
    ("database or disk is full", SQLITE_FULL),
    ("disk I/O error", SQLITE_IOERR),
    ("readonly database", SQLITE_READONLY),
    ("unable to open database file", SQLITE_CANTOPEN),
    ("access permission denied", SQLITE_PERM),
    ("database is locked", SQLITE_BUSY),
    ("database table is locked", SQLITE_LOCKED),
    ("database disk image is malformed", SQLITE_CORRUPT),
    ("malformed database schema", SQLITE_CORRUPT),
    ("file is not a database", SQLITE_NOTADB),
)
_STORAGE_CODES = frozenset(code for _, code in _CODES_BY_WORDS)
_DAMAGE_CODES = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})
#: Failures after which the file may still be read (opened read-only).
_READABLE_CODES = frozenset({SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM})

#: Mirrors open in this process, by file: a damaged file is only set aside when no other
#: connection of this process uses it (the window opens one per worker thread).
_open_lock = threading.Lock()
_open_count: dict[str, int] = {}


def _nearly_full(folder: Path) -> bool:
    """SQLite reports a full disk as an I/O error where it grows its ``-shm`` file."""
    try:
        import shutil  # when a write failed (not at every start)

        return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def storage_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code when ``exc`` is about the disk or the file, else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _STORAGE_CODES:
        return code & 0xFF
    text = str(exc)
    return next((found for words, found in _CODES_BY_WORDS if words in text), None)


class MirrorOfAnotherAccount(GalileioError):
    """The mirror file belongs to another user: refused, never shown."""

    exit_code = 4


def mirror_path_for(
    data_dir: Path, user_id: str, table: str, endpoint_url: str | None, *, region: str | None = None
) -> Path:
    """The mirror file of one account: a hash of who and where, never a user id in clear.

    ``region`` matters when ``endpoint_url`` is None (the same table name can exist in
    two regions); callers that know it should pass it.
    """
    import hashlib  # OpenSSL's load is ~1% of a start: only a path's first making pays it

    identity = [user_id, table, endpoint_url or ""]
    if region:
        identity.append(region)
    digest = hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()[:32]
    return Path(data_dir) / MIRROR_FOLDER / f"{digest}.sqlite3"


class Mirror:
    """An open mirror file of one user.

    ``recovery`` is set when the file was found damaged at opening and replaced (tell the
    user); ``read_only`` holds why writes are refused when it could only be opened for
    reading (a full disk, a read-only folder).
    """

    def __init__(self, path: Path, user_id: str) -> None:
        if not user_id:
            raise ValueError("a user id is required")
        self.path = Path(path)
        self.user_id = user_id
        self.recovery: MirrorRecovery | None = None
        self.read_only: str | None = None
        self._lock = threading.RLock()
        self._key = os.path.abspath(self.path)
        self.conn = self._open()
        with _open_lock:
            _open_count[self._key] = _open_count.get(self._key, 0) + 1
        self._closed = False
        self._secure_side_files()

    @property
    def folder(self) -> Path:
        return self.path.parent

    # -- opening ----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            private_dir(self.folder)
            private_file(self.path)
        except FolderUnusable as exc:
            return self._open_read_only(exc)
        reason = damage.marked_damage(self.path)
        if reason is None:
            try:
                return self._connect()
            except sqlite3.Error as exc:
                if storage_code(exc) in _DAMAGE_CODES:
                    reason = str(exc)
                else:
                    problem = self._storage_error(exc, writing=True)
                    if problem is None:
                        raise
                    return self._open_despite(problem, exc)
            except MirrorDamaged:
                reason = damage.marked_damage(self.path) or "damaged"
            except LocalStorageError as exc:
                return self._open_despite(exc, exc.__cause__)
        return self._recover(reason)

    def _open_despite(self, problem: LocalStorageError, cause: BaseException | None) -> sqlite3.Connection:
        """Read-only when the failure leaves the file readable (a full disk, a read-only
        file), else ``problem`` (a lock held too long)."""
        code = storage_code(cause) if isinstance(cause, sqlite3.Error) else None
        if code not in _READABLE_CODES:
            raise problem
        return self._open_read_only(problem)

    def _connect(self) -> sqlite3.Connection:
        """Open, switch to WAL, migrate and claim the file; raw SQLite errors on failure."""
        self.conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            self._configure()
            migrate(self.conn)
            self._claim_owner()
        except BaseException:
            self.conn.close()
            raise
        return self.conn

    def _open_read_only(self, problem: LocalStorageError) -> sqlite3.Connection:
        """Open what is on disk for reading only, or raise ``problem``.

        SQLite reads a WAL file read-only when it can create (or find) the ``-shm`` file; on
        a full disk or read-only folder it cannot, and the file is then read as immutable,
        which is exact as long as no ``-wal`` holds changes (none does after a clean close;
        a ``-wal`` left by a live writer comes with its ``-shm``, so the first way works).
        """
        if not (self.path.is_file() and self.path.stat().st_size > 0):
            raise problem
        uri = self.path.absolute().as_uri() + "?mode=ro"
        attempts = [uri]
        wal = Path(f"{self.path}-wal")
        if not wal.exists() or wal.stat().st_size == 0:
            attempts.append(uri + "&immutable=1")
        for attempt in attempts:
            try:
                conn = sqlite3.connect(
                    attempt, uri=True, isolation_level=None, check_same_thread=False, timeout=1
                )
            except sqlite3.Error:
                continue
            try:
                if user_version(conn) != SCHEMA_VERSION:
                    conn.close()
                    raise problem  # an older file needs migrating, which writes
                row = conn.execute("SELECT value FROM meta WHERE key = 'user_id'").fetchone()
            except sqlite3.Error:
                conn.close()
                continue
            if row is not None and row[0] != self.user_id:
                conn.close()
                raise MirrorOfAnotherAccount(
                    "This local mirror belongs to another account; it was not opened."
                )
            self.read_only = problem.message
            log.info("mirror %s opened read-only: %s", self.path.name, problem.message)
            return conn
        raise problem

    def _recover(self, reason: str) -> sqlite3.Connection:
        """Set the damaged file aside, open a fresh one and queue again what it had queued."""
        from . import recovery

        with _open_lock:
            if _open_count.get(self._key):
                raise MirrorDamaged(damage.damaged_message(self.path, reason))
            try:
                with recovery.exclusive(self.path):
                    reason = recovery.still_damaged(self.path) or ""
                    if not reason:  # another process replaced it meanwhile
                        return self._connect()
                    if recovery.in_use_elsewhere(self.path):
                        raise MirrorDamaged(
                            f"The local copy {self.path} is damaged ({reason}) and still open in "
                            "another Galileio Desktop window or command; close it, then try again."
                        )
                    aside = recovery.set_aside(self.path, reason)
                    try:
                        salvage = recovery.read_outbox(aside)
                        private_file(self.path)
                        self._connect()
                        with self.write() as conn:
                            kept, complete = recovery.requeue(conn, salvage)
                    except BaseException:
                        self._close_quietly()
                        recovery.put_back(self.path, aside, reason)
                        raise
            except OSError as exc:
                raise FolderUnusable.of(exc, self.folder) from exc
            except sqlite3.Error as exc:
                problem = self._storage_error(exc, writing=True)
                if problem is None:
                    raise
                raise problem from exc
        self.recovery = recovery.MirrorRecovery(aside, reason, kept, complete)
        log.info("%s", self.recovery.message)
        return self.conn

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:
                log.info("closing the mirror failed: %s", exc)

    def _configure(self) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self._switch_to_wal()
        if str(mode).lower() != "wal":
            log.warning("mirror %s is not in WAL mode (%s)", self.path.name, mode)
        # FULL: a write the user made (and its outbox row) survives a power cut too.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")

    def _switch_to_wal(self) -> str:
        """``PRAGMA journal_mode = WAL``, tried again while another opener of a new file
        holds it: SQLite answers "database is locked" at once there, without waiting
        for the busy timeout (waiting could deadlock two switching connections)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return str(self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            import random  # only when another process holds the lock

            time.sleep(random.uniform(0.005, 0.05))

    def _claim_owner(self) -> None:
        with self.write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'user_id'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta(key, value) VALUES ('user_id', ?)", (self.user_id,))
            elif row[0] != self.user_id:
                raise MirrorOfAnotherAccount(
                    "This local mirror belongs to another account; it was not opened."
                )

    def _secure_side_files(self) -> None:
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            try:
                if side.exists() and (side.stat().st_mode & 0o077):
                    os.chmod(side, 0o600)
            except OSError as exc:  # a read-only folder: nothing is written there either
                log.info("cannot secure %s: %s", side.name, exc)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error).

        Nested use joins the outer transaction. A failing disk or file raises
        :class:`LocalStorageError` once the transaction is rolled back: nothing of the
        change is half-applied.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            if self.read_only is not None:
                raise LocalStorageError(self.read_only)
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_storage_error(exc, writing=True)
            try:
                yield self.conn
            except sqlite3.Error as exc:
                self._end("ROLLBACK")
                self._raise_storage_error(exc, writing=True)
            except BaseException:
                self._end("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._end("ROLLBACK")
                self._raise_storage_error(exc, writing=True)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read: one snapshot for everything read inside the block."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            try:
                self.conn.execute("BEGIN")
            except sqlite3.Error as exc:
                self._raise_storage_error(exc, writing=False)
            try:
                yield self.conn
            except sqlite3.Error as exc:
                self._end("ROLLBACK")
                self._raise_storage_error(exc, writing=False)
            except BaseException:
                self._end("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._end("ROLLBACK")
                self._raise_storage_error(exc, writing=False)

    def _end(self, statement: str) -> None:
        """End the transaction if SQLite has not ended it already (it rolls back by itself
        after some disk errors); a failure here must not hide the error that led to it."""
        if not self.conn.in_transaction:
            return
        try:
            self.conn.execute(statement)
        except sqlite3.Error as exc:
            log.warning("could not end a mirror transaction: %s", exc)

    def _raise_storage_error(self, exc: sqlite3.Error, *, writing: bool) -> NoReturn:
        """Raise ``exc`` as the :class:`LocalStorageError` it stands for, or as it is (a bug)."""
        problem = self._storage_error(exc, writing=writing)
        if problem is None:
            raise exc
        raise problem from exc

    def _storage_error(self, exc: sqlite3.Error, *, writing: bool) -> LocalStorageError | None:
        """The words for a person of a disk or file failure, naming the folder; None for
        anything else (a bug)."""
        code = storage_code(exc)
        folder = self.folder
        if code is None:
            return None
        if code in _DAMAGE_CODES:
            damage.mark_damaged(self.path, str(exc))
            return MirrorDamaged(damage.damaged_message(self.path, str(exc)))
        outcome = "the change was not saved" if writing else "the local copy could not be read"
        if code == SQLITE_FULL or (code == SQLITE_IOERR and _nearly_full(folder)):
            return LocalStorageError(
                f"The disk holding {folder} is full: {outcome}. Free some space and try again."
            )
        if code == SQLITE_IOERR:
            return LocalStorageError(
                f"The disk holding {folder} failed to read or write (disk I/O error): {outcome}. "
                "Check the disk and try again."
            )
        if code == SQLITE_READONLY:
            return LocalStorageError(
                f"Cannot write to {folder}: the local copy there is read-only. "
                "Make the folder and its files writable for you and try again."
            )
        if code in (SQLITE_CANTOPEN, SQLITE_PERM):
            return LocalStorageError(
                f"Cannot open the local copy in {folder} (unable to open the database file): "
                "check that the folder exists and is readable and writable for you."
            )
        return LocalStorageError(
            f"The local copy in {folder} is busy: another Galileio Desktop window or command has "
            f"held it for over {BUSY_TIMEOUT_MS // 1000} s. Try again in a moment."
        )

    def next_seq(self, conn: sqlite3.Connection) -> int:
        """A new value of the mirror's change counter (inside a write transaction)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        value = int(row[0]) + 1 if row else 1
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seq', ?)", (str(value),))
        return value

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            finally:
                if not self._closed:
                    self._closed = True
                    with _open_lock:
                        left = _open_count.get(self._key, 1) - 1
                        if left > 0:
                            _open_count[self._key] = left
                        else:
                            _open_count.pop(self._key, None)
                self._secure_side_files()
