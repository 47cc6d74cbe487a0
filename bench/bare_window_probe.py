"""The start-up and memory baseline: a bare ``QMainWindow`` shown and painted, in a fresh process.

    python -c "import sys, bare_window_probe; sys.exit(bare_window_probe.main(sys.argv[1:]))" bare-start

``bare-start``: the moment of its first paint (``time.monotonic()``, comparable with
the parent's clock on Linux) and the process's CPU time then; ``bare-memory``: VmRSS
and VmHWM once it is painted and has settled. One JSON line on stdout.

A module, not a script, and it imports nothing but what it reports with: Python reads
it from its cached byte code as it does an installed app's modules, so the bare window
pays for its measurement the few instructions the app's and the floor's probes pay,
not the compiling of a big script's source (which alone took about a twelfth of a bare
window's start).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from probe_output import emit, memory_status

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SETTLE_MS = 500
DEADLINE_MS = 600_000


def run_bare(memory: bool) -> int:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    result: dict[str, Any] = {}

    def report() -> None:
        result["painted"] = result.get("painted") or time.monotonic()
        if memory:
            QTimer.singleShot(SETTLE_MS, finish)
        else:
            finish()

    def finish() -> None:
        if memory:
            result.update(memory_status())
        result["boto3_loaded"] = "boto3" in sys.modules
        emit(result)
        app.exit(0)

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and "painted" not in result:
                result["painted"] = time.monotonic()
                result["cpu_s_at_paint"] = round(time.process_time(), 4)
                QTimer.singleShot(0, report)
            return False

    watch = PaintWatch()
    window.installEventFilter(watch)
    window.show()
    QTimer.singleShot(DEADLINE_MS, lambda: app.exit(3))
    return int(app.exec())


def main(argv: list[str]) -> int:
    """``argv``: the mode, ``bare-start`` or ``bare-memory``."""
    mode = argv[0] if argv else "bare-start"
    if mode not in ("bare-start", "bare-memory"):
        raise SystemExit(f"unknown mode {mode!r}: bare-start or bare-memory")
    return run_bare(mode == "bare-memory")
