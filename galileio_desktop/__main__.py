"""``python -m galileio_desktop``."""

from __future__ import annotations

from .app import main

raise SystemExit(main())
