"""The sign-in dialog: what it checks before signing in, its keyboard, its names, the welcome.

Signing in with an access key needs no server (the secret is only stored), so
these tests run the real sign-in thread and a real keyring backend object that
keeps its items in memory. The Cognito flow over HTTP is in
``test_ui_sign_in_cognito.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backend
import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QPushButton, QWidget
from ui_helpers import GuiThreadGuard

from galileio_desktop.data.auth.accounts import Account, AccountStore
from galileio_desktop.data.auth.secrets import SECRET_ACCESS_KEY, SERVICE, SecretStore
from galileio_desktop.ui.accounts.sign_in_dialog import SignInDialog
from galileio_desktop.ui.accounts.sign_in_worker import SignInRunner

pytestmark = pytest.mark.gui

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A complete keyring backend that keeps its items in this object, as the OS keyring would.

    ``viable = False`` keeps it out of keyring's automatic choice for the rest of the process.
    """

    viable = False
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        #: Every item ever written, removed or not.
        self.written: list[tuple[str, str]] = []
        #: When set, writes wait for it (to catch the sign-in thread in the middle of its work).
        self.gate: threading.Event | None = None

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        self.items[(service, username)] = password
        self.written.append((service, username))

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")

    def secrets_of(self, account: str) -> dict[str, str]:
        return {
            user.split(":", 1)[1]: value
            for (svc, user), value in self.items.items()
            if svc == SERVICE and user.startswith(account + ":")
        }


def guard_every_request(monkeypatch: pytest.MonkeyPatch) -> GuiThreadGuard:
    """The GUI-thread guard on every botocore request of the process (Cognito included).

    The auth layer makes its clients itself, so the guard wraps botocore's send
    instead of being registered client by client; it checks, then sends for real.
    While ``guard.paused`` is true (the test's own set-up calls), nothing is checked;
    ``guard.qt_threads`` collects the names of the Qt threads the requests came from.
    """
    import botocore.endpoint

    guard = GuiThreadGuard()
    guard.qt_threads = set()  # type: ignore[attr-defined]
    original = botocore.endpoint.Endpoint._send

    def checked_send(self: Any, request: Any) -> Any:
        if not getattr(guard, "paused", False):
            guard.qt_threads.add(QThread.currentThread().objectName())  # type: ignore[attr-defined]
            guard(request=request)
        return original(self, request)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", checked_send)
    return guard


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def secrets(keyring_backend: MemoryKeyring) -> SecretStore:
    store = SecretStore(keyring_backend)
    assert store.usable, store.warning
    return store


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    return AccountStore(tmp_path / "config")


@pytest.fixture
def runner(qapp: QApplication, secrets: SecretStore) -> Iterator[SignInRunner]:
    runner = SignInRunner(secrets)
    yield runner
    runner.shutdown()


def open_dialog(qtbot: Any, store: AccountStore, runner: SignInRunner, **kwargs: Any) -> SignInDialog:
    dialog = SignInDialog(store, runner, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def fill(qtbot: Any, dialog: SignInDialog, **values: str) -> None:
    """Type into the fields as a user would (replacing what is there)."""
    for field, value in values.items():
        edit = dialog.fields[field]
        edit.clear()
        qtbot.keyClicks(edit, value)


def choose_kind(dialog: SignInDialog, kind: str) -> None:
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(kind))


def keys_values(name: str = "lab", user_id: str = "analyst-7") -> dict[str, str]:
    return {
        "name": name,
        "region": "eu-west-1",
        "table": "galileo-chats",
        "access_key_id": "AKIAEXAMPLE",
        "secret_key": SECRET,
        "user_id": user_id,
    }


# -- checks before signing in --------------------------------------------------------------


