"""The window benchmarks' child process: one measurement per run, one JSON line on stdout.

Every GUI measurement runs in a fresh process (``QT_QPA_PLATFORM=offscreen``), so
imports, Qt start-up and memory are those of a real start, and the bare Qt window
baseline runs the same way. Modes:

- ``bare-start`` / ``app-start``: the moment of the first paint of a QMainWindow, or
  of the app's chat list with rows in it (``time.monotonic()``, comparable with the
  parent's clock on Linux);
- ``bare-memory`` / ``app-memory``: VmRSS and VmHWM (``/proc/self/status``) once the
  bare window is painted, or once the app's window shows a chosen chat's newest page;
- ``app-stall``: the longest gap between ticks of a 5 ms QTimer in the GUI thread
  while the window's sync worker does the first sync, then while it deletes a chat.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SETTLE_MS = 500
DEADLINE_MS = 600_000
TICK_MS = 5


def emit(data: dict[str, Any]) -> None:
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


# -- bare window -----------------------------------------------------------------------------


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


# -- the app's window ------------------------------------------------------------------------


def _offline_factory(mirror: Path, user_id: str) -> Any:
    def make() -> Any:
        from galileio_desktop.data.sync.library import ChatLibrary

        return ChatLibrary(mirror, user_id, None)

    return make


def _networked_factory(mirror: Path, user_id: str, endpoint: str, table: str) -> Any:
    def make() -> Any:
        from galileio_desktop.data.sync.library import ChatLibrary

        def gateway() -> Any:
            import boto3

            from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
            from galileio_desktop.data.dynamo.gateway import ChatGateway
            from galileio_desktop.ui.app_window import WINDOW_NETWORK_THREADS

            session = boto3.Session(
                aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
            )
            client = make_dynamodb_client("us-east-1", endpoint, session)
            return ChatGateway(client, table, user_id, max_workers=WINDOW_NETWORK_THREADS)

        return ChatLibrary(mirror, user_id, gateway)

    return make


def run_app(args: argparse.Namespace) -> int:
    result: dict[str, Any] = {"t_main": time.monotonic()}
    from PySide6.QtCore import QEvent, QObject, QTimer

    from galileio_desktop.ui import qt_log
    from galileio_desktop.ui.app_window import build_window, ensure_application

    result["t_imported"] = time.monotonic()
    app = ensure_application(icon=False)  # as the app's window path does (the window sets it later)
    qt_log.install()
    window = build_window(
        _offline_factory(Path(args.mirror), args.user),
        None,
        "bench",
        Path(args.settings),
        restore_layout=False,
        start=True,  # as the app starts it (run_window, the account switcher)
    )
    window.resize(1280, 800)
    result["t_built"] = time.monotonic()
    view = window.sidebar.list_view
    target_chat = args.chat or ""

    def painted() -> None:
        result["boto3_loaded_at_paint"] = "boto3" in sys.modules
        result["chats_listed"] = window.sidebar.model.chat_count()
        if args.mode == "app-start":
            finish()
        elif target_chat:
            window.pane.sig_messages_shown.connect(on_shown)
            if not window.sidebar.select_chat(target_chat):
                result["error"] = "chat not listed"
                finish()
            elif window.pane.chat_id == target_chat and window.pane.view.model().rowCount() > 0:
                on_shown(target_chat)  # selected on load and shown before this ran

    def on_shown(chat_id: str) -> None:
        if chat_id == target_chat and "shown" not in result:
            result["shown"] = time.monotonic()
            QTimer.singleShot(SETTLE_MS, finish)

    def finish() -> None:
        if args.mode == "app-memory":
            result.update(memory_status())
            result["rows_in_pane"] = window.pane.view.model().rowCount()
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

    window.sidebar.sig_list_loaded.connect(on_chats_loaded)
    watch = PaintWatch()
    view.viewport().installEventFilter(watch)
    window.show()
    result["t_shown"] = time.monotonic()
    QTimer.singleShot(DEADLINE_MS, lambda: (emit({"error": "deadline", **result}), app.exit(3)))
    return int(app.exec())


# -- event-loop stalls -----------------------------------------------------------------------


class StallWatch:
    """With ``--diagnose``: a thread that, while the GUI thread has not ticked for a while,
    records where every thread is (the GUI thread waits for the GIL or runs slow code)."""

    def __init__(self, meter: StallMeter, threshold_ms: float = 30.0) -> None:
        import threading

        self.meter = meter
        self.threshold = threshold_ms / 1000.0
        self.gui_ident = threading.get_ident()
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import threading
        import traceback

        names = {}
        while not self._stop.wait(0.01):
            late = time.perf_counter() - self.meter.last
            if not self.meter.phase or late < self.threshold or len(self.samples) >= 60:
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks = {}
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                summary = traceback.extract_stack(frame)[-4:]
                stacks[names.get(ident, str(ident)) + (" [GUI]" if ident == self.gui_ident else "")] = [
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in summary
                ]
            self.samples.append(
                {"phase": self.meter.phase, "late_ms": round(late * 1000, 1), "threads": stacks}
            )


class StallMeter:
    """The longest gap between ticks of a fast timer in the GUI thread, per phase.

    For each long gap it also records what the GUI thread did in it (Linux schedstat):
    the CPU time it used (close to the gap: its own work is slow) and the time it was
    ready to run but waited for a CPU (the machine is oversubscribed); the rest it was
    blocked, which for a Python thread is waiting for the GIL held by another thread.
    """

    def __init__(self, per_thread: bool = False) -> None:
        from PySide6.QtCore import Qt, QTimer

        #: With ``per_thread``, each long gap also records which threads ran in it.
        self.per_thread = per_thread
        self.last_threads: dict[int, tuple[float, float]] = {}
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_tick)
        self.phase = ""
        self.last = 0.0
        self.last_sched = (0.0, 0.0)
        self.started = 0.0
        self.phases: dict[str, dict[str, Any]] = {}

    def begin(self, phase: str) -> None:
        self.phase = phase
        self.last = self.started = time.perf_counter()
        self.last_sched = _schedstat()
        self.phases[phase] = {
            "max_gap_ms": 0.0,
            "ticks": 0,
            "long_gaps": [],
            "load_before": os.getloadavg()[0],
        }
        if not self.timer.isActive():
            self.timer.start()

    def end(self) -> dict[str, Any]:
        data = self.phases[self.phase]
        data["duration_s"] = round(time.perf_counter() - self.started, 3)
        data["load_after"] = os.getloadavg()[0]
        gaps = sorted(data.pop("long_gaps"), reverse=True)
        if "long_gaps_threads_ms" in data:
            data["long_gaps_threads_ms"] = sorted(data["long_gaps_threads_ms"], key=lambda g: -g[0])[:10]
        data["long_gaps_ms"] = [g[0] for g in gaps[:10]]
        #: (gap, GUI thread on a CPU, GUI thread waiting for a CPU) in ms, longest first
        data["long_gaps_gui_run_wait_ms"] = [list(g) for g in gaps[:10]]
        data["long_gaps_total_ms"] = round(sum(g[0] for g in gaps), 1)
        data["long_gaps_blocked_ms"] = round(sum(max(0.0, g[0] - g[1] - g[2]) for g in gaps), 1)
        data["long_gaps_cpu_wait_ms"] = round(sum(g[2] for g in gaps), 1)
        data["long_gaps_gui_busy_ms"] = round(sum(g[1] for g in gaps), 1)
        self.phase = ""
        return data

    def _on_tick(self) -> None:
        now = time.perf_counter()
        sched = _schedstat()
        threads = _threads_cpu_ms() if self.per_thread else {}
        if self.phase:
            gap = (now - self.last) * 1000.0
            data = self.phases[self.phase]
            data["ticks"] += 1
            data["max_gap_ms"] = max(data["max_gap_ms"], round(gap, 2))
            if gap > 3 * TICK_MS:
                ran, waited = (sched[0] - self.last_sched[0], sched[1] - self.last_sched[1])
                data["long_gaps"].append((round(gap, 1), round(ran, 1), round(waited, 1)))
                if threads and gap > 30:
                    # per thread: [ms on a CPU, ms ready but waiting for a CPU] during the gap
                    busy = {
                        name: [
                            round(ran - self.last_threads.get(tid, (ran, waited))[0], 1),
                            round(waited - self.last_threads.get(tid, (ran, waited))[1], 1),
                        ]
                        for tid, (name, ran, waited) in threads.items()
                    }
                    top = sorted(busy.items(), key=lambda x: -(x[1][0] + x[1][1]))[:6]
                    data.setdefault("long_gaps_threads_ms", []).append(
                        [round(gap, 1), {n: v for n, v in top if v[0] + v[1] >= 1}]
                    )
        self.last = now
        self.last_sched = sched
        self.last_threads = {tid: (ran, waited) for tid, (_, ran, waited) in threads.items()}


def _threads_cpu_ms() -> dict[int, tuple[str, float, float]]:
    """Every thread of this process: native id -> (name, ms on a CPU, ms waiting for one)."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    found: dict[int, tuple[str, float, float]] = {}
    for entry in os.scandir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{entry.name}/schedstat", encoding="ascii") as handle:
                on_cpu, waiting, _ = handle.read().split()
            with open(f"/proc/self/task/{entry.name}/comm", encoding="ascii") as handle:
                comm = handle.read().strip()
        except (OSError, ValueError):
            continue
        tid = int(entry.name)
        found[tid] = (names.get(tid, comm), int(on_cpu) / 1e6, int(waiting) / 1e6)
    return found


