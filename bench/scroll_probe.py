"""The scroll benchmark's child process: one long chat scrolled from bottom to top.

    python bench/scroll_probe.py app --mirror FILE --user ID --settings DIR --chat ID
    python bench/scroll_probe.py bare --texts FILE --viewport WxH

``app``: the app's window (offscreen, offline, on a cached mirror) opens the chat at its
newest page; ``bare``: a plain ``QListView`` with a ``QStringListModel`` of the same
messages' raw text, sized like the app's message list, at its bottom. Then, the way a
user scrolls, a 60 Hz timer moves the view up one scroll step (480 px) a frame, the
app's pane loading older pages as it asks for them, until the first message is on
screen. Measured: the longest event-loop gap (a 5 ms timer, as the stall probe has it),
frames achieved and paints of the list's viewport per second, and the time to the top.
One JSON line on stdout. ``--profile``: cProfile of the GUI thread while it scrolls,
and stacks of every thread during gaps over 30 ms.
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

from app_window_probe import exec_as_the_app  # noqa: E402
from gui_probe import SETTLE_MS, StallMeter, StallWatch, _offline_factory, emit  # noqa: E402

FRAME_MS = 16
#: A quick flick of the wheel a frame (about 1.5 screens a second at 60 Hz... times four):
#: fast enough that a 10,000-message chat is crossed in about a minute, and the pane has
#: to bring in older pages while frames keep coming.
STEP_PX = 480
#: A frame later than this missed at least one refresh of a 60 Hz screen.
LATE_FRAME_MS = 2 * FRAME_MS + 1
PROFILE_ROWS = 30


class Scroller:
    """Moves a view up one step a frame until ``at_top()``; counts frames and paints."""

    def __init__(self, view: Any, at_top: Any, meter: StallMeter, finished: Any, limit_s: float) -> None:
        from PySide6.QtCore import QEvent, QObject, Qt, QTimer

        self.view = view
        self.at_top = at_top
        self.meter = meter
        self.finished = finished
        self.limit_s = limit_s
        self.frames: list[float] = []
        self.paints = 0
        self.started = 0.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_frame)
        self.profile: Any = None
        paint = QEvent.Type.Paint
        scroller = self

        class PaintCount(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
                if event.type() == paint and scroller.started:
                    scroller.paints += 1
                return False

        self._paint_count = PaintCount()
        view.viewport().installEventFilter(self._paint_count)

    def start(self, profile: bool) -> None:
        if profile:
            import cProfile

            self.profile = cProfile.Profile()
            self.profile.enable()
        self.meter.begin("scroll")
        self.started = time.perf_counter()
        self.timer.start()

    def _on_frame(self) -> None:
        now = time.perf_counter()
        self.frames.append(now)
        bar = self.view.verticalScrollBar()
        if self.at_top():
            self._stop(reached=True)
        elif now - self.started > self.limit_s:
            self._stop(reached=False)
        else:
            bar.setValue(bar.value() - STEP_PX)

    def _stop(self, reached: bool) -> None:
        self.timer.stop()
        elapsed = time.perf_counter() - self.started
        if self.profile is not None:
            self.profile.disable()
        stall = self.meter.end()
        gaps = [(b - a) * 1000 for a, b in zip(self.frames, self.frames[1:], strict=False)]
        gaps.sort()
        result = {
            "reached_top": reached,
            "time_to_top_s": round(elapsed, 3),
            "frames": len(self.frames),
            "frames_per_s": round(len(self.frames) / elapsed, 1) if elapsed else 0.0,
            "paints": self.paints,
            "paints_per_s": round(self.paints / elapsed, 1) if elapsed else 0.0,
            "frame_interval_p50_ms": round(gaps[len(gaps) // 2], 1) if gaps else None,
            "frame_interval_p95_ms": round(gaps[int(len(gaps) * 0.95)], 1) if gaps else None,
            "frames_late": sum(1 for g in gaps if g > LATE_FRAME_MS),
            "stall": stall,
        }
        if self.profile is not None:
            result["profile"] = profile_rows(self.profile)
        self.finished(result)


def profile_rows(profile: Any) -> dict[str, list[str]]:
    """The top functions by own time and by cumulative time, as short lines."""
    import pstats

    stats = pstats.Stats(profile)
    entries = stats.stats  # type: ignore[attr-defined]

    def line(key: tuple[str, int, str], value: tuple[Any, ...]) -> str:
        _cc, calls, own, cumulative, _callers = value
        where = f"{Path(key[0]).name}:{key[1]}" if key[0] != "~" else "built-in"
        return f"{own * 1000:8.0f} ms own {cumulative * 1000:8.0f} ms cum {calls:7d}x {where} {key[2]}"

    by_own = sorted(entries.items(), key=lambda kv: -kv[1][2])[:PROFILE_ROWS]
    by_cum = sorted(entries.items(), key=lambda kv: -kv[1][3])[:PROFILE_ROWS]
    return {
        "by_own_time": [line(k, v) for k, v in by_own],
        "by_cumulative_time": [line(k, v) for k, v in by_cum],
    }


def _finish(app: Any, window: Any, result: dict[str, Any], watch: StallWatch | None) -> Any:
    def done(scrolled: dict[str, Any]) -> None:
        result.update(scrolled)
        if watch is not None:
            watch.stop()
            result["stall_samples"] = watch.samples[:20]
        emit(result)
        window.close()
        app.exit(0)

    return done


# -- the app's message pane ------------------------------------------------------------------


def run_app(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QPoint, QTimer

    from galileio_desktop.ui import qt_log
    from galileio_desktop.ui.app_window import build_window, ensure_application

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
    pane = window.pane
    view = pane.view
    meter = StallMeter()
    watch = StallWatch(meter) if args.profile else None
    result: dict[str, Any] = {"older_pages_ms": []}

    def at_top() -> bool:
        if view.verticalScrollBar().value() > 0 or pane.model.has_older():
            return False
        first = view.indexAt(view.viewport().rect().topLeft() + QPoint(1, 1))
        return first.isValid() and first.row() == 0

    finished = _finish(app, window, result, watch)

    def on_scrolled(scrolled: dict[str, Any]) -> None:
        scrolled["rows_at_end"] = pane.model.rowCount()
        scrolled["content_px"] = view.verticalScrollBar().maximum() + view.viewport().height()
        finished(scrolled)

    scroller = Scroller(view, at_top, meter, on_scrolled, args.limit_s)
    prepend = pane._prepend_keeping_place

    def timed_prepend(*call: Any) -> None:  # how long each older page takes to go in
        began = time.perf_counter()
        prepend(*call)
        result["older_pages_ms"].append(round((time.perf_counter() - began) * 1000, 1))

    pane._prepend_keeping_place = timed_prepend  # type: ignore[method-assign]

    def on_listed() -> None:
        if "listed" in result:
            return
        result["listed"] = True
        if not window.sidebar.select_chat(args.chat):
            emit({"error": "chat not listed"})
            app.exit(3)

    def on_shown(chat_id: str) -> None:
        if chat_id == args.chat and "rows_at_open" not in result:
            result["rows_at_open"] = pane.model.rowCount()
            QTimer.singleShot(SETTLE_MS, begin)

    def begin() -> None:
        size = view.viewport().size()
        result["viewport"] = [size.width(), size.height()]
        result["messages"] = pane.model.total
        if watch is not None:
            watch.start()
        scroller.start(args.profile)

    pane.sig_messages_shown.connect(on_shown)
    window.sidebar.sig_list_loaded.connect(on_listed)
    window.show()
    QTimer.singleShot(
        int(args.limit_s * 1000) + 120_000, lambda: (emit({"error": "deadline", **result}), app.exit(3))
    )
    return exec_as_the_app(app)


# -- the bare list ---------------------------------------------------------------------------


def run_bare(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSize, QStringListModel, QTimer
    from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    app = QApplication(sys.argv[:1])
    view = QListView()
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    model = QStringListModel(texts)
    view.setModel(model)
    width, height = (int(n) for n in args.viewport.split("x"))
    meter = StallMeter()
    watch = StallWatch(meter) if args.profile else None
    result: dict[str, Any] = {"messages": len(texts)}
    scroller = Scroller(
        view,
        lambda: view.verticalScrollBar().value() <= 0,
        meter,
        _finish(app, view, result, watch),
        args.limit_s,
    )

    def begin() -> None:
        size = view.viewport().size()
        result["viewport"] = [size.width(), size.height()]
        result["content_px"] = view.verticalScrollBar().maximum() + size.height()
        if watch is not None:
            watch.start()
        scroller.start(args.profile)

    view.show()
    view.resize(view.size() + QSize(width, height) - view.viewport().size())  # the app's list's size
    view.scrollToBottom()
    QTimer.singleShot(SETTLE_MS, begin)
    QTimer.singleShot(
        int(args.limit_s * 1000) + 120_000, lambda: (emit({"error": "deadline", **result}), app.exit(3))
    )
    return int(app.exec())


def _exit_on_error(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    """An error in a slot ends the probe at once (Qt would carry on without it)."""
    import traceback

    traceback.print_exception(kind, error, trace)
    sys.stderr.flush()
    os._exit(4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one scroll measurement in a fresh process")
    parser.add_argument("mode", choices=["app", "bare"])
    parser.add_argument("--mirror", help="app: mirror file")
    parser.add_argument("--user", help="app: user id of the mirror")
    parser.add_argument("--settings", help="app: folder for the window's settings")
    parser.add_argument("--chat", help="app: the chat to scroll")
    parser.add_argument("--texts", help="bare: JSON list of the messages' raw text, oldest first")
    parser.add_argument("--viewport", default="900x700", help="bare: the list's viewport, WxH")
    parser.add_argument("--limit-s", type=float, default=900.0, help="give up scrolling after this long")
    parser.add_argument("--profile", action="store_true", help="cProfile the scroll; stacks during stalls")
    args = parser.parse_args(argv)
    sys.excepthook = _exit_on_error
    return run_app(args) if args.mode == "app" else run_bare(args)


if __name__ == "__main__":
    raise SystemExit(main())