def test_missing_fields_are_named_and_focused_before_anything_is_sent(
    qtbot: Any, store: AccountStore, runner: SignInRunner
) -> None:
    dialog = open_dialog(qtbot, store, runner)
    assert dialog.kind == "website"  # the first choice: the organisation's website
    assert dialog.heading.text() == "Sign in to your organisation's Galileo"
    assert dialog.visible_fields() == ["website", "username", "password"]
    choose_kind(dialog, "cognito")
    assert dialog.heading.text() == "Add an account"
    assert dialog.fields["name"].text() == "work"  # the first account gets a name to start from
    fill(qtbot, dialog, table="galileo-chats", user_pool_id="eu-west-1_AbC123")
    assert dialog.fields["region"].text() == "eu-west-1"  # read from the user pool id

    qtbot.keyClick(dialog.fields["table"], Qt.Key.Key_Return)
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "Enter the app client id."
    assert dialog.focusWidget() is dialog.fields["client_id"]
    assert not dialog.busy_now and dialog.isVisible()

    fill(qtbot, dialog, client_id="client", identity_pool_id="no-colon", username="alice", password="pw")
    qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    assert "Identity pool id" in dialog.error_label.text()
    assert dialog.focusWidget() is dialog.fields["identity_pool_id"]
    assert not dialog.busy_now
    assert store.list() == []


def test_each_kind_asks_for_its_own_fields_and_checks_them(
    qtbot: Any, store: AccountStore, runner: SignInRunner
) -> None:
    dialog = open_dialog(qtbot, store, runner)
    choose_kind(dialog, "profile")
    assert dialog.visible_fields() == ["name", "region", "table", "endpoint_url", "aws_profile", "user_id"]
    assert dialog.fields["aws_profile"].isVisible() and not dialog.fields["password"].isVisible()
    choose_kind(dialog, "keys")
    assert dialog.visible_fields()[-3:] == ["access_key_id", "secret_key", "user_id"]
    assert dialog.fields["secret_key"].echoMode() == QLineEdit.EchoMode.Password

    fill(qtbot, dialog, **keys_values(user_id="has#hash"))
    qtbot.keyClick(dialog.fields["user_id"], Qt.Key.Key_Return)
    assert "may not contain '#'" in dialog.error_label.text()
    assert dialog.focusWidget() is dialog.fields["user_id"]

    fill(qtbot, dialog, user_id="analyst-7", endpoint_url="localhost:8000")
    qtbot.keyClick(dialog.fields["user_id"], Qt.Key.Key_Return)
    assert "http:// or https://" in dialog.error_label.text()
    assert dialog.focusWidget() is dialog.fields["endpoint_url"]
    assert store.list() == []


def test_a_name_in_use_is_refused_before_its_secrets_could_be_overwritten(
    qtbot: Any, store: AccountStore, runner: SignInRunner, keyring_backend: MemoryKeyring
) -> None:
    store.add(Account(name="lab", auth="keys", region="eu-west-1", table="t", access_key_id="K", user_id="u"))
    runner.secrets.set("lab", SECRET_ACCESS_KEY, "the-old-secret")
    dialog = open_dialog(qtbot, store, runner)
    assert dialog.account_box.isVisibleTo(dialog)  # there are accounts to choose from
    choose_kind(dialog, "keys")
    fill(qtbot, dialog, **keys_values(name="lab"))
    qtbot.keyClick(dialog.fields["user_id"], Qt.Key.Key_Return)
    assert "exists already" in dialog.error_label.text()
    assert keyring_backend.secrets_of("lab") == {SECRET_ACCESS_KEY: "the-old-secret"}


# -- keyboard -------------------------------------------------------------------------------


def test_enter_signs_in_and_saves_the_account_without_its_secret(
    qtbot: Any,
    store: AccountStore,
    runner: SignInRunner,
    keyring_backend: MemoryKeyring,
) -> None:
    dialog = open_dialog(qtbot, store, runner)
    choose_kind(dialog, "keys")
    fill(qtbot, dialog, **keys_values())
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=10_000) as signed_in:
        qtbot.keyClick(dialog.fields["user_id"], Qt.Key.Key_Return)
        assert dialog.busy_now and not dialog.sign_in_button.isEnabled()

    account, session = signed_in.args
    assert dialog.result() == SignInDialog.DialogCode.Accepted and not dialog.isVisible()
    assert account == store.get("lab") and account.user_id == "analyst-7"
    assert session.user_id == "analyst-7" and session.account == account
    assert store.current_name() == "lab"
    assert keyring_backend.secrets_of("lab") == {SECRET_ACCESS_KEY: SECRET}
    assert SECRET not in store.path.read_text(encoding="utf-8")
    assert json.loads(store.path.read_text(encoding="utf-8"))["accounts"][0]["access_key_id"] == "AKIAEXAMPLE"
    assert all(not dialog.fields[f].text() for f in ("password", "secret_key"))


