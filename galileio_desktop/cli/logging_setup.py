"""Logging: warnings (or more with -v) on stderr, a rotating file in the log folder.

Set up once per run; a second run in the same process (tests, the window after the
CLI) replaces the handlers of the first instead of stacking them. The log file is a
help for bug reports, never a reason to fail: a log folder that cannot be written, or a
disk that fills up, costs log lines, not a traceback on the user's terminal.
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


class LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file; a record it cannot write (a full disk, a folder gone
    read-only) is dropped instead of printing logging's traceback on stderr."""

    #: Records (and flushes) that could not be written.
    dropped: int = 0

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.dropped += 1

    def flush(self) -> None:
        try:
            super().flush()
        except OSError:
            self.dropped += 1


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
        handler = LogFile(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        _installed.append(handler)
    except OSError as exc:
        # Only with -v: a command's own error (the same folder, often) says what matters.
        logging.getLogger(__name__).info("no log file: %s", exc)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
