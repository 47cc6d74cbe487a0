"""A damaged mirror is set aside and replaced by a fresh one; its unsent changes are carried over.

The mirror is a copy of what DynamoDB holds plus the outbox of changes not sent yet. When
SQLite finds the file damaged (truncated, garbled, "database disk image is malformed",
"file is not a database"), the file and its ``-wal``/``-shm`` are renamed to
``<name>.corrupt-<time>`` (kept for a bug report or a manual rescue, never read again by
the app), the outbox rows that can still be read are copied into the fresh mirror, so no
offline write is lost, and the next sync brings everything else back from DynamoDB.

Damage found while opening is handled then. Damage found later (a page read for the first
time) is written down in a marker file beside the mirror and handled at the next opening,
and only when no other connection uses the file: moving a file that another window still
writes would lose that window's writes.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pins import PinChange
from . import outbox, overlay
from .damage import (  # noqa: F401 - the damage found, re-exported beside its recovery
    DAMAGE_WORDS,
    MirrorDamaged,
    damaged_message,
    is_damage,
    mark_damaged,
    marked_damage,
    marker_path,
)

log = logging.getLogger(__name__)

SIDE_SUFFIXES = ("-wal", "-shm")
LOCK_DEADLINE_S = 30.0
#: The bytes of the database file SQLite's connections lock (its SHARED range, on POSIX).
_SQLITE_SHARED_FIRST = 0x40000000 + 2
_SQLITE_SHARED_SIZE = 510

_OUTBOX_COLUMNS = (
    "op_id",
    "kind",
    "chat_id",
    "message_id",
    "payload",
    "created",
    "not_before",
    "attempts",
    "next_attempt",
    "state",
    "error",
    "error_kind",
    "doubt",
)
_SELECT_OUTBOX = f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM outbox ORDER BY op_id"


@dataclass(frozen=True)
class MirrorRecovery:
    """What happened to a damaged mirror when it was opened: for the user, in one line."""

    moved_to: Path
    #: SQLite's words for the damage.
    reason: str
    #: Queued changes read from the damaged file and queued again in the fresh one.
    kept: int
    #: False when some queued changes could not be read (they are lost).
    complete: bool

    @property
    def message(self) -> str:
        kept = f"{self.kept} queued change(s) were kept"
        if not self.complete:
            kept = (
                f"{kept}, others could not be read" if self.kept else "its queued changes could not be read"
            )
        return (
            f"The local copy was damaged; it was moved aside to {self.moved_to} and will be rebuilt "
            f"from DynamoDB at the next sync; {kept}."
        )


@dataclass
class Salvage:
    """Outbox rows read from a damaged file (column values in ``_OUTBOX_COLUMNS`` order)."""

    rows: list[tuple[Any, ...]]
    complete: bool


def still_damaged(path: Path) -> str | None:
    """Why ``path`` is damaged, or None when it opens (another process replaced it meanwhile)."""
    reason = marked_damage(path)
    if reason is not None or not path.exists():
        return reason
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc) if is_damage(exc) else None
    try:
        conn.execute("PRAGMA user_version").fetchone()
        conn.execute("SELECT value FROM meta WHERE key = 'user_id'").fetchone()
    except sqlite3.Error as exc:
        return str(exc) if is_damage(exc) else None
    finally:
        conn.close()
    return None


# -- setting the file aside -----------------------------------------------------------------


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """One process at a time recovers ``path`` (an OS lock on a file beside it)."""
    lock_path = path.with_name(path.name + ".recovery-lock")
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + LOCK_DEADLINE_S
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise MirrorDamaged(
                    f"The local copy {path} is damaged and another Galileio Desktop process is "
                    "repairing it; try again in a moment."
                )
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def in_use_elsewhere(path: Path) -> bool:
    """True when another process has the mirror open through SQLite (POSIX; on Windows
    the rename of a file another process holds fails instead).

    SQLite keeps a read lock on its SHARED range while a connection is open in WAL mode;
    a write lock there is refused as long as any other process holds one.
    """
    if sys.platform == "win32" or not path.exists():  # pragma: no cover - Windows
        return False
    import fcntl

    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, _SQLITE_SHARED_SIZE, _SQLITE_SHARED_FIRST)
    except OSError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock (no connection of this process has the file open)
    return False


def set_aside(path: Path, reason: str) -> Path:
    """Rename the damaged file (and its side files) to ``<name>.corrupt-<time>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while any(Path(f"{aside}{suffix}").exists() for suffix in ("", *SIDE_SUFFIXES)):
        number += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    # The side files first: a -wal left at the old name would be replayed onto the fresh
    # file; if the file itself cannot move, they are put back.
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in SIDE_SUFFIXES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{aside}{suffix}"))
                moved.append((side, Path(f"{aside}{suffix}")))
        os.replace(path, aside)
    except OSError:
        for side, target in moved:
            try:
                os.replace(target, side)
            except OSError as exc:
                log.warning("could not put %s back: %s", side.name, exc)
        raise
    try:
        marker_path(path).unlink()
    except FileNotFoundError:
        pass
    log.info("damaged mirror (%s) moved aside to %s", reason, aside.name)
    return aside


