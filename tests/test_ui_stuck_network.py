"""Quit and account switches return within a second whatever the network does.

The window's sync runs through a fault-injecting proxy in front of moto's server that
never answers, or answers a byte a second: without a way to stop it, the sync thread
would hold Quit for botocore's retries of 20-second reads (minutes). The client is the
app's own (its timeouts and retries), so nothing here is shortened for the test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from servers import create_galileo_table, dynamodb_client
from test_ui_accounts_switch import (  # noqa: F401 - fixtures
    add_keys_account,
    chat_titles,
    keyring_backend,
    paths,
    seed_chats,
    start_on,
    store,
    switcher,
)
from test_ui_sign_in_dialog import MemoryKeyring
from ui_helpers import seed_library

from galileio_desktop.data.auth.accounts import Account, AccountStore
from galileio_desktop.data.auth.secrets import SecretStore
from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher
from galileio_desktop.ui.accounts.sign_in_worker import SHUTDOWN_WAIT_MS as SIGN_IN_WAIT_MS
from galileio_desktop.ui.accounts.sign_in_worker import SignInRunner
from galileio_desktop.ui.workers.client import SHUTDOWN_WAIT_MS, WorkerClient
from galileio_desktop.ui.workers.thread_stop import still_finishing
from galileio_desktop.workspace import Workspace

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-ui-accounts"  # the switch test's table
USER = "user-1"


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    p = FaultProxy(moto_endpoint).start()
    try:
        yield p
    finally:
        p.stop()


def stuck_client(mirror: Path, proxy: FaultProxy) -> WorkerClient:
    def make() -> ChatLibrary:
        def gateway() -> ChatGateway:
            return ChatGateway(make_dynamodb_client("us-east-1", proxy.url), TABLE, USER)

        return ChatLibrary(mirror, USER, gateway)

    return WorkerClient(make, periodic_sync=False)


@pytest.mark.parametrize("fault", ["silent", "drip"])
def test_quit_returns_within_a_second_during_a_stuck_sync(
    qtbot: Any, tmp_path: Path, proxy: FaultProxy, fault: str
) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=2)  # queued changes: the sync has writes to send
    proxy.set(fault)
    client = stuck_client(mirror, proxy)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    threads = [client.worker.thread(), client.sync_worker.thread(), client.answerer.thread()]
    client.sync_now()
    qtbot.waitUntil(lambda: sum(proxy.faulted.values()) > 0, timeout=10_000)  # a request is stuck
    qtbot.wait(300)
    started = time.monotonic()
    client.shutdown()
    elapsed = time.monotonic() - started
    assert elapsed < SHUTDOWN_WAIT_MS / 1000, f"Quit took {elapsed:.2f} s"
    assert all(thread.isFinished() for thread in threads)
    proxy.set(None)
    with ChatLibrary(mirror, USER, None) as library:  # nothing queued was lost
        assert library.status().pending == 6 and library.status().parked == 0


def test_switching_away_from_a_stuck_account_takes_under_a_second(
    qtbot: Any,
    moto_endpoint: str,
    proxy: FaultProxy,
    paths: AppPaths,  # noqa: F811 - fixture
    store: AccountStore,  # noqa: F811 - fixture
    switcher: AccountSwitcher,  # noqa: F811 - fixture
) -> None:
    stuck = add_keys_account(store, switcher.secrets, "stuck", proxy.url)
    add_keys_account(store, switcher.secrets, "fine", moto_endpoint)
    seed_chats(moto_endpoint, "fine-id", ["Fine: plans"])
    proxy.set("silent")
    window = start_on(qtbot, switcher, Workspace(stuck, paths))
    qtbot.waitUntil(lambda: sum(proxy.faulted.values()) > 0, timeout=20_000)  # its first sync is stuck
    threads = [window.client.worker.thread(), window.client.sync_worker.thread()]
    menu = switcher.menu
    assert menu is not None
    started = time.monotonic()
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=20_000) as shown:
        menu.account_actions["fine"].trigger()
        switched_at = time.monotonic()
    assert switched_at - started < 1.0, f"the switch held the window for {switched_at - started:.2f} s"
    assert all(thread.isFinished() for thread in threads)
    qtbot.waitUntil(lambda: chat_titles(shown.args[0]) == ["Fine: plans"], timeout=20_000)


def test_quit_during_a_sign_in_to_a_silent_server_takes_about_a_second(
    qtbot: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)  # Cognito, as a local endpoint is found
    proxy.set("silent")
    account = Account(
        name="pool",
        auth="cognito",
        region="us-east-1",
        table=TABLE,
        user_pool_id="us-east-1_Example",
        client_id="example-client",
        identity_pool_id="us-east-1:00000000-0000-0000-0000-000000000000",
        username="ana",
    )
    runner = SignInRunner(SecretStore(MemoryKeyring()))
    runner.sign_in(account, "a password")
    qtbot.waitUntil(lambda: sum(proxy.faulted.values()) > 0, timeout=10_000)  # the call is stuck
    started = time.monotonic()
    runner.shutdown()
    elapsed = time.monotonic() - started
    assert elapsed < SIGN_IN_WAIT_MS / 1000 + 0.5, f"Quit waited {elapsed:.2f} s for the sign-in"
    proxy.set(None)  # the let-go call ends; its thread finishes by itself
    qtbot.waitUntil(lambda: still_finishing() == 0, timeout=30_000)
