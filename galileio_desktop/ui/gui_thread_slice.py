"""Short scheduler slices for the GUI thread, so that it runs soon after it wakes.

While a sync runs, both CPUs of a small laptop are often taken (the sync worker parsing
pages, the mirror's writes, other programs). The GUI thread wakes for a timer, a paint
or a worker's signal and then waits for a CPU: Linux's scheduler (EEVDF) lets it run
once its deadline is the earliest, and with the default slice (about 1-3 ms) a running
thread often keeps the CPU to the end of its own. A frame was lost that way several
times a sync, the GUI thread's own work in the gap being a millisecond or two.

Since Linux 6.12 a normal thread may ask for a shorter slice (``sched_runtime`` of
``sched_setattr``; no privilege needed, 0.1-100 ms): its deadlines come sooner, so it
gets a CPU soon after it wakes, while its share of the CPU stays what its nice value
gives. The window asks while a sync runs (:class:`SlicesWhileSyncing`), and goes back to
the default when it ends. Only the GUI thread asks: the request carries
``SCHED_FLAG_RESET_ON_FORK``, so the threads and processes it starts get the default
slice. Elsewhere (another system,
an older kernel that ignores the field, a sandbox that refuses the call, a thread the
user put under a real-time policy or a negative nice value, which reset-on-fork would
take from the threads it starts) nothing changes.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import Any

from PySide6.QtCore import QObject, Slot

#: The slice the GUI thread asks for: the shortest the kernel grants.
GUI_THREAD_SLICE_NS = 100_000

SCHED_OTHER = 0
SCHED_BATCH = 3
SCHED_FLAG_RESET_ON_FORK = 0x01

#: ``sched_setattr`` and ``sched_getattr`` by machine (Python 3.11 has neither).
_SYSCALLS = {
    "x86_64": (314, 315),
    "aarch64": (274, 275),
    "arm64": (274, 275),
}


class _SchedAttr(ctypes.Structure):
    """The kernel's ``struct sched_attr`` (its second version, with utilisation clamps)."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("sched_policy", ctypes.c_uint32),
        ("sched_flags", ctypes.c_uint64),
        ("sched_nice", ctypes.c_int32),
        ("sched_priority", ctypes.c_uint32),
        ("sched_runtime", ctypes.c_uint64),
        ("sched_deadline", ctypes.c_uint64),
        ("sched_period", ctypes.c_uint64),
        ("sched_util_min", ctypes.c_uint32),
        ("sched_util_max", ctypes.c_uint32),
    ]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: object) -> int:
    """One system call through libc, -1 when it fails."""
    return int(_libc().syscall(number, *args))


def current_slice_ns() -> int | None:
    """The calling thread's slice as the kernel reports it; None where it cannot say.

    0 from a kernel that keeps no slice per thread (before 6.12).
    """
    numbers = _SYSCALLS.get(os.uname().machine) if sys.platform == "linux" else None
    if numbers is None:
        return None
    attr = _SchedAttr()
    if _syscall(numbers[1], 0, ctypes.byref(attr), ctypes.sizeof(attr), 0) != 0:
        return None
    return int(attr.sched_runtime)


def ask_for_short_slices(slice_ns: int = GUI_THREAD_SLICE_NS) -> bool:
    """Ask the kernel for ``slice_ns`` slices for the calling thread; True if it took them.

    The thread's policy and nice value are kept; threads it starts later get the
    default slice. False, and nothing changed, wherever slices cannot be asked for.
    """
    return _request(slice_ns) and current_slice_ns() == slice_ns


def use_default_slices() -> None:
    """The calling thread back to the kernel's default slice (where it asked for others)."""
    _request(0)


def _request(slice_ns: int) -> bool:
    """``sched_setattr`` of the calling thread's slice (0: the default); True if made."""
    numbers = _SYSCALLS.get(os.uname().machine) if sys.platform == "linux" else None
    if numbers is None:
        return False
    set_number, get_number = numbers
    attr = _SchedAttr()
    if _syscall(get_number, 0, ctypes.byref(attr), ctypes.sizeof(attr), 0) != 0:
        return False
    if attr.sched_policy not in (SCHED_OTHER, SCHED_BATCH):
        return False  # real-time or deadline: the user chose; slices mean nothing there
    if attr.sched_nice < 0:
        # Already favoured by whoever started the app; and the request's reset-on-fork
        # would give the threads it starts nice 0 instead of the nice they inherit.
        return False
    wanted = _SchedAttr(
        size=ctypes.sizeof(_SchedAttr),
        sched_policy=attr.sched_policy,
        sched_flags=SCHED_FLAG_RESET_ON_FORK,
        sched_nice=attr.sched_nice,
        sched_runtime=slice_ns,
    )
    return _syscall(set_number, 0, ctypes.byref(wanted), 0) == 0


class SlicesWhileSyncing(QObject):
    """Short slices for the GUI thread while a sync runs beside it, the default otherwise.

    Connect :meth:`on_status` to the workers' status (it runs in the GUI thread). While
    the window is read and scrolled, the GUI thread is the one busy thread: with short
    slices it was preempted more often, and a scroll's worst gap grew (five interleaved
    pairs, median 18.1 -> 21.2 ms); while a sync runs, it wakes to CPUs the workers hold.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.short = False

    @Slot(object)
    def on_status(self, status: Any) -> None:
        syncing = bool(getattr(status, "syncing", False))
        if syncing == self.short:
            return
        self.short = syncing
        if syncing:
            ask_for_short_slices()
        else:
            use_default_slices()