def _schedstat() -> tuple[float, float]:
    """(ms on a CPU, ms waiting for a CPU) of the calling thread, from /proc."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as handle:
            on_cpu, waiting, _ = handle.read().split()
        return int(on_cpu) / 1e6, int(waiting) / 1e6
    except (OSError, ValueError):
        return time.thread_time() * 1000.0, 0.0


#: The ``gclog`` experiment's findings.
GC_PAUSES: list[list[Any]] = []


def apply_experiment(name: str) -> None:
    """What-if knobs for diagnosing stalls; they change this child process only.

    ``switch1ms``: the interpreter hands the GIL over every 1 ms instead of 5 ms.
    ``gclog``: record the collector's passes over 5 ms (generation, wall ms, CPU ms, thread).
    ``pages250``: reconcile queries ask for pages of 250 items (smaller JSON to parse at once).
    """
    if name == "switch1ms":
        sys.setswitchinterval(0.001)
    elif name == "gclog":
        import gc
        import threading

        started: dict[str, float] = {}

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started["wall"], started["cpu"] = time.perf_counter(), time.thread_time()
                return
            wall = (time.perf_counter() - started["wall"]) * 1000
            if wall > 5:
                cpu = (time.thread_time() - started["cpu"]) * 1000
                GC_PAUSES.append(
                    [info["generation"], round(wall, 1), round(cpu, 1), threading.current_thread().name]
                )

        gc.callbacks.append(on_gc)
    elif name == "pages250":
        from galileio_desktop.data.dynamo.gateway import ChatGateway

        original = ChatGateway._query_pages

        def smaller_pages(self: Any, what: str, **params: Any) -> Any:
            if what == "Reconciling":
                params.setdefault("Limit", 250)
            return original(self, what, **params)

        ChatGateway._query_pages = smaller_pages  # type: ignore[method-assign]
    elif name:
        raise SystemExit(f"unknown experiment {name!r}")


def run_stall(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QTimer

    for name in args.experiment or []:
        apply_experiment(name)

    from galileio_desktop.ui import qt_log
    from galileio_desktop.ui.app_window import build_window, ensure_application
    from galileio_desktop.ui.workers.operation import LibraryOp

    app = ensure_application(icon=False)
    qt_log.install()
    window = build_window(
        _networked_factory(Path(args.mirror), args.user, args.endpoint, args.table),
        None,
        "bench",
        Path(args.settings),
        sync_interval_ms=3_600_000,
        restore_layout=False,
    )
    window.resize(1280, 800)
    client = window.client
    meter = StallMeter(per_thread=args.diagnose)
    watch = StallWatch(meter) if args.diagnose else None
    result: dict[str, Any] = {}
    state: dict[str, Any] = {"phase": "first_sync"}

    def on_sync_done(sync_result: Any) -> None:
        if state["phase"] == "first_sync":
            state["phase"] = "settle1"
            result["first_sync_ok"] = sync_result is not None
            if sync_result is not None:
                result["first_sync_requests"] = sync_result.pull.requests
            QTimer.singleShot(SETTLE_MS, start_delete)
        elif state["phase"] == "delete-sync":
            state["phase"] = "settle2"
            result["delete_pushed"] = getattr(getattr(sync_result, "push", None), "pushed", 0)
            QTimer.singleShot(SETTLE_MS, finish)

    def start_delete() -> None:
        result["first_sync"] = meter.end()
        state["phase"] = "delete"
        meter.begin("delete")
        LibraryOp(lambda lib: lib.delete_chat(args.delete_chat), name="delete chat").success(
            on_delete_queued
        ).run_in(client.local)

    def on_delete_queued(_op_id: int) -> None:
        state["phase"] = "delete-sync"  # the next sync sends it (the timed one is an hour away)
        client.sync_now()

    def on_failed(failure: Any) -> None:
        result.setdefault("errors", []).append(failure.message)

    def finish() -> None:
        result["delete"] = meter.end()
        if GC_PAUSES:
            result["gc_pauses"] = GC_PAUSES
        if watch is not None:
            watch.stop()
            result["stall_samples"] = watch.samples
        emit(result)
        window.close()
        app.exit(0)

    client.events.sig_sync_done.connect(on_sync_done)
    client.sig_failed.connect(on_failed)
    meter.begin("first_sync")
    if watch is not None:
        watch.start()
    window.show()
    window.start()
    QTimer.singleShot(DEADLINE_MS, lambda: (emit({"error": "deadline", **result}), app.exit(3)))
    return int(app.exec())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one GUI measurement in a fresh process")
    parser.add_argument("mode", choices=["bare-start", "bare-memory", "app-start", "app-memory", "app-stall"])
    parser.add_argument("--mirror", help="mirror file")
    parser.add_argument("--user", help="user id of the mirror")
    parser.add_argument("--settings", help="folder for the window's settings")
    parser.add_argument("--chat", help="app-memory: the chat to open")
    parser.add_argument("--endpoint", help="app-stall: DynamoDB endpoint (the latency proxy)")
    parser.add_argument("--table", help="app-stall: table")
    parser.add_argument("--delete-chat", help="app-stall: the chat to delete after the first sync")
    parser.add_argument(
        "--diagnose", action="store_true", help="app-stall: record where threads are during stalls"
    )
    parser.add_argument(
        "--experiment", action="append", help="app-stall: a what-if knob (see apply_experiment)"
    )
    args = parser.parse_args(argv)
    if args.mode.startswith("bare"):
        return run_bare(args.mode == "bare-memory")
    if args.mode == "app-stall":
        return run_stall(args)
    return run_app(args)


if __name__ == "__main__":
    raise SystemExit(main())
