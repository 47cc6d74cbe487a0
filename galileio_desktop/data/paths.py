"""Where the app keeps its files: platformdirs folders, or one folder given by ``--data-dir``.

Every folder the app creates is 0700 and every file 0600: the mirror holds the user's
chats. A folder that cannot be created or written raises :class:`FolderUnusable`, which
names the folder in words a person understands.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import NamedTuple

from .errors import LocalStorageError

APP_NAME = "galileio-desktop"

_DENIED = (errno.EACCES, errno.EPERM)
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class AppPaths(NamedTuple):
    """The config, data and log folders of the app (a named tuple, not a frozen dataclass:
    every start defines it, see :class:`~galileio_desktop.data.mirror.codec.ItemKey`)."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
        """``data_dir`` (or ``GALILEIO_DATA_DIR``) replaces every platformdirs folder."""
        root = data_dir or os.environ.get("GALILEIO_DATA_DIR")
        if root:
            base = Path(root).expanduser().absolute()
            return cls(base / "config", base / "data", base / "logs")
        import platformdirs  # here: a given folder (and the mirror's code) does without it

        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )


class FolderUnusable(LocalStorageError, OSError):
    """A folder of the app cannot be created or written.

    Also an :class:`OSError` (with the original ``errno`` and ``filename``), so code that
    handles a failed file operation keeps doing so; everywhere else it is an expected
    failure whose message names the folder.
    """

    @classmethod
    def of(cls, exc: OSError, folder: Path) -> FolderUnusable:
        if isinstance(exc, FolderUnusable):
            return exc
        error = cls(folder_problem(exc, folder))
        error.errno, error.strerror, error.filename = exc.errno, exc.strerror, exc.filename
        return error


def folder_problem(exc: OSError, folder: Path) -> str:
    """One line for the user on why ``folder`` could not be written, and what to do."""
    if exc.errno in _FULL:
        return f"The disk holding {folder} is full: nothing was saved. Free some space and try again."
    if exc.errno == errno.EROFS:
        return f"Cannot write to {folder}: it is on a read-only file system."
    if exc.errno in _DENIED:
        return f"Cannot write to {folder}: permission denied. Make the folder writable for you and try again."
    return f"Cannot write to {folder}: {exc.strerror or exc}."


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents, each 0700 (``mkdir``'s ``parents=True``
    would give the parents the umask's mode); a folder that already existed above
    ``path`` is left as it is."""
    missing: list[Path] = []
    here = path
    try:
        while not here.is_dir() and here != here.parent:
            missing.append(here)
            here = here.parent
    except OSError as exc:  # a folder above cannot be searched
        raise FolderUnusable.of(exc, here.parent) from exc
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():
                raise FolderUnusable.of(
                    FileExistsError(errno.EEXIST, "a file is in the way"), folder
                ) from None
        except OSError as exc:
            raise FolderUnusable.of(exc, folder.parent) from exc
        _chmod(folder, 0o700)
    _chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is readable by the owner only."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise FolderUnusable.of(exc, path.parent) from exc
    os.close(fd)
    _chmod(path, 0o600)
    return path


def _chmod(path: Path, mode: int) -> None:
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except OSError as exc:
        raise FolderUnusable.of(exc, path if path.is_dir() else path.parent) from exc
