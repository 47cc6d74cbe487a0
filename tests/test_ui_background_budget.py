"""What keeps the window answering while its background works: a small network pool for
its sync, the collector kept off what lives as long as the window, and the parts built
after the first paint one step per turn of the event loop.

The stalls themselves are measured by ``bench/run.py`` (scenario "stall"); these tests
hold the settings that bring them under 50 ms, which a regression would silently undo.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from ui_helpers import offline_factory, seed_big_mirror

from galileio_desktop.data.auth.accounts import Account
from galileio_desktop.data.dynamo.gateway import DEFAULT_NETWORK_THREADS
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.ui import collector
from galileio_desktop.ui.app_window import WINDOW_NETWORK_THREADS, build_window, window_library_factory
from galileio_desktop.ui.main_window import PART_MODULES
from galileio_desktop.workspace import Workspace

pytestmark = pytest.mark.gui


@pytest.fixture
def collector_state() -> Iterator[None]:
    """The collector as the test found it, afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_window_s_sync_uses_a_small_network_pool_and_the_command_line_the_default(
    tmp_path: Path, moto_endpoint: str
) -> None:
    account = Account(
        name="default",
        auth="env",
        region="us-east-1",
        table="galileo-test",
        user_id="pool-user",
        endpoint_url=moto_endpoint,
    )
    workspace = Workspace(account, AppPaths.resolve(tmp_path / "data"))
    assert WINDOW_NETWORK_THREADS < DEFAULT_NETWORK_THREADS
    assert workspace.make_gateway().max_workers == DEFAULT_NETWORK_THREADS
    seen: list[int] = []
    original = workspace.make_gateway

    def spy(max_workers: int | None = None) -> object:
        gateway = original(max_workers)
        seen.append(gateway.max_workers)
        return gateway

    workspace.make_gateway = spy  # type: ignore[method-assign]
    library = window_library_factory(workspace)()
    try:
        library.push()  # nothing queued: builds the gateway, sends nothing
    finally:
        library.close()
    assert seen == [WINDOW_NETWORK_THREADS]


class Cycle:
    me: object = None


def test_settling_freezes_what_exists_and_spaces_out_full_collections(collector_state: None) -> None:
    gc.unfreeze()
    young, middle, _ = gc.get_threshold()
    kept = [object() for _ in range(10)]  # noqa: F841 - alive while settling
    collector.settle_long_lived()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (young, middle, collector.FULL_COLLECTION_EVERY)
    # A second window (another account): what the first one left in cycles, frozen with
    # it, is collected before freezing again.
    window = Cycle()
    window.me = window
    collector.settle_long_lived()
    alive = weakref.ref(window)
    del window
    collector.settle_long_lived()
    assert alive() is None and gc.get_freeze_count() > 0


def test_after_the_first_paint_the_parts_come_one_step_per_turn_of_the_event_loop(
    qtbot, tmp_path: Path, collector_state: None
) -> None:
    path = tmp_path / "mirror.sqlite3"
    seed_big_mirror(path, 40, 10)
    window = build_window(offline_factory(path), None, "steps", tmp_path / "settings", start=True)
    qtbot.addWidget(window)
    turns: list[bool] = []
    ticker = QTimer(window)
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: turns.append(window.parts_built))
    with qtbot.waitSignal(window.sidebar.sig_first_list_shown, timeout=10_000):
        window.show()
    ticker.start()
    qtbot.waitUntil(lambda: window.parts_built and window.client.background_started, timeout=10_000)
    ticker.stop()
    # The event loop turned between the steps (all at once would give one turn at most).
    assert turns.count(False) >= len(PART_MODULES) // 2
    assert gc.get_threshold()[2] == collector.FULL_COLLECTION_EVERY
