"""Real small or read-only file systems for the tests of a failing local disk.

A tmpfs of a few megabytes is mounted (root can, as on CI) and unmounted when the test
ends; filling it gives SQLite a real "database or disk is full". Where mounting is not
possible the test is skipped with the reason, except under CI (``CI=true``), where it
fails: the real-disk variant must run there.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DISK_SIZE = "4m"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _mount(*args: str) -> str | None:
    """Run mount/umount; None when it worked, else why not."""
    if sys.platform != "linux":
        return "tmpfs mounts need Linux"
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr.strip() or f"{args[0]} exited {done.returncode}")


def unavailable(reason: str) -> None:
    message = f"cannot mount a small file system here ({reason})"
    if in_ci():
        pytest.fail(f"CI must run the real-disk tests, but {message}", pytrace=False)
    pytest.skip(message)


@contextmanager
def tmpfs(mount_point: Path, size: str = DISK_SIZE) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` at ``mount_point``, unmounted afterwards."""
    mount_point.mkdir(parents=True, exist_ok=True)
    reason = _mount("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point))
    if reason is not None:
        unavailable(reason)
    try:
        yield mount_point
    finally:
        if _mount("umount", str(mount_point)) is not None:
            _mount("umount", "-l", str(mount_point))


def remount_read_only(mount_point: Path) -> None:
    reason = _mount("mount", "-o", "remount,ro", str(mount_point))
    if reason is not None:
        unavailable(reason)


def fill(folder: Path) -> Path:
    """Fill the file system holding ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler
