"""What a window probe reports: one JSON line on stdout, and its process's memory.

Imported by every probe's process (the bare window's too), so it imports nothing
a bare ``QMainWindow`` would not need besides :mod:`json`.
"""

from __future__ import annotations

import json
from typing import Any


def emit(data: dict[str, Any]) -> None:
    """Print the probe's figures as the one JSON line its parent reads."""
    print(json.dumps(data), flush=True)


def memory_status() -> dict[str, int]:
    """VmRSS and VmHWM in kB."""
    values: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values
