"""One pusher per mirror across processes (the window and the CLI may run together).

Two pushers draining the same outbox would break the per-chat order. An OS file lock
is released by the kernel when its process dies, so a killed pusher never blocks the
next one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..paths import private_file


@contextmanager
def push_lock(mirror_path: Path) -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another one pushes."""
    path = private_file(mirror_path.with_name(mirror_path.name + ".push-lock"))
    fd = os.open(path, os.O_RDWR)
    try:
        if not _try_lock(fd):
            yield False
            return
        try:
            yield True
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


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
