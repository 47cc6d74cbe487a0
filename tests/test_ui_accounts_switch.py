"""Several accounts in one window: switching, signing out, and the keyring warning.

Two users' partitions live in one table on moto's server (over HTTP); each
account signs in with an access key whose secret is in a keyring backend object
(memory), or the real Secret Service where one runs. Switching must show only
the chosen account's chats, from its own mirror, after the previous account's
worker threads have stopped; no request ever leaves from the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication, QMessageBox
from servers import create_galileo_table, dynamodb_client
from test_keyring_secret_service import secret_service  # noqa: F401 - fixture
from test_ui_sign_in_dialog import SECRET, MemoryKeyring, choose_kind, fill, guard_every_request, keys_values

from galileio_desktop.data.auth.accounts import Account, AccountStore
from galileio_desktop.data.auth.secrets import SECRET_ACCESS_KEY, SERVICE, SecretStore
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.schema import Chat, new_id, now_ms
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sync_status import status_bar as sb
from galileio_desktop.ui.workers.operation import LibraryOp
from galileio_desktop.workspace import Workspace

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-ui-accounts"
WAIT_MS = 20_000


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    return moto_endpoint


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "data")


@pytest.fixture
def store(paths: AppPaths) -> AccountStore:
    return AccountStore(paths.config_dir)


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


def make_switcher(paths: AppPaths, secrets: SecretStore, tmp_path: Path, **kwargs: Any) -> AccountSwitcher:
    return AccountSwitcher(paths, secrets, sync_interval_ms=600_000, **kwargs)


@pytest.fixture
def switcher(
    qapp: Any, paths: AppPaths, tmp_path: Path, keyring_backend: MemoryKeyring
) -> Iterator[AccountSwitcher]:
    switcher = make_switcher(paths, SecretStore(keyring_backend), tmp_path)
    yield switcher
    switcher.shutdown()


def add_keys_account(store: AccountStore, secrets: SecretStore, name: str, endpoint: str) -> Account:
    account = store.add(
        Account(
            name=name,
            auth="keys",
            region="us-east-1",
            table=TABLE,
            endpoint_url=endpoint,
            access_key_id=f"AKIA{name.upper()}",
            user_id=f"{name}-id",
        )
    )
    secrets.set(name, SECRET_ACCESS_KEY, f"{name}-secret-key")
    return account


def seed_chats(endpoint: str, user_id: str, titles: list[str]) -> None:
    client = dynamodb_client(endpoint)
    for n, title in enumerate(titles):
        client.put_item(TableName=TABLE, Item=Chat(new_id(), user_id, title, now_ms() - n * 1000).to_item())


def chat_titles(window: MainWindow) -> list[str]:
    model = window.sidebar.model
    return sorted(str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r))


def start_on(qtbot: Any, switcher: AccountSwitcher, workspace: Workspace) -> MainWindow:
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        switcher.start(workspace)
    return shown.args[0]


def titles_ever_loaded(window: MainWindow) -> set[str]:
    """Every chat title the window's list ever held after a load, from now on."""
    seen: set[str] = set()

    def record() -> None:
        model = window.sidebar.model
        seen.update(str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r))

    window.sidebar.sig_list_loaded.connect(record)
    return seen