def put_back(path: Path, aside: Path, reason: str) -> None:
    """Undo :func:`set_aside` after the fresh file could not be made (a full disk): the
    damaged file, which still holds the queued changes, is tried again next time."""
    try:
        for suffix in ("", *SIDE_SUFFIXES):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for suffix in SIDE_SUFFIXES:
            if Path(f"{aside}{suffix}").exists():
                os.replace(Path(f"{aside}{suffix}"), Path(f"{path}{suffix}"))
        os.replace(aside, path)
    except OSError as exc:
        log.warning("could not put the damaged mirror back from %s: %s", aside.name, exc)
        return
    mark_damaged(path, reason)


def read_outbox(damaged: Path) -> Salvage:
    """The outbox rows that can still be read from a damaged file.

    A truncated file is read through a copy padded back to the size its header states (the
    pages that are there read as before; SQLite refuses a file shorter than its header says).
    Raises (``OSError``, ``sqlite3.Error``) when the disk, not the damage, stops the reading:
    the caller then keeps the damaged file for another try.
    """
    salvage = _read_rows(damaged)
    if salvage.complete or salvage.rows:
        return salvage
    padded = damaged.with_name(damaged.name + ".salvage")
    try:
        if not _padded_copy(damaged, padded):
            return salvage
        found = _read_rows(padded)
        return found if found.rows or found.complete else salvage
    finally:
        for suffix in ("", *SIDE_SUFFIXES):
            Path(f"{padded}{suffix}").unlink(missing_ok=True)


def _read_rows(db: Path) -> Salvage:
    """Rows from the start until the first unreadable page, then from the end back to it."""
    rows: dict[int, tuple[Any, ...]] = {}
    complete = True
    conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
    try:
        for order in ("", " DESC"):
            try:
                for row in conn.execute(_SELECT_OUTBOX + order):
                    rows.setdefault(int(row[0]), tuple(row))
                break
            except sqlite3.Error as exc:
                if not is_damage(exc) and "no such table" not in str(exc):
                    raise
                complete = False
                log.info("outbox of the damaged mirror partly unreadable: %s", exc)
            except (ValueError, TypeError) as exc:
                complete = False
                log.info("outbox of the damaged mirror partly unreadable: %s", exc)
    finally:
        conn.close()
    return Salvage([rows[k] for k in sorted(rows)], complete)


def _padded_copy(damaged: Path, copy: Path) -> bool:
    with open(damaged, "rb") as source:
        header = source.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    import shutil  # only when a damaged mirror is set aside

    shutil.copyfile(damaged, copy)
    wal = Path(f"{damaged}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    if copy.stat().st_size < page_size * pages:
        with open(copy, "r+b") as padded:
            padded.truncate(page_size * pages)
    return True


# -- the fresh mirror ---------------------------------------------------------------------------


def requeue(conn: sqlite3.Connection, salvage: Salvage) -> tuple[int, bool]:
    """Queue the salvaged operations again, as they were (ids, attempts, doubt), and show
    them; returns (how many, whether every row was usable). Inside a write transaction."""
    kept = 0
    usable = salvage.complete
    placeholders = ", ".join("?" for _ in _OUTBOX_COLUMNS)
    for row in salvage.rows:
        if not _usable(row):
            usable = False
            continue
        conn.execute(f"INSERT INTO outbox({', '.join(_OUTBOX_COLUMNS)}) VALUES ({placeholders})", row)
        op = outbox.get(conn, int(row[0]))
        if op is not None:
            overlay.refresh_for_op(conn, op)
        kept += 1
    return kept, usable


def _usable(row: tuple[Any, ...]) -> bool:
    values = dict(zip(_OUTBOX_COLUMNS, row, strict=True))
    try:
        payload = json.loads(values["payload"])
    except (TypeError, ValueError):
        return False
    if not isinstance(payload, dict) or values["kind"] not in outbox.KINDS:
        return False
    if values["state"] not in (outbox.PENDING, outbox.PARKED) or not isinstance(values["chat_id"], str):
        return False
    if values["kind"] in (outbox.CREATE_CHAT, outbox.PUT_MESSAGE) and not isinstance(
        payload.get("item"), dict
    ):
        return False
    if values["kind"] == outbox.PIN_CHAT:
        try:
            PinChange.from_payload(payload)
        except ValueError:
            return False
    numbers = ("op_id", "created", "not_before", "attempts", "next_attempt", "doubt")
    return all(isinstance(values[name], int) for name in numbers)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
