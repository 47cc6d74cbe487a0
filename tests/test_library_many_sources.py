"""An answer with thousands of sources costs work in proportion to its sources, not their square.

Counted, not timed: the item decodes, the outbox reads and the SQL statements of adding
(and pushing) an answer grow about twice when its sources double. The quadratic version
decoded every source once for every source (n^2) and read the outbox once a source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_sync_support import USER, WebApp, fast_client, open_device

from galileio_desktop.data.mirror import codec, overlay
from galileio_desktop.data.sync import ChatLibrary


def drafts(count: int) -> list[dict[str, Any]]:
    return [
        {"pageContent": f"passage {i} " * 10, "metadata": {"source_location": f"s3://docs/{i}.pdf"}}
        for i in range(count)
    ]


@contextmanager
def counting(lib: ChatLibrary, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of real work done inside the block: item decodes in the overlay, SQL
    statements, and statements that read the outbox (the real functions still run)."""
    counts: Counter[str] = Counter()
    real_decode: Callable[[dict[str, Any]], Any] = codec.decode

    def decode(obj: dict[str, Any]) -> Any:
        counts["decodes"] += 1
        return real_decode(obj)

    def trace(statement: str) -> None:
        counts["statements"] += 1
        if "FROM outbox" in statement:
            counts["outbox reads"] += 1

    conn = lib._mirror.conn
    with monkeypatch.context() as patch:
        patch.setattr(overlay, "decode", decode)
        conn.set_trace_callback(trace)
        try:
            yield counts
        finally:
            conn.set_trace_callback(None)


def add_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> Counter[str]:
    with ChatLibrary(tmp_path / f"sources-{count}.sqlite3", USER) as lib:
        chat = lib.create_chat("Many sources")
        with counting(lib, monkeypatch) as counts:
            message = lib.add_message(chat.chat_id, "ai", "An answer", drafts(count))
        assert len(lib.list_sources(message.message_id)) == count
    return counts


def test_adding_an_answer_does_work_in_proportion_to_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = add_answer(tmp_path, monkeypatch, 300)
    large = add_answer(tmp_path, monkeypatch, 600)
    assert small["decodes"] >= 300  # the spy sees the work it counts
    assert large["decodes"] <= 2.2 * small["decodes"], (small, large)
    assert large["statements"] <= 2.2 * small["statements"], (small, large)
    # The outbox is read a fixed number of times, however many sources there are.
    assert large["outbox reads"] == small["outbox reads"] <= 5, (small, large)


def push_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> Counter[str]:
    lib = open_device(tmp_path / f"push-{count}.sqlite3", fast_client())
    try:
        chat = lib.create_chat("Many sources")
        message = lib.add_message(chat.chat_id, "ai", "An answer", drafts(count))
        with counting(lib, monkeypatch) as counts:
            result = lib.push()
        assert result.pushed == 2 and result.pending == 0
        assert len(lib.list_sources(message.message_id)) == count
    finally:
        lib.close()
    return counts


def test_pushing_an_answer_does_work_in_proportion_to_its_sources(
    ddb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = push_answer(tmp_path, monkeypatch, 300)
    large = push_answer(tmp_path, monkeypatch, 600)
    assert small["decodes"] >= 300
    assert large["decodes"] <= 2.2 * small["decodes"], (small, large)
    assert large["statements"] <= 2.2 * small["statements"], (small, large)
    assert large["outbox reads"] <= 2.2 * small["outbox reads"], (small, large)
    stored = [i for i in WebApp(ddb).items() if i["SK"]["S"].startswith("SOURCE#")]
    assert len(stored) == 900
