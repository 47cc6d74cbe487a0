"""The app's window on a cached mirror, offline, in a fresh process: start-up and memory.

    python -c "import sys, app_window_probe; sys.exit(app_window_probe.main(sys.argv[1:]))" \\
        app-start MIRROR USER SETTINGS

``app-start``: the moment of the first paint of the chat list with rows in it
(``time.monotonic()``, comparable with the parent's clock on Linux), the process's CPU
time then and the start's milestones (``t_*``); ``app-memory`` (a fifth argument, the
chat to open): VmRSS and VmHWM once the window shows that chat's newest page. One JSON
line on stdout.

A module, not a script, as the bare window's and the floor's probes are: Python reads
it from its cached byte code, as it does the app's own modules, so no side of the
start-up comparison pays for compiling a probe's source. It imports what the app's
window imports, in the order its entry point does (the data layer before Qt), and
nothing else but :mod:`probe_output`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from probe_output import emit, memory_status

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SETTLE_MS = 500
DEADLINE_MS = 600_000


def _offline_factory(mirror: Path, user_id: str) -> Any:
    def make() -> Any:
        from galileio_desktop.data.sync.library import ChatLibrary

        return ChatLibrary(mirror, user_id, None)

    return make


def run_app(mode: str, mirror: Path, user: str, settings: Path, chat: str = "") -> int:
    """``app-start`` or ``app-memory`` (with ``chat``, the chat to open)."""
    result: dict[str, Any] = {"t_main": time.monotonic()}
    from galileio_desktop.ui.qt_free_first import import_library

    import_library()  # as the app's entry point does (desktop.launch), before Qt
    from PySide6.QtCore import QEvent, QObject, QTimer

    from galileio_desktop.ui import qt_log
    from galileio_desktop.ui.app_window import build_window, ensure_application

    result["t_imported"] = time.monotonic()
    app = ensure_application(icon=False)  # as the app's window path does (the window sets it later)
    qt_log.install()
    window = build_window(
        _offline_factory(mirror, user),
        None,
        "bench",
        settings,
        restore_layout=False,
        start=True,  # as the app starts it (run_window, the account switcher)
    )
    window.resize(1280, 800)
    result["t_built"] = time.monotonic()
    view = window.sidebar.list_view

    def painted() -> None:
        result["boto3_loaded_at_paint"] = "boto3" in sys.modules
        result["chats_listed"] = window.sidebar.model.chat_count()
        if mode == "app-start":
            finish()
        elif chat:
            window.pane.sig_messages_shown.connect(on_shown)
            if not window.sidebar.select_chat(chat):
                result["error"] = "chat not listed"
                finish()
            elif window.pane.chat_id == chat and window.pane.view.model().rowCount() > 0:
                on_shown(chat)  # selected on load and shown before this ran

    def on_shown(chat_id: str) -> None:
        if chat_id == chat and "shown" not in result:
            result["shown"] = time.monotonic()
            settle_then_finish()

    def settle_then_finish() -> None:
        """Memory is read once the chat is shown and the whole list is in (it comes a
        page at a time after the first screen), and a moment has passed."""
        if "shown" in result and "t_whole_list" in result and "settling" not in result:
            result["settling"] = True
            QTimer.singleShot(SETTLE_MS, finish)

    def finish() -> None:
        if mode == "app-memory":
            result.update(memory_status())
            result["rows_in_pane"] = window.pane.view.model().rowCount()
            result["chats_listed_at_end"] = window.sidebar.model.chat_count()
        emit(result)
        window.close()
        app.exit(0)

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if (
                event.type() == QEvent.Type.Paint
                and "painted" not in result
                and window.sidebar.model.chat_count() > 0
            ):
                result["painted"] = result["t_painted"] = time.monotonic()
                result["cpu_s_at_paint"] = round(time.process_time(), 4)
                QTimer.singleShot(0, painted)
            return False

    def on_chats_loaded() -> None:
        result.setdefault("t_chats_loaded", time.monotonic())
        sidebar = window.sidebar
        if not sidebar.reading and not sidebar._rest_wanted and "t_whole_list" not in result:
            result["t_whole_list"] = time.monotonic()
            settle_then_finish()

    window.sidebar.sig_list_loaded.connect(on_chats_loaded)
    watch = PaintWatch()
    view.viewport().installEventFilter(watch)
    window.show()
    result["t_shown"] = time.monotonic()
    QTimer.singleShot(DEADLINE_MS, lambda: (emit({"error": "deadline", **result}), app.exit(3)))
    return exec_as_the_app(app)


def exec_as_the_app(app: Any) -> int:
    """Run ``app``'s event loop, and end as the app ends (``desktop.launch``): a worker
    thread let go at the window's close is waited for, never torn down (Qt's abort)."""
    code = int(app.exec())
    from galileio_desktop.ui.workers.thread_stop import end_process_if_stuck

    end_process_if_stuck(code)
    return code


def main(argv: list[str]) -> int:
    """``argv``: the mode (``app-start`` or ``app-memory``), the mirror file, the user id of
    the mirror, the folder for the window's settings and, for ``app-memory``, the chat."""
    if len(argv) not in (4, 5) or argv[0] not in ("app-start", "app-memory"):
        raise SystemExit("usage: app-start|app-memory MIRROR USER SETTINGS [CHAT]")
    mode, mirror, user, settings = argv[:4]
    return run_app(mode, Path(mirror), user, Path(settings), argv[4] if len(argv) == 5 else "")