def test_switching_shows_only_each_accounts_own_chats(
    qtbot: Any,
    endpoint: str,
    paths: AppPaths,
    store: AccountStore,
    switcher: AccountSwitcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = add_keys_account(store, switcher.secrets, "alice", endpoint)
    add_keys_account(store, switcher.secrets, "bob", endpoint)
    seed_chats(endpoint, "alice-id", ["Alice: budget", "Alice: hiring"])
    seed_chats(endpoint, "bob-id", ["Bob: roadmap"])
    guard = guard_every_request(monkeypatch)

    window = start_on(qtbot, switcher, Workspace(alice, paths))
    qtbot.waitUntil(lambda: chat_titles(window) == ["Alice: budget", "Alice: hiring"], timeout=WAIT_MS)
    assert window.windowTitle() == "Galileio Desktop — alice"
    menu = switcher.menu
    assert menu is not None and menu.parent() is window
    assert [a.text() for a in menu.account_actions.values()] == ["alice  (access key)", "bob  (access key)"]
    assert menu.account_actions["alice"].isChecked() and not menu.account_actions["bob"].isChecked()
    threads = [window.client.worker.thread(), window.client.sync_worker.thread()]

    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        menu.account_actions["bob"].trigger()
    # The previous account's threads have finished before the new window starts.
    assert all(thread.isFinished() for thread in threads)
    bob_window = shown.args[0]
    assert bob_window is not window and switcher.window is bob_window
    seen = titles_ever_loaded(bob_window)
    assert bob_window.windowTitle() == "Galileio Desktop — bob"
    qtbot.waitUntil(lambda: chat_titles(bob_window) == ["Bob: roadmap"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bob_window.status.state == sb.ONLINE, timeout=WAIT_MS)
    assert seen == {"Bob: roadmap"}
    assert store.current_name() == "bob"
    assert switcher.menu is not None and switcher.menu.account_actions["bob"].isChecked()
    assert not switcher.menu.account_actions["alice"].isChecked()

    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        switcher.menu.account_actions["alice"].trigger()
    back = shown.args[0]
    seen = titles_ever_loaded(back)
    qtbot.waitUntil(lambda: chat_titles(back) == ["Alice: budget", "Alice: hiring"], timeout=WAIT_MS)
    assert "Bob: roadmap" not in seen
    mirrors = {Workspace(store.get(name), paths).mirror_path for name in ("alice", "bob")}
    assert len(mirrors) == 2 and all(path.exists() for path in mirrors)
    assert guard.violations == [] and guard.qt_threads  # type: ignore[attr-defined]


def test_accounts_outside_the_file_stay_in_the_menu_and_cannot_sign_out(
    qtbot: Any, paths: AppPaths, store: AccountStore, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    """Like the demo: shown without being stored. Offline, so no server is needed."""
    switcher = make_switcher(paths, SecretStore(keyring_backend), tmp_path, offline=True)
    try:
        add_keys_account(store, switcher.secrets, "alice", "http://127.0.0.1:9")
        flags = Account(name="default", auth="env", region="us-east-1", table=TABLE, user_id="flags-user")
        window = start_on(qtbot, switcher, Workspace(flags, paths, offline=True))
        menu = switcher.menu
        assert menu is not None and list(menu.account_actions) == ["alice", "default"]
        assert menu.account_actions["default"].isChecked()
        assert not menu.sign_out_action.isEnabled() and not menu.sign_in_action.isEnabled()

        with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS):
            menu.account_actions["alice"].trigger()
        assert switcher.menu is not None and switcher.menu.sign_out_action.isEnabled()
        with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
            switcher.menu.account_actions["default"].trigger()
        assert shown.args[0].windowTitle() == "Galileio Desktop — default"
        assert window is not shown.args[0]

        with qtbot.waitSignal(switcher.sig_finished, timeout=WAIT_MS):
            shown.args[0].close()  # the user closes the window: the app is done
        assert switcher.window is None and not shown.args[0].client.running
    finally:
        switcher.shutdown()


@pytest.fixture(params=["memory", "secret-service"])
def keyring_for_sign_out(request: pytest.FixtureRequest) -> Iterator[tuple[SecretStore, Any]]:
    """A keyring backend object in memory, or the real Secret Service when one runs."""
    if request.param == "memory":
        backend: Any = MemoryKeyring()
    else:
        from keyring.backends import SecretService

        request.getfixturevalue("secret_service")  # skips (fails under CI) without one
        backend = SecretService.Keyring()
    store = SecretStore(backend)
    assert store.usable, store.warning
    yield store, backend
    store.delete_all("alice")


def test_sign_out_warns_about_unsent_changes_removes_secrets_and_the_mirror(
    qtbot: Any,
    paths: AppPaths,
    store: AccountStore,
    tmp_path: Path,
    keyring_for_sign_out: tuple[SecretStore, Any],
    qapp: Any,
) -> None:
    secrets, backend = keyring_for_sign_out
    alice = add_keys_account(store, secrets, "alice", "http://127.0.0.1:9")
    switcher = make_switcher(paths, secrets, tmp_path, offline=True)  # writes stay queued
    try:
        window = start_on(qtbot, switcher, Workspace(alice, paths, offline=True))
        with qtbot.waitSignal(window.client.events.sig_queue_changed, timeout=WAIT_MS):
            LibraryOp(lambda lib: lib.create_chat("Note not sent yet")).after_write().run_in(
                window.client.local
            )
        qtbot.waitUntil(lambda: window.status.pending_label.isVisible(), timeout=WAIT_MS)
        mirror = Path(Workspace(alice, paths).mirror_path)
        assert mirror.exists()

        assert switcher.menu is not None
        switcher.menu.sign_out_action.trigger()
        dialog = switcher.sign_out_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.text() == "Sign out of alice?"
        assert "1 change not sent yet stay queued" in dialog.informativeText()
        assert dialog.defaultButton() is dialog.cancel_button  # unsent changes: no hasty Enter
        dialog.delete_box.click()
        assert "1 change not sent yet will be lost" in dialog.informativeText()
        dialog.sign_out_button.click()
        qtbot.waitUntil(lambda: switcher.last_sign_out is not None, timeout=WAIT_MS)

        assert switcher.last_sign_out == ("alice", [SECRET_ACCESS_KEY], True)
        assert backend.get_password(SERVICE, "alice:secret_access_key") is None
        assert not mirror.exists() and not mirror.with_name(mirror.name + "-wal").exists()
        assert switcher.window is None and not window.client.running
        again = switcher.dialog
        assert again is not None and again.isVisible()
        assert again.reason_label.text().startswith("You have signed out of alice.")
        assert again.existing is not None and again.existing.name == "alice"
        assert again.visible_fields() == ["secret_key"]
        with qtbot.waitSignal(switcher.sig_finished, timeout=WAIT_MS):
            again.reject()
    finally:
        switcher.shutdown()


def test_sign_out_without_unsent_changes_can_keep_the_local_copy(
    qtbot: Any,
    endpoint: str,
    paths: AppPaths,
    store: AccountStore,
    switcher: AccountSwitcher,
    keyring_backend: MemoryKeyring,
) -> None:
    alice = add_keys_account(store, switcher.secrets, "alice", endpoint)
    seed_chats(endpoint, "alice-id", ["Alice: budget"])
    window = start_on(qtbot, switcher, Workspace(alice, paths))
    qtbot.waitUntil(lambda: chat_titles(window) == ["Alice: budget"], timeout=WAIT_MS)
    assert switcher.menu is not None
    switcher.menu.sign_out_action.trigger()
    dialog = switcher.sign_out_dialog
    assert dialog is not None
    assert "stays on this computer" in dialog.informativeText()
    assert dialog.defaultButton() is dialog.sign_out_button
    dialog.sign_out_button.click()
    qtbot.waitUntil(lambda: switcher.last_sign_out is not None, timeout=WAIT_MS)
    assert switcher.last_sign_out == ("alice", [SECRET_ACCESS_KEY], False)
    assert keyring_backend.secrets_of("alice") == {}
    assert Path(Workspace(alice, paths).mirror_path).exists()

    # Signing in again from the same dialog opens the account where it was.
    again = switcher.dialog
    assert again is not None
    fill(qtbot, again, secret_key=SECRET)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        again.sign_in_button.click()
    qtbot.waitUntil(lambda: chat_titles(shown.args[0]) == ["Alice: budget"], timeout=WAIT_MS)
    assert keyring_backend.secrets_of("alice") == {SECRET_ACCESS_KEY: SECRET}


def test_without_a_keyring_the_window_says_so_once(
    qtbot: Any, paths: AppPaths, tmp_path: Path, qapp: Any
) -> None:
    secrets = SecretStore(fail.Keyring())
    assert not secrets.usable and secrets.warning
    switcher = make_switcher(paths, secrets, tmp_path, offline=True)

    def sign_in_keys(name: str) -> MainWindow:
        dialog = switcher.dialog
        assert dialog is not None
        if dialog.existing is not None:
            dialog.account_box.setCurrentIndex(dialog.account_box.findData(""))
        choose_kind(dialog, "keys")
        fill(qtbot, dialog, **keys_values(name=name))
        with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
            dialog.sign_in_button.click()
        return shown.args[0]

    def keyring_warnings() -> list[QMessageBox]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.accessibleName() == "Keyring warning" and w.isVisible()
        ]

    try:
        switcher.start(None)
        window = sign_in_keys("lab")
        boxes = keyring_warnings()
        assert [box.text() for box in boxes] == [secrets.warning]
        assert window.status.currentMessage() == secrets.warning
        boxes[0].accept()

        assert switcher.menu is not None
        switcher.menu.add_action.trigger()
        sign_in_keys("field")
        assert keyring_warnings() == []
        assert secrets.get("field", SECRET_ACCESS_KEY) == SECRET  # kept for this session, in memory
    finally:
        switcher.shutdown()


def test_a_profile_that_cannot_sign_in_says_what_to_do_and_can_try_again(
    qtbot: Any, paths: AppPaths, store: AccountStore, switcher: AccountSwitcher
) -> None:
    """No password to ask for: the auth layer's message is shown, with a way to try again."""
    account = store.add(
        Account(
            name="sso",
            auth="profile",
            region="us-east-1",
            table=TABLE,
            endpoint_url="http://127.0.0.1:9",
            aws_profile="no-such-profile",
            user_id="sso-user",
        )
    )
    window = start_on(qtbot, switcher, Workspace(account, paths))
    qtbot.waitUntil(
        lambda: switcher.message_box is not None and switcher.message_box.isVisible(), timeout=WAIT_MS
    )
    box = switcher.message_box
    assert "no AWS profile named 'no-such-profile'" in box.text()
    assert switcher.dialog is None  # nothing to type for a profile
    assert switcher.sign_in_button is not None and switcher.sign_in_button.isVisible()
    again = next(b for b in box.buttons() if b.text() == "Try again")
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        again.click()
    assert shown.args[0] is not window and shown.args[0].windowTitle() == "Galileio Desktop — sso"
