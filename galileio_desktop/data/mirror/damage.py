"""A damaged mirror found and written down: SQLite's words for damage, the marker file
left beside a mirror found damaged after opening, and the error the user is shown.

Apart from :mod:`.recovery` (setting the file aside and carrying its queued changes
over), which an opening imports only when the file is damaged: every opening looks for
the marker, few ever recover.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from ..errors import LocalStorageError

log = logging.getLogger(__name__)

#: SQLite's words for a damaged file (its result codes SQLITE_CORRUPT and SQLITE_NOTADB).
DAMAGE_WORDS = ("database disk image is malformed", "file is not a database", "malformed database schema")


class MirrorDamaged(LocalStorageError):
    """The mirror file is damaged: it is set aside and rebuilt the next time it is opened."""


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and any(w in str(exc) for w in DAMAGE_WORDS)


def damaged_message(path: Path, reason: str) -> str:
    return (
        f"The local copy {path} is damaged ({reason}). It will be moved aside and rebuilt from "
        "DynamoDB the next time it is opened (run the command again or restart the app); "
        "changes not sent yet are kept where they can be read."
    )


# -- the marker of damage found after opening ---------------------------------------------


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".damaged")


def mark_damaged(path: Path, reason: str) -> None:
    """Remember that ``path`` is damaged, for the next opening (best effort: the disk may fail too)."""
    try:
        fd = os.open(marker_path(path), os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as marker:
            marker.write(reason)
    except OSError as exc:
        log.info("could not record that %s is damaged: %s", path.name, exc)


def marked_damage(path: Path) -> str | None:
    """The reason recorded by :func:`mark_damaged`, or None."""
    try:
        return marker_path(path).read_text(encoding="utf-8", errors="replace").strip() or "damaged"
    except FileNotFoundError:
        return None
    except OSError:
        return "damaged"
