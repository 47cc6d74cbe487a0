"""How much room the app's local data takes: the data folder, and one account's local copy.

Walking a folder reads the disk (a large documents index takes a while), so callers
run :func:`measure` off the GUI thread. Removing an account's copy is
:meth:`~galileio_desktop.workspace.Workspace.delete_mirror`; nothing here touches
the server.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import LocalStorageError
from .mirror.database import MIRROR_FOLDER

#: The files SQLite keeps beside a mirror.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class LocalDataUsage:
    """Bytes on disk of the data folder in all, and of one account's local copy within it."""

    folder: Path
    folder_bytes: int
    account_bytes: int


def data_folder_of(mirror_path: Path) -> Path:
    """The data folder a mirror file lives in (mirrors sit in its ``mirrors`` folder)."""
    parent = Path(mirror_path).parent
    return parent.parent if parent.name == MIRROR_FOLDER else parent


def mirror_files(mirror_path: Path) -> list[Path]:
    """The mirror file and the side files SQLite keeps beside it."""
    path = Path(mirror_path)
    return [path, *(path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES)]


def measure(mirror_path: Path) -> LocalDataUsage:
    """Sizes of the data folder holding ``mirror_path`` and of that account's copy.

    Raises :class:`LocalStorageError` naming the folder when it cannot be read.
    """
    folder = data_folder_of(mirror_path)
    account = sum(_file_size(path) for path in mirror_files(mirror_path))
    return LocalDataUsage(folder, folder_size(folder), account)


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (links not followed; a missing folder is 0)."""
    total = 0
    pending = [Path(folder)]
    while pending:
        here = pending.pop()
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise LocalStorageError(_unreadable(here, exc)) from exc
    return total


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise LocalStorageError(_unreadable(path.parent, exc)) from exc


def _unreadable(folder: Path, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"Cannot read {folder}: permission denied. Make the folder readable for you and try again."
    return f"Cannot read {folder}: {exc.strerror or exc}."


def format_size(size: int) -> str:
    """A size as people read it: "0 bytes", "940 KB", "12.4 MB" (powers of 1000, like file managers)."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
