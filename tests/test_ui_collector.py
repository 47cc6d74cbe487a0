"""With a window, cycles are collected in the GUI thread only: a worker thread that
allocates never runs the collector (which could destroy a Qt object outside the thread
that owns it), and cycles still go once their generation is due."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from galileio_desktop.ui import collector

pytestmark = pytest.mark.gui


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle only the collector can free


def test_cycles_are_collected_in_the_gui_thread_only(qtbot, qapp) -> None:
    collector.collect_in_gui_thread()
    collector.collect_in_gui_thread()  # once per application
    assert len(qapp.findChildren(collector.GuiThreadCollector)) == 1
    assert not gc.isenabled()
    threads: list[str] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            threads.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:

        def allocate() -> None:  # far past the young generation's threshold
            for _ in range(50_000):
                Node()

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert "worker" not in threads  # the worker allocated and never collected
        node = Node()
        gone = weakref.ref(node)
        del node
        for _ in range(gc.get_threshold()[0] + 1):
            Node()
        qtbot.waitUntil(lambda: gone() is None, timeout=3000)  # collected by the GUI timer
        assert threads and set(threads) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(note)
