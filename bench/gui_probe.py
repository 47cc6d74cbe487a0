"""The window benchmarks' child process: one measurement per run, one JSON line on stdout.

Every GUI measurement runs in a fresh process (``QT_QPA_PLATFORM=offscreen``), so
imports, Qt start-up and memory are those of a real start, and the bare Qt window
baseline runs the same way. Modes:

- ``bare-start`` / ``app-start``: the moment of the first paint of a QMainWindow, or
  of the app's chat list with rows in it (``time.monotonic()``, comparable with the
  parent's clock on Linux); the start-up benchmark runs these through their modules
  (:mod:`bare_window_probe`, :mod:`app_window_probe`), not through this script;
- ``bare-memory`` / ``app-memory``: VmRSS and VmHWM (``/proc/self/status``) once the
  bare window is painted, or once the app's window shows a chosen chat's newest page;
- ``app-stall``: the longest gap between ticks of a 5 ms QTimer in the GUI thread
  while the window's sync worker does the first sync, then while it deletes a chat;
- ``app-interact``: the same meter, on a cached mirror and offline, while chats are
  opened one after another, a word is typed in the chat filter, and a query in the
  Ctrl+K search, a key every 180 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from app_window_probe import DEADLINE_MS, SETTLE_MS, _offline_factory, exec_as_the_app, run_app
from bare_window_probe import run_bare
from probe_output import emit

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


# -- the app's window, online ----------------------------------------------------------------


def _networked_factory(mirror: Path, user_id: str, endpoint: str, table: str) -> Any:
    def make() -> Any:
        from galileio_desktop.data.sync.library import ChatLibrary

        def gateway() -> Any:
            from galileio_desktop.data.aws_sessions import new_boto3_session
            from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
            from galileio_desktop.data.dynamo.gateway import ChatGateway
            from galileio_desktop.ui.app_window import WINDOW_NETWORK_THREADS

            session = new_boto3_session(
                aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
            )
            client = make_dynamodb_client("us-east-1", endpoint, session)
            return ChatGateway(client, table, user_id, max_workers=WINDOW_NETWORK_THREADS)

        return ChatLibrary(mirror, user_id, gateway)

    return make


# -- event-loop stalls -----------------------------------------------------------------------


class StallWatch:
    """With ``--diagnose``: a thread that, while the GUI thread has not ticked for a while,
    records where every thread is (the GUI thread waits for the GIL or runs slow code)."""

    def __init__(self, meter: StallMeter, threshold_ms: float = 12.0) -> None:
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
        while not self._stop.wait(0.002):
            late = time.perf_counter() - self.meter.last
            if not self.meter.phase or late < self.threshold or len(self.samples) >= 200:
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks = {}
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                summary = traceback.extract_stack(frame)[-10:]
                stacks[names.get(ident, str(ident)) + (" [GUI]" if ident == self.gui_ident else "")] = [
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in summary
                ]
            self.samples.append(
                {"phase": self.meter.phase, "late_ms": round(late * 1000, 1), "threads": stacks}
            )


class SlowCalls:
    """With ``--diagnose``: every call from Qt into Python in the GUI thread (a slot, an
    event handler, a delegate's paint) that took longer than ``threshold_ms``, with the
    phase and when, and its slowest direct callees (a profile hook: slows Python code)."""

    def __init__(self, meter: StallMeter, threshold_ms: float = 8.0) -> None:
        self.meter = meter
        self.threshold = threshold_ms / 1000.0
        self.found: list[list[Any]] = []
        self._stack: list[list[Any]] = []

    def start(self) -> None:
        sys.setprofile(self._hook)

    def stop(self) -> None:
        sys.setprofile(None)

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self._stack.append([frame, time.perf_counter(), {}, 0.0, ""])
        elif event == "return" and self._stack:
            entry = self._stack.pop()
            took = time.perf_counter() - entry[1]
            code = frame.f_code
            where = f"{Path(code.co_filename).name}:{code.co_firstlineno} {code.co_name}"
            if self._stack:
                parent = self._stack[-1]
                if len(self._stack) == 1 or took > self.threshold / 4:
                    callees = parent[2]
                    callees[where] = callees.get(where, 0.0) + took
                if took > parent[3]:  # the heaviest chain of calls below the parent
                    parent[3] = took
                    parent[4] = f"{round(took * 1000, 1)} {where}" + (" > " + entry[4] if entry[4] else "")
            elif took > self.threshold and len(self.found) < 300:
                top = sorted(entry[2].items(), key=lambda kv: -kv[1])[:4]
                self.found.append(
                    [
                        self.meter.phase,
                        round(entry[1] - self.meter.started, 3),
                        round(took * 1000, 1),
                        where,
                        [f"{round(t * 1000, 1)} {name}" for name, t in top],
                        entry[4],
                    ]
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
            "max_gap_busy_ms": 0.0,
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
        #: (gap, GUI thread on a CPU, GUI thread waiting for a CPU) in ms, and when the gap
        #: began (seconds into the phase), longest first
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
            ran, waited = (sched[0] - self.last_sched[0], sched[1] - self.last_sched[1])
            if ran > data["max_gap_busy_ms"]:
                # the GUI thread's own work in one gap, whatever the machine's load
                data["max_gap_busy_ms"] = round(ran, 2)
            if gap > 3 * TICK_MS:
                data["long_gaps"].append(
                    (round(gap, 1), round(ran, 1), round(waited, 1), round(self.last - self.started, 3))
                )
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
GC_TYPES: list[list[Any]] = []
GC_T0 = time.perf_counter()


def apply_experiment(name: str) -> None:
    """What-if knobs for diagnosing stalls; they change this child process only.

    ``switch1ms``: the interpreter hands the GIL over every 1 ms instead of 5 ms (the
    window's own setting since; ``switch250us``: every 0.25 ms instead).
    ``gclog``: record the collector's passes over 5 ms (generation, wall ms, CPU ms, thread).
    ``pages250``: reconcile queries ask for pages of 250 items (smaller JSON to parse at once).
    ``wholejson``: botocore's model files parsed by its own loader, each file in one
    ``json.loads`` call, as before sessions parsed them in pieces.
    """
    if name == "switch1ms":
        sys.setswitchinterval(0.001)
    elif name == "switch250us":
        from galileio_desktop.ui import app_window

        app_window.GIL_SWITCH_INTERVAL_S = 0.00025  # read by ensure_application
    elif name == "gclog":
        import gc
        import threading

        started: dict[str, float] = {}

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started["wall"], started["cpu"] = time.perf_counter(), time.thread_time()
                started["count"] = gc.get_count()
                if info["generation"] >= 1 and len(GC_TYPES) < 5:
                    from collections import Counter

                    young = gc.get_objects(generation=0) + gc.get_objects(generation=1)
                    kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in young)
                    GC_TYPES.append([len(young), kinds.most_common(12)])
                    del young
                    started["wall"], started["cpu"] = time.perf_counter(), time.thread_time()
                return
            wall = (time.perf_counter() - started["wall"]) * 1000
            if wall > 5:
                cpu = (time.thread_time() - started["cpu"]) * 1000
                GC_PAUSES.append(
                    [
                        info["generation"],
                        round(wall, 1),
                        round(cpu, 1),
                        threading.current_thread().name,
                        list(started["count"]),
                        info["collected"],
                        round(started["wall"] - GC_T0, 3),
                    ]
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
    elif name == "wholejson":
        from botocore.loaders import JSONFileLoader

        from galileio_desktop.data import aws_sessions

        aws_sessions.PiecewiseJSONFileLoader.load_file = (  # type: ignore[method-assign]
            lambda self, file_path: JSONFileLoader().load_file(file_path)
        )
    elif name:
        raise SystemExit(f"unknown experiment {name!r}")


def _after_first_paint(widget: Any, then: Any) -> None:
    """Call ``then`` in the event-loop turn after ``widget``'s first paint."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                widget.removeEventFilter(self)
                QTimer.singleShot(0, then)
            return False

    watch = FirstPaint(widget)
    widget.installEventFilter(watch)


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
    slow = SlowCalls(meter) if args.diagnose else None
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
        if GC_TYPES:
            result["gc_young_types"] = GC_TYPES
        if watch is not None:
            watch.stop()
            result["stall_samples"] = watch.samples
        if slow is not None:
            slow.stop()
            result["slow_calls"] = slow.found
        emit(result)
        window.close()
        app.exit(0)

    client.events.sig_sync_done.connect(on_sync_done)
    client.sig_failed.connect(on_failed)
    # The window's own first paint is start-up (measured by app-start). From there until
    # the sync worker starts, the window builds its other parts, a step a turn ("parts",
    # reported beside the first sync); the first sync's phase begins as the worker starts.
    start_background = client.start_background

    def begin_first_sync() -> None:
        result["parts"] = meter.end() if meter.phase == "parts" else {}
        meter.begin("first_sync")
        start_background()

    client.start_background = begin_first_sync  # type: ignore[method-assign]
    window.show()
    window.start()
    _after_first_paint(
        window,
        lambda: (meter.begin("parts"), watch.start() if watch else None, slow.start() if slow else None),
    )
    QTimer.singleShot(DEADLINE_MS, lambda: (emit({"error": "deadline", **result}), app.exit(3)))
    return exec_as_the_app(app)


#: Typing: one key this often (about 65 words a minute): slower than the filter's and the
#: search's pause for more keys, so every key runs a filter or a search, as it does for
#: most people.
KEY_INTERVAL_MS = 180


class Steps:
    """Runs the probe's steps one after another, each calling ``next()`` when done."""

    def __init__(self, steps: list[Any], finished: Any) -> None:
        self.steps = list(steps)
        self.finished = finished

    def next(self) -> None:
        from PySide6.QtCore import QTimer

        if self.steps:
            QTimer.singleShot(0, self.steps.pop(0))
        else:
            self.finished()


def run_interact(args: argparse.Namespace) -> int:
    """On a cached mirror, offline: open chats one after another, type in the chat
    filter, then type a query in the Ctrl+K search, a 5 ms timer measuring each phase."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    from galileio_desktop.ui import qt_log
    from galileio_desktop.ui.app_window import build_window, ensure_application

    for name in args.experiment or []:
        apply_experiment(name)
    app = ensure_application(icon=False)
    qt_log.install()
    window = build_window(
        _offline_factory(Path(args.mirror), args.user),
        None,
        "bench",
        Path(args.settings),
        restore_layout=False,
        start=True,
    )
    window.resize(1280, 800)
    meter = StallMeter(per_thread=args.diagnose)
    watch = StallWatch(meter) if args.diagnose else None
    slow = SlowCalls(meter) if args.diagnose else None
    result: dict[str, Any] = {"opened": []}
    chats = [c for c in (args.chat or []) if c]
    waiting: dict[str, Any] = {}

    def open_next() -> None:
        if not chats:
            QTimer.singleShot(SETTLE_MS, end_open)
            return
        chat_id = chats.pop(0)
        waiting["chat"] = chat_id
        waiting["began"] = time.perf_counter()
        if not window.sidebar.select_chat(chat_id):
            result.setdefault("errors", []).append(f"chat {chat_id} not listed")
            open_next()
        elif window.pane.chat_id == chat_id and window.pane.model.rowCount() > 0:
            on_shown(chat_id)  # it was open already (the first chat, selected on load)

    def on_shown(chat_id: str) -> None:
        if chat_id != waiting.get("chat"):
            return
        waiting["chat"] = ""
        result["opened"].append(
            [round((time.perf_counter() - waiting["began"]) * 1000, 1), window.pane.model.rowCount()]
        )
        QTimer.singleShot(SETTLE_MS, open_next)  # its older rows are measured meanwhile

    def begin_open() -> None:
        window.pane.sig_messages_shown.connect(on_shown)
        if watch is not None:
            watch.start()
        if slow is not None:
            slow.start()
        meter.begin("open")
        open_next()

    def end_open() -> None:
        result["open"] = meter.end()
        steps.next()

    def type_into(edit: Any, text: str, then: Any) -> None:
        edit.setFocus()
        letters = list(text)

        def key() -> None:
            if letters:
                QTest.keyClick(edit, letters.pop(0))
                QTimer.singleShot(KEY_INTERVAL_MS, key)
            else:
                then()

        key()

    def begin_filter() -> None:
        meter.begin("filter")
        edit = window.sidebar.filter_edit
        type_into(edit, args.filter_text, lambda: QTimer.singleShot(SETTLE_MS, end_filter))

    def end_filter() -> None:
        result["filter"] = meter.end()
        result["filter_shown"] = window.sidebar.model.shown_chat_count()
        QTest.keyClick(window.sidebar.filter_edit, Qt.Key.Key_Escape)
        window.sidebar.filter_edit.clear()
        steps.next()

    def begin_search() -> None:
        dialog = window.search_dialog  # built here if not yet (its first build is not typing)
        dialog.sig_results_shown.connect(on_results)
        QTimer.singleShot(SETTLE_MS, lambda: search_typing(dialog))

    def search_typing(dialog: Any) -> None:
        meter.begin("search")
        window.open_search()
        type_into(dialog.query_edit, args.search_text, lambda: None)

    def on_results(count: int) -> None:
        result.setdefault("search_results", []).append(count)
        dialog = window.search_dialog
        if dialog.query_edit.text() == args.search_text and "search" not in result:
            QTimer.singleShot(SETTLE_MS, end_search)

    def end_search() -> None:
        result["search"] = meter.end()
        window.search_dialog.reject()
        steps.next()

    def finish() -> None:
        if watch is not None:
            watch.stop()
            result["stall_samples"] = watch.samples
        if slow is not None:
            slow.stop()
            result["slow_calls"] = slow.found
        emit(result)
        window.close()
        # The result is out: a search still running in the library's thread must not
        # turn the process's end into an abort.
        os._exit(0)

    steps = Steps([begin_filter, begin_search], finish)

    def on_listed() -> None:
        if "listed" in result:
            return
        result["listed"] = True
        QTimer.singleShot(SETTLE_MS, begin_open)

    window.sidebar.sig_list_loaded.connect(on_listed)
    window.show()
    QTimer.singleShot(DEADLINE_MS, lambda: (emit({"error": "deadline", **result}), app.exit(3)))
    return int(app.exec())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one GUI measurement in a fresh process")
    parser.add_argument(
        "mode", choices=["bare-start", "bare-memory", "app-start", "app-memory", "app-stall", "app-interact"]
    )
    parser.add_argument("--mirror", help="mirror file")
    parser.add_argument("--user", help="user id of the mirror")
    parser.add_argument("--settings", help="folder for the window's settings")
    parser.add_argument(
        "--chat",
        action="append",
        help="app-memory: the chat to open; app-interact: the chats to open, in turn",
    )
    parser.add_argument("--filter-text", default="", help="app-interact: typed in the chat filter")
    parser.add_argument("--search-text", default="", help="app-interact: typed in the Ctrl+K search")
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
    if args.mode == "app-interact":
        return run_interact(args)
    return run_app(args.mode, Path(args.mirror), args.user, Path(args.settings), (args.chat or [""])[0])


if __name__ == "__main__":
    raise SystemExit(main())
