"""Signing in from the window with a Cognito user, over HTTP against moto's server.

moto's cognito-idp, cognito-identity and DynamoDB answer on one loopback server;
every client of the app finds it through ``AWS_ENDPOINT_URL``, as a user's local
endpoint would be found. The deployment helpers are the auth tests' own. Every
botocore request of the process is checked to leave from a worker thread, never
the GUI thread (the test's own set-up calls are made while the check is paused).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from servers import dynamodb_client
from test_auth_cognito import PASSWORD, TABLE, Deployment, create_deployment
from test_ui_sign_in_dialog import MemoryKeyring, choose_kind, fill, guard_every_request
from ui_helpers import GuiThreadGuard

from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import REFRESH_TOKEN, SecretStore
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.schema import Chat, new_id, now_ms
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sync_status import status_bar as sb
from galileio_desktop.ui.workers.operation import LibraryOp

pytestmark = [pytest.mark.gui, pytest.mark.integration]

WAIT_MS = 20_000


class RequestCheck:
    """The GUI-thread guard on every request, paused while the test itself calls the server."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.guard: GuiThreadGuard = guard_every_request(monkeypatch)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.guard.paused = True  # type: ignore[attr-defined]
        try:
            yield
        finally:
            self.guard.paused = False  # type: ignore[attr-defined]


@pytest.fixture
def deployment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return create_deployment(moto_endpoint)


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "data")


@pytest.fixture
def switcher(
    qapp: Any, paths: AppPaths, tmp_path: Path, keyring_backend: MemoryKeyring
) -> Iterator[AccountSwitcher]:
    switcher = AccountSwitcher(paths, SecretStore(keyring_backend), sync_interval_ms=600_000)
    yield switcher
    switcher.shutdown()


def seed_chats(endpoint: str, user_id: str, titles: list[str]) -> None:
    client = dynamodb_client(endpoint)
    for n, title in enumerate(titles):
        client.put_item(TableName=TABLE, Item=Chat(new_id(), user_id, title, now_ms() - n * 1000).to_item())


def remote_titles(endpoint: str, user_id: str) -> list[str]:
    items = dynamodb_client(endpoint).scan(TableName=TABLE)["Items"]
    return sorted(
        i["title"]["S"] for i in items if i["PK"]["S"] == user_id and i["SK"]["S"].startswith("CHAT#")
    )


def chat_titles(window: MainWindow) -> list[str]:
    model = window.sidebar.model
    return sorted(str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r))


def fill_cognito(
    qtbot: Any, switcher: AccountSwitcher, deployment: Deployment, username: str, password: str
) -> Any:
    """Start without an account and type a Cognito account into the sign-in dialog."""
    switcher.start(None)
    dialog = switcher.dialog
    assert dialog is not None and dialog.isVisible()
    choose_kind(dialog, "cognito")
    fill(
        qtbot,
        dialog,
        name="work",
        table=TABLE,
        user_pool_id=deployment.pool_id,
        client_id=deployment.client_id,
        identity_pool_id=deployment.identity_pool_id,
        username=username,
        password=password,
    )
    return dialog


