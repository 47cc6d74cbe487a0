"""Where the app keeps its files: platformdirs folders, or one folder given by ``--data-dir``.

Folders are created 0700 and files 0600: the mirror holds the user's chats.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "galileio-desktop"


@dataclass(frozen=True)
class AppPaths:
    """The config, data and log folders of the app."""

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


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is readable by the owner only."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
