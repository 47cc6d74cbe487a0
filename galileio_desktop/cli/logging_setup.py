"""Logging: warnings (or more with -v) on stderr, a rotating file in the log folder.

Set up once per run; a second run in the same process (tests, the window after the
CLI) replaces the handlers of the first instead of stacking them.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import TextIO

from ..data.paths import private_dir, private_file

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "galileio-desktop.log"


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now, not what it was at set-up."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_installed: list[logging.Handler] = []


def setup_logging(log_dir: Path, verbose: int = 0) -> None:
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    console = CurrentStderrHandler()
    console.setLevel(logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    _installed.append(console)
    try:
        private_dir(log_dir)
        path = private_file(log_dir / LOG_FILE)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        _installed.append(handler)
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file in %s: %s", log_dir, exc)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
