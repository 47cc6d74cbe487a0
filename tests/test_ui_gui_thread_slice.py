"""The GUI thread's short scheduler slices: asked for by that thread only, kept from its
children, and nothing changed where the system cannot give them."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from galileio_desktop.ui import gui_thread_slice
from galileio_desktop.ui.gui_thread_slice import (
    GUI_THREAD_SLICE_NS,
    ask_for_short_slices,
    current_slice_ns,
)

T = TypeVar("T")

#: Linux 6.12 and later keep a slice per thread; before, and elsewhere, there is none.
KERNEL_SLICES = current_slice_ns() not in (None, 0)


def in_new_thread(work: Callable[[], T]) -> T:
    """``work()``'s result, run in a thread of its own (what it asks for ends with it)."""
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join(30)
    assert results, "the thread failed"
    return results[0]


def proc_slices() -> dict[int, int]:
    """Every thread of this process and its slice, as /proc shows them (0: none shown)."""
    slices = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            text = Path(f"/proc/self/task/{tid}/sched").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        line = next((ln for ln in text.splitlines() if ln.startswith("se.slice")), "")
        slices[int(tid)] = int(line.split(":")[1]) if line else 0
    return slices


def test_the_thread_that_asks_gets_short_slices_and_the_threads_it_starts_do_not() -> None:
    def work() -> tuple[int | None, bool, int | None, int | None]:
        before = current_slice_ns()
        granted = ask_for_short_slices()
        child = in_new_thread(current_slice_ns)
        return before, granted, current_slice_ns(), child

    before, granted, after, child = in_new_thread(work)
    if not KERNEL_SLICES:
        assert (granted, after) == (False, before)
        return
    assert granted
    assert after == GUI_THREAD_SLICE_NS != before
    assert child == before  # the default, not the short slice


def test_the_thread_keeps_its_nice_value_and_its_batch_policy() -> None:
    def work() -> tuple[bool, int, int]:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, 3)
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        granted = ask_for_short_slices()
        policy = os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK  # the flag the request sets
        return granted, os.getpriority(os.PRIO_PROCESS, tid), policy

    granted, nice, policy = in_new_thread(work)
    assert granted == KERNEL_SLICES
    assert (nice, policy) == (3, os.SCHED_BATCH)


def test_a_thread_under_a_policy_the_user_chose_is_left_alone() -> None:
    def work() -> tuple[bool, int | None, int | None, int]:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        before = current_slice_ns()
        return ask_for_short_slices(), before, current_slice_ns(), os.sched_getscheduler(0)

    granted, before, after, policy = in_new_thread(work)
    assert not granted
    assert after == before and policy == os.SCHED_IDLE


def test_a_thread_with_a_negative_nice_value_is_left_alone() -> None:
    def work() -> tuple[bool, int | None, int | None, int]:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, -2)  # needs CAP_SYS_NICE (checked first)
        before = current_slice_ns()
        granted = ask_for_short_slices()
        child_nice = in_new_thread(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return granted, before, current_slice_ns(), child_nice

    def may_lower_nice() -> bool:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -2)
        except PermissionError:
            return False
        return True

    if not in_new_thread(may_lower_nice):
        pytest.skip("a negative nice value needs CAP_SYS_NICE, which this user lacks")
    granted, before, after, child_nice = in_new_thread(work)
    # Already favoured: no request, so the threads it starts keep its nice value.
    assert not granted
    assert after == before and child_nice == -2


def test_a_refused_call_or_another_system_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A sandbox whose filter refuses the call (the call fails with -1).
    monkeypatch.setattr(gui_thread_slice, "_syscall", lambda *args: -1)
    assert in_new_thread(ask_for_short_slices) is False
    assert in_new_thread(current_slice_ns) is None

    def no_call(*args: object) -> int:
        raise AssertionError("no system call on another system")

    monkeypatch.setattr(gui_thread_slice, "_syscall", no_call)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert ask_for_short_slices() is False and current_slice_ns() is None
