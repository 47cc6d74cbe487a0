"""The mirror's SQLite file: private permissions, WAL, migrations, one lock per handle.

One file per account (see :func:`mirror_path_for`), created 0600 in a 0700 folder before
SQLite touches it; SQLite gives its ``-wal`` and ``-shm`` files the same mode. Several
handles (the window's connections, a CLI process) may open a new file at the same
moment: switching it to WAL and migrating it are both safe to race. The
connection is shared by the threads of one process under a re-entrant lock, so a
read never sees half a write of this process; other processes are kept apart by
SQLite's own locking (WAL: readers never wait for the writer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import GalileioError
from ..paths import private_dir, private_file
from .migrations import migrate

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
MIRROR_FOLDER = "mirrors"


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
    identity = [user_id, table, endpoint_url or ""]
    if region:
        identity.append(region)
    digest = hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()[:32]
    return Path(data_dir) / MIRROR_FOLDER / f"{digest}.sqlite3"


class Mirror:
    """An open mirror file of one user."""

    def __init__(self, path: Path, user_id: str) -> None:
        if not user_id:
            raise ValueError("a user id is required")
        self.path = Path(path)
        self.user_id = user_id
        self._lock = threading.RLock()
        private_dir(self.path.parent)
        private_file(self.path)
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
        self._secure_side_files()

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
            if side.exists() and (side.stat().st_mode & 0o077):
                os.chmod(side, 0o600)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error).

        Nested use joins the outer transaction.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read: one snapshot for everything read inside the block."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def next_seq(self, conn: sqlite3.Connection) -> int:
        """A new value of the mirror's change counter (inside a write transaction)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        value = int(row[0]) + 1 if row else 1
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seq', ?)", (str(value),))
        return value

    def current_seq(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            finally:
                self._secure_side_files()