def test_first_sign_in_opens_the_window_on_the_users_own_chats(
    qtbot: Any,
    deployment: Deployment,
    switcher: AccountSwitcher,
    keyring_backend: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = deployment.add_user("alice")
    bob = deployment.add_user("bob")
    seed_chats(deployment.endpoint, alice, ["Quarterly numbers", "Travel policy"])
    seed_chats(deployment.endpoint, bob, ["Bob's own chat"])
    check = RequestCheck(monkeypatch)

    dialog = fill_cognito(qtbot, switcher, deployment, "alice", PASSWORD)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    window = shown.args[0]

    qtbot.waitUntil(lambda: chat_titles(window) == ["Quarterly numbers", "Travel policy"], timeout=WAIT_MS)
    assert window.windowTitle() == "Galileio Desktop — work"
    account = AccountStore(switcher.paths.config_dir).get("work")
    assert account.user_id == alice and account.region == "us-east-1"
    refresh_token = keyring_backend.secrets_of("work")[REFRESH_TOKEN]
    accounts_file = (switcher.paths.config_dir / "accounts.json").read_text(encoding="utf-8")
    assert refresh_token not in accounts_file and PASSWORD not in accounts_file
    assert switcher.menu is not None and switcher.menu.account_actions["work"].isChecked()
    assert check.guard.violations == []
    assert {"galileio-sign-in", "galileio-sync"} <= check.guard.qt_threads  # type: ignore[attr-defined]


def test_a_new_password_is_asked_for_and_set(
    qtbot: Any, deployment: Deployment, switcher: AccountSwitcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = deployment.add_user("bob", "Temporary-Pass-1", temporary=True)
    check = RequestCheck(monkeypatch)
    dialog = fill_cognito(qtbot, switcher, deployment, "bob", "Temporary-Pass-1")

    qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: dialog.visible_fields() == ["new_password", "new_password_again"], timeout=WAIT_MS
    )
    assert dialog.heading.text() == "Choose a new password"
    assert "new password" in dialog.error_label.text()
    assert dialog.focusWidget() is dialog.fields["new_password"]

    fill(qtbot, dialog, new_password="Brand-New-Password-2", new_password_again="Brand-New-Password-3")
    qtbot.keyClick(dialog.fields["new_password_again"], Qt.Key.Key_Return)
    assert dialog.error_label.text() == "The two new passwords differ." and not dialog.busy_now

    fill(qtbot, dialog, new_password="short", new_password_again="short")
    qtbot.keyClick(dialog.fields["new_password_again"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "refused" in dialog.error_label.text(), timeout=WAIT_MS)
    assert dialog.visible_fields() == ["new_password", "new_password_again"]

    fill(qtbot, dialog, new_password="Brand-New-Password-2", new_password_again="Brand-New-Password-2")
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS):
        qtbot.keyClick(dialog.fields["new_password_again"], Qt.Key.Key_Return)
    with check.paused():
        user = deployment.idp.admin_get_user(UserPoolId=deployment.pool_id, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"
    assert AccountStore(switcher.paths.config_dir).get("work").user_id == bob
    assert check.guard.violations == []


def test_mfa_gets_the_clear_message_and_nothing_is_kept(
    qtbot: Any, deployment: Deployment, switcher: AccountSwitcher, keyring_backend: MemoryKeyring
) -> None:
    deployment.add_user("carol")
    deployment.idp.admin_set_user_mfa_preference(
        UserPoolId=deployment.pool_id,
        Username="carol",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    dialog = fill_cognito(qtbot, switcher, deployment, "carol", PASSWORD)
    qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy_now, timeout=WAIT_MS)
    assert "SMS_MFA" in dialog.error_label.text() and "does not support" in dialog.error_label.text()
    assert dialog.isVisible() and switcher.window is None
    assert AccountStore(switcher.paths.config_dir).list() == []
    assert keyring_backend.items == {}


def test_when_renewal_fails_the_window_asks_to_sign_in_again_and_keeps_the_queue(
    qtbot: Any, deployment: Deployment, switcher: AccountSwitcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = deployment.add_user("alice")
    check = RequestCheck(monkeypatch)
    dialog = fill_cognito(qtbot, switcher, deployment, "alice", PASSWORD)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    window = shown.args[0]
    qtbot.waitUntil(lambda: window.status.state == sb.ONLINE, timeout=WAIT_MS)

    # The administrator signs alice out everywhere; her tokens are due for renewal.
    with check.paused():
        deployment.idp.admin_user_global_sign_out(UserPoolId=deployment.pool_id, Username="alice")
    switcher.workspace.session().renew()  # only marks them stale: no request here
    with qtbot.waitSignal(window.client.events.sig_queue_changed, timeout=WAIT_MS):
        LibraryOp(lambda lib: lib.create_chat("Written before signing in again")).after_write().run_in(
            window.client.local
        )

    qtbot.waitUntil(lambda: switcher.dialog is not None, timeout=WAIT_MS)
    again = switcher.dialog
    assert "sign in again" in again.reason_label.text()
    assert again.visible_fields() == ["password"] and not again.account_box.isEnabled()
    assert switcher.sign_in_button is not None and switcher.sign_in_button.isVisible()
    status = window.status.status
    assert status is not None and status.library is not None and status.library.pending >= 1
    with check.paused():
        assert remote_titles(deployment.endpoint, alice) == []

    fill(qtbot, again, password=PASSWORD)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as reopened:
        qtbot.keyClick(again.fields["password"], Qt.Key.Key_Return)
    new_window = reopened.args[0]
    assert new_window is not window and not window.client.running

    def sent() -> bool:
        with check.paused():
            return remote_titles(deployment.endpoint, alice) == ["Written before signing in again"]

    qtbot.waitUntil(sent, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: chat_titles(new_window) == ["Written before signing in again"], timeout=WAIT_MS)
    assert check.guard.violations == []
