"""What the workers tell the window reaches it in order, a few milliseconds of handlers a
turn of the event loop, with frames between; and a slice of work a turn lets a frame that
fell due during the paint it asked for run before the next slice."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QWidget
from ui_helpers import run_op, running_client, seed_library

from galileio_desktop.ui.sidebar.chat_ops import all_chats_op
from galileio_desktop.ui.turn_timer import TurnTimer
from galileio_desktop.ui.workers.events import LibraryEvents
from galileio_desktop.ui.workers.operation import LibraryOp
from galileio_desktop.ui.workers.paced_delivery import TURN_BUDGET_S, PacedDelivery

pytestmark = pytest.mark.gui

PAINT_S = 0.008
TICK_MS = 5


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class _SlowPaint(QWidget):
    """A widget whose paint takes :data:`PAINT_S` (a long list's first paint)."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def paintEvent(self, event: QPaintEvent) -> None:
        _busy(PAINT_S)
        self.log.append("paint")


@pytest.fixture
def painted(qtbot) -> tuple[_SlowPaint, list[str]]:
    log: list[str] = []
    widget = _SlowPaint(log)
    qtbot.addWidget(widget)
    widget.resize(200, 100)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: "paint" in log, timeout=5000)
    log.clear()
    return widget, log


def _ticking(log: list[str]) -> QTimer:
    """A 5 ms timer (a frame's), logging each tick."""
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(TICK_MS)
    tick.timeout.connect(lambda: log.append("tick"))
    tick.start()
    return tick


def test_a_burst_from_a_worker_arrives_in_order_a_budget_a_turn(qtbot) -> None:
    """Twelve results sent at once from a worker thread, each handled in 1 ms: they arrive
    in the order sent, and a 0 ms timer runs between every two or three of them (a 2 ms
    budget a turn, the one that crosses it included), never after all twelve."""
    events = LibraryEvents()
    ticks = 0
    arrived: list[tuple[int, int]] = []

    def on_progress(_what: str, done: int, _total: int) -> None:
        _busy(0.001)
        arrived.append((done, ticks))

    def on_tick() -> None:
        nonlocal ticks
        ticks += 1

    events.sig_sync_progress.connect(on_progress)
    observer = QTimer()
    observer.setInterval(0)
    observer.timeout.connect(on_tick)
    worker = threading.Thread(
        target=lambda: [events.send(events.sig_sync_progress, "pull", n, 12) for n in range(12)]
    )
    worker.start()
    worker.join()  # all twelve are waiting before the GUI thread hands any on
    observer.start()
    qtbot.waitUntil(lambda: len(arrived) == 12, timeout=5000)
    observer.stop()
    assert [done for done, _ in arrived] == list(range(12))
    per_turn = [sum(1 for _, seen in arrived if seen == t) for t in {seen for _, seen in arrived}]
    assert max(per_turn) <= round(TURN_BUDGET_S * 1000) + 1, per_turn


def test_signals_of_every_kind_and_worker_keep_the_order_they_were_sent_in(qtbot) -> None:
    """One queue for all: a chat's page never overtakes the list it is in, whichever
    worker sent which, and a signal sent from the GUI thread waits its turn too."""
    events = LibraryEvents()
    seen: list[str] = []
    events.sig_data_changed.connect(lambda: seen.append("data"))
    events.sig_chat_changed.connect(lambda chat_id, _view: seen.append(f"chat {chat_id}"))
    events.sig_op_finished.connect(lambda op, _result, _failure: seen.append(f"op {op}"))

    def library() -> None:
        for n in range(5):
            events.send(events.sig_op_finished, n, None, None)
            events.send(events.sig_chat_changed, str(n), None)

    def sync() -> None:
        events.send(events.sig_data_changed)

    for work in (library, sync):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    events.send(events.sig_chat_changed, "gui", None)
    assert seen == []  # nothing is handed on inside send(), even in the GUI thread
    qtbot.waitUntil(lambda: len(seen) == 12, timeout=5000)
    expected = [x for n in range(5) for x in (f"op {n}", f"chat {n}")] + ["data", "chat gui"]
    assert seen == expected


def test_a_failing_handler_does_not_stop_the_ones_after_it(qtbot, caplog) -> None:
    delivery = PacedDelivery()
    seen: list[int] = []

    def fail() -> None:
        raise ValueError("a handler's bug")

    delivery.post(seen.append, 1)
    delivery.post(fail)
    delivery.post(seen.append, 2)
    qtbot.waitUntil(lambda: seen == [1, 2], timeout=5000)
    assert delivery.pending() == 0
    assert "a handler's bug" in caplog.text


