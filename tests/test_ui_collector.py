"""With a window, cycles are collected in the GUI thread only: a worker thread that
allocates never runs the collector (which could destroy a Qt object outside the thread
that owns it), and cycles still go once their generation is due."""

from __future__ import annotations

import gc
import sys
import threading
import types
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
    collector._modules_seen = len(sys.modules)  # no import burst to freeze (see below)
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


def _gui_collector(qapp) -> collector.GuiThreadCollector:
    collector.collect_in_gui_thread()
    found = qapp.findChild(collector.GuiThreadCollector, "guiThreadCollector")
    assert found is not None
    return found


def test_the_middle_generation_waits_while_objects_keep_coming(qapp) -> None:
    gc_collector = _gui_collector(qapp)
    generations: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            generations.append(info["generation"])

    saved = gc.get_threshold()
    gc.set_threshold(100, 2, 10_000)
    try:
        collector._modules_seen = len(sys.modules)
        for _ in range(3):  # the middle generation is due after these
            gc.collect(0)
        gc.callbacks.append(note)
        keep = [Node() for _ in range(300)]
        assert gc_collector.collect_due(busy=True)
        assert generations == [0]  # busy: only the young one, the middle one waits
        generations.clear()
        keep += [Node() for _ in range(300)]
        assert gc_collector.collect_due(busy=False)
        assert generations == [1]  # a quiet look: the middle one (the young with it)
        generations.clear()
        assert not gc_collector.collect_due(busy=False)  # nothing due: nothing done
        assert generations == []
        del keep
    finally:
        if note in gc.callbacks:
            gc.callbacks.remove(note)
        gc.set_threshold(*saved)


def test_what_comes_with_an_import_is_frozen_not_walked(qapp) -> None:
    gc_collector = _gui_collector(qapp)
    generations: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            generations.append(info["generation"])

    collector._modules_seen = len(sys.modules)
    frozen = gc.get_freeze_count()
    names = [f"_galileio_imported_late_{n}" for n in range(collector.IMPORT_BURST_MODULES)]
    for name in names:  # a library imported (boto3 on the first network call)
        sys.modules[name] = types.ModuleType(name)
    gc.callbacks.append(note)
    try:
        keep = [Node() for _ in range(gc.get_threshold()[0] + 10)]
        assert gc_collector.collect_due()
        assert generations == []  # no pass walked them
        assert gc.get_freeze_count() >= frozen + len(keep)
        keep += [Node() for _ in range(gc.get_threshold()[0] + 10)]
        assert gc_collector.collect_due()
        assert generations == [0]  # no new module since: collected as usual
    finally:
        gc.callbacks.remove(note)
        for name in names:
            del sys.modules[name]
