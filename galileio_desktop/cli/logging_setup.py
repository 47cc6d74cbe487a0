"""Logging: warnings (or more with -v) on stderr, a rotating file in the log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from ..data.paths import private_dir, private_file

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, verbose: int = 0) -> None:
    root = logging.getLogger()
    if getattr(root, "_galileio_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    try:
        private_dir(log_dir)
        path = private_file(log_dir / "galileio-desktop.log")
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file in %s: %s", log_dir, exc)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._galileio_configured = True  # type: ignore[attr-defined]