def test_once_closed_calls_from_a_thread_that_outlived_the_window_go_nowhere(qtbot) -> None:
    """A worker thread let go at Quit carries on after its window, and the events object
    with its timer, were deleted: its messages are dropped, without touching Qt."""
    events = LibraryEvents()
    seen: list[object] = []
    pushes: list[int] = []
    events.sig_data_changed.connect(lambda: seen.append("before"))
    events.sig_push_wanted.connect(pushes.append)
    events.send(events.sig_data_changed)
    events.want_push(5)
    qtbot.waitUntil(lambda: seen == ["before"], timeout=5000)
    events.close()
    shiboken6.delete(events)  # the window's objects go; the let-go worker does not
    errors: list[BaseException] = []

    def let_go_worker() -> None:
        try:
            events.send(events.sig_data_changed)
            events.want_push(5)
        except BaseException as exc:  # noqa: BLE001 - the test looks at what was raised
            errors.append(exc)

    thread = threading.Thread(target=let_go_worker)
    thread.start()
    thread.join(5)
    assert errors == [] and seen == ["before"] and pushes == [5]


def test_a_frame_due_during_the_paint_a_turn_asked_for_runs_before_the_next_turn(
    qtbot, painted: tuple[_SlowPaint, list[str]]
) -> None:
    """A result whose handler asks for an 8 ms paint, then another: the 5 ms timer that fell
    due during the paint runs before the second result (a 0 ms timer started at the end of
    the first turn would fall due before it, and run first)."""
    widget, log = painted
    delivery = PacedDelivery(budget_s=0.0)  # a result a turn
    tick = _ticking(log)
    qtbot.wait(2 * TICK_MS)
    log.clear()

    def first() -> None:
        log.append("first")
        widget.update()

    delivery.post(first)
    delivery.post(log.append, "second")
    qtbot.waitUntil(lambda: "second" in log, timeout=5000)
    tick.stop()
    after_paint = log[log.index("paint") : log.index("second")]
    assert log.index("first") < log.index("paint") < log.index("second")
    assert "tick" in after_paint, log


def test_a_turn_timer_lets_a_frame_due_during_a_paint_run_before_the_next_slice(
    qtbot, painted: tuple[_SlowPaint, list[str]]
) -> None:
    """The row warmer's timer: a slice that asks for an 8 ms paint and plans the next slice;
    the 5 ms timer due by the end of the paint runs before that slice."""
    widget, log = painted
    slices: list[int] = []

    def one_slice() -> None:
        slices.append(len(slices))
        log.append(f"slice {len(slices)}")
        if len(slices) == 1:
            widget.update()
            turn.start()

    turn = TurnTimer(one_slice)
    tick = _ticking(log)
    qtbot.wait(2 * TICK_MS)
    log.clear()
    turn.start()
    assert turn.is_active()
    qtbot.waitUntil(lambda: len(slices) == 2, timeout=5000)
    tick.stop()
    assert not turn.is_active()
    assert log.index("slice 1") < log.index("paint") < log.index("slice 2")
    assert "tick" in log[log.index("paint") : log.index("slice 2")], log


def test_a_turn_timer_started_again_while_a_call_is_planned_calls_once(qtbot) -> None:
    called: list[int] = []
    turn = TurnTimer(lambda: called.append(1))
    turn.start()
    turn.start()  # its arming event is on its way
    QCoreApplication.sendPostedEvents(turn)  # armed: its 0 ms timer runs
    turn.start()
    qtbot.wait(50)
    assert called == [1] and not turn.is_active()


def test_a_stopped_turn_timer_calls_nothing(qtbot) -> None:
    called: list[int] = []
    turn = TurnTimer(lambda: called.append(1))
    turn.start()
    turn.stop()
    qtbot.wait(50)
    assert called == [] and not turn.is_active()


def test_what_a_worker_said_before_a_shutdown_still_arrives(qtbot, tmp_path: Path) -> None:
    """Closing the window waits for the workers; what they said meanwhile (a renamed chat)
    still reaches the views, in order, and no operation's handler is called any more."""
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=2)
    client = running_client(qtbot, mirror)
    try:
        chat_id = run_op(qtbot, all_chats_op(), client.local)[0].chat.chat_id
        changed: list[Any] = []
        handled: list[Any] = []
        client.events.sig_chat_changed.connect(lambda cid, view: changed.append((cid, view.chat.title)))
        for title in ("First", "Second"):
            LibraryOp(lambda lib, title=title: lib.rename_chat(chat_id, title)).touching(chat_id).success(
                handled.append
            ).run_in(client.local)
    finally:
        client.shutdown()  # the renames were queued before: they run before the library closes
    qtbot.waitUntil(lambda: len(changed) == 2, timeout=5000)
    assert changed == [(chat_id, "First"), (chat_id, "Second")]
    qtbot.wait(20)
    assert handled == []