def test_escape_cancels_and_keeps_nothing(
    qtbot: Any, store: AccountStore, runner: SignInRunner, keyring_backend: MemoryKeyring
) -> None:
    dialog = open_dialog(qtbot, store, runner)
    choose_kind(dialog, "keys")
    fill(qtbot, dialog, **keys_values())
    with qtbot.waitSignal(dialog.rejected, timeout=2_000):
        qtbot.keyClick(dialog.fields["secret_key"], Qt.Key.Key_Escape)
    assert dialog.result() == SignInDialog.DialogCode.Rejected
    assert dialog.fields["secret_key"].text() == ""
    assert store.list() == [] and keyring_backend.items == {}


def test_a_sign_in_cancelled_midway_leaves_no_secret_behind(
    qtbot: Any, store: AccountStore, runner: SignInRunner, keyring_backend: MemoryKeyring
) -> None:
    """The sign-in thread may finish after the user cancelled: what it stored for the
    never-saved account is removed."""
    gate = keyring_backend.gate = threading.Event()
    dialog = open_dialog(qtbot, store, runner)
    choose_kind(dialog, "keys")
    fill(qtbot, dialog, **keys_values())
    qtbot.keyClick(dialog.fields["user_id"], Qt.Key.Key_Return)
    assert dialog.busy_now
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    gate.set()
    # Stored by the sign-in thread once let through, then removed: not waited for with
    # waitSignal on the worker's own signal, whose blocker would stop its timer in that thread.
    qtbot.waitUntil(lambda: bool(keyring_backend.written) and keyring_backend.items == {}, timeout=10_000)
    assert store.list() == []


# -- names and the other faces of the dialog ------------------------------------------------


def test_every_control_has_an_accessible_name_and_a_label(
    qtbot: Any, store: AccountStore, runner: SignInRunner
) -> None:
    dialog = open_dialog(qtbot, store, runner)
    for kind in ("website", "cognito", "profile", "keys"):
        choose_kind(dialog, kind)
        controls = [
            w
            for w in dialog.findChildren(QWidget)
            if isinstance(w, (QLineEdit, QComboBox, QPushButton))
            and w.isVisibleTo(dialog)
            and not w.objectName().startswith("qt_")
        ]
        assert len(controls) >= (6 if kind == "website" else 8)
        assert [w for w in controls if not w.accessibleName()] == []
        labelled = {label.buddy() for label in dialog.findChildren(QLabel) if label.buddy() is not None}
        edits = [w for w in controls if isinstance(w, QLineEdit)]
        assert [e.objectName() for e in edits if e not in labelled] == []
    assert dialog.error_label.accessibleName() == "Sign-in problem"
    assert dialog.sign_in_button.isDefault()


def test_an_existing_account_asks_only_for_its_secret(
    qtbot: Any, store: AccountStore, runner: SignInRunner
) -> None:
    store.add(
        Account(
            name="work",
            auth="cognito",
            region="eu-west-1",
            table="galileo-chats",
            user_pool_id="eu-west-1_AbC123",
            client_id="client",
            identity_pool_id="eu-west-1:0000",
            username="alice",
        )
    )
    dialog = open_dialog(
        qtbot, store, runner, account_name="work", reason="Your sign-in expired.", lock_account=True
    )
    assert dialog.heading.text() == "Sign in to work"
    assert dialog.reason_label.text() == "Your sign-in expired." and dialog.reason_label.isVisible()
    assert dialog.visible_fields() == ["password"]
    assert dialog.focusWidget() is dialog.fields["password"]
    assert "User alice" in dialog.summary_label.text() and "galileo-chats" in dialog.summary_label.text()
    assert not dialog.account_box.isEnabled()
    qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    assert dialog.error_label.text() == "Enter the password."
