"""Each GUI probe starts on a settled machine.

A scenario before it leaves work behind for a moment: a mirror just built is still being
written out by the kernel, a server it stopped is still exiting. Measured on top of that,
a stall is the bench's own. Before a probe starts, the writes are flushed and the CPUs
given a moment to become idle (at most :data:`WAIT_AT_MOST_S`: other programs on a shared
machine are not the bench's to wait for); the idle share found is kept with the figures.
"""

from __future__ import annotations

import os
import time

#: The share of all CPUs' time that is idle over one look, to start at once.
IDLE_WANTED = 0.85
LOOK_S = 0.25
WAIT_AT_MOST_S = 3.0


def _cpu_times() -> tuple[int, int] | None:
    """(idle, all) ticks of every CPU so far, from Linux's /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields)  # idle + waiting for the disk; the rest is work


def settle() -> float | None:
    """Flush the file system's writes, then wait until the CPUs are mostly idle (at most
    :data:`WAIT_AT_MOST_S`); the idle share of the last look, None where it is not known."""
    os.sync()
    deadline = time.monotonic() + WAIT_AT_MOST_S
    while True:
        first = _cpu_times()
        time.sleep(LOOK_S)
        second = _cpu_times()
        if first is None or second is None:
            return None
        ticks = second[1] - first[1]
        idle = (second[0] - first[0]) / ticks if ticks > 0 else 1.0
        if idle >= IDLE_WANTED or time.monotonic() >= deadline:
            return round(idle, 2)
