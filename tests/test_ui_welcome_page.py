"""The first start in the window: the welcome page, the account file, the website's address.

Sign-in runs against moto's cognito-idp, cognito-identity and DynamoDB over HTTP;
the website is a real local server serving ``runtime-config.json``. A first-time
user with an account file types two values: a user name and a password.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from test_auth_account_file import deploy_output
from test_auth_cognito import PASSWORD, REGION, Deployment, create_deployment
from test_ui_sign_in_cognito import RequestCheck, chat_titles, seed_chats
from test_ui_sign_in_dialog import MemoryKeyring, fill
from website_server import Answer, WebsiteServer, runtime_config

from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import SecretStore
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher, run_first_start
from galileio_desktop.ui.accounts.sign_in_dialog import SignInDialog
from galileio_desktop.ui.accounts.sign_in_worker import SignInRunner
from galileio_desktop.ui.accounts.welcome_page import WHAT_IT_DOES, WelcomePage

pytestmark = pytest.mark.gui

WAIT_MS = 20_000


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "data")


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def switcher(qapp: Any, paths: AppPaths, keyring_backend: MemoryKeyring) -> Iterator[AccountSwitcher]:
    switcher = AccountSwitcher(paths, SecretStore(keyring_backend), sync_interval_ms=600_000)
    yield switcher
    switcher.shutdown()


@pytest.fixture
def website() -> Iterator[WebsiteServer]:
    server = WebsiteServer()
    yield server
    server.stop()


@pytest.fixture
def deployment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return create_deployment(moto_endpoint)


def welcome_of(qtbot: Any, switcher: AccountSwitcher) -> WelcomePage:
    switcher.show_welcome()
    page = switcher.welcome
    assert page is not None
    qtbot.waitExposed(page)
    return page


def test_the_welcome_page_says_what_the_app_does_and_offers_three_ways(
    qtbot: Any, switcher: AccountSwitcher
) -> None:
    page = welcome_of(qtbot, switcher)
    texts = [label.text() for label in page.findChildren(QLabel) if label.isVisible()]
    assert texts[:2] == ["Welcome to Galileio Desktop", WHAT_IT_DOES]
    buttons = [b.text() for b in page.findChildren(QPushButton) if b.isVisible()]
    assert buttons == ["Sign in to your organisation's Galileo", "Import account file…", "Try the demo"]
    assert all(b.accessibleName() for b in page.findChildren(QPushButton))
    assert page.sign_in_button.isDefault()
    assert not any("galileio-desktop" in text for text in texts)  # no command lines for a first start
    for width, height in ((560, 420), (1024, 640)):
        page.resize(width, height)
        qtbot.wait(10)
        for widget in (*page.findChildren(QPushButton), *page.findChildren(QLabel)):
            top_left = widget.mapTo(page, widget.rect().topLeft())
            assert page.rect().contains(top_left) and widget.width() <= page.width()
            needed = (
                widget.heightForWidth(widget.width())
                if widget.hasHeightForWidth()
                else widget.sizeHint().height()
            )
            assert needed <= widget.height() + 1  # nothing cut off


def test_sign_in_opens_over_the_page_and_cancel_comes_back_to_it(
    qtbot: Any, switcher: AccountSwitcher
) -> None:
    page = welcome_of(qtbot, switcher)
    finished: list[bool] = []
    switcher.sig_finished.connect(lambda: finished.append(True))
    qtbot.keyClick(page.sign_in_button, Qt.Key.Key_Return)
    dialog = switcher.dialog
    assert dialog is not None and dialog.isVisible() and dialog.parent() is page
    assert dialog.visible_fields() == ["website", "username", "password"]
    assert dialog.focusWidget() is dialog.fields["website"]
    qtbot.keyClick(dialog.fields["website"], Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: switcher.dialog is None)
    assert page.isVisible() and finished == []
    page.close()
    assert finished == [True] and switcher.welcome is None


def test_try_the_demo_ends_the_first_start_for_the_demo(qapp: QApplication, paths: AppPaths) -> None:
    def click_demo() -> None:
        pages = [w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomePage) and w.isVisible()]
        if not pages:
            QTimer.singleShot(20, click_demo)
            return
        pages[0].demo_button.click()

    QTimer.singleShot(0, click_demo)
    secrets = SecretStore(MemoryKeyring())
    assert run_first_start(paths, secrets=secrets) is None

    def close_page() -> None:
        pages = [w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomePage) and w.isVisible()]
        if not pages:
            QTimer.singleShot(20, close_page)
            return
        pages[0].close()

    QTimer.singleShot(0, close_page)
    assert run_first_start(paths, secrets=secrets) == 0  # closed: done, no demo


def test_an_account_file_then_two_fields_open_the_users_chats(
    qtbot: Any,
    deployment: Deployment,
    switcher: AccountSwitcher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = deployment.add_user("alice")
    seed_chats(deployment.endpoint, alice, ["Quarterly numbers", "Travel policy"])
    account_file = tmp_path / "galileo.json"
    account_file.write_text(deploy_output(deployment), encoding="utf-8")
    check = RequestCheck(monkeypatch)

    page = welcome_of(qtbot, switcher)
    page.import_button.click()
    dialog = switcher.dialog
    assert dialog is not None and dialog.file_dialog is not None and dialog.file_dialog.isVisible()
    dialog.file_dialog.selectFile(str(account_file))
    dialog.file_dialog.accept()
    assert dialog.imported is not None
    assert dialog.visible_fields() == ["username", "password"]
    assert dialog.summary_label.text().startswith(f"Account file: region {REGION}, table galileo-auth-test")
    assert dialog.heading.text() == "Sign in to your organisation's Galileo"
    assert dialog.focusWidget() is dialog.fields["username"]
    visible_edits = [f for f, edit in dialog.fields.items() if edit.isVisibleTo(dialog)]
    assert visible_edits == ["username", "password"]

    fill(qtbot, dialog, username="alice", password=PASSWORD)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    window = shown.args[0]
    qtbot.waitUntil(lambda: chat_titles(window) == ["Quarterly numbers", "Travel policy"], timeout=WAIT_MS)
    assert switcher.welcome is None  # the page gave way to the account's window
    assert window.windowTitle() == "Galileio Desktop — galileo"
    assert AccountStore(switcher.paths.config_dir).get("galileo").user_id == alice
    assert check.guard.violations == []


def test_a_bad_account_file_is_said_in_the_dialog(
    qtbot: Any, switcher: AccountSwitcher, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"format": "galileio-account/1", "region": "eu-west-1", "password": "x"}', encoding="utf-8"
    )
    switcher.add_account()
    dialog = switcher.dialog
    assert dialog is not None
    assert not dialog.import_file(str(bad))
    assert "looks like a secret (password)" in dialog.error_label.text() and dialog.error_label.isVisible()
    assert dialog.imported is None and dialog.visible_fields() == ["website", "username", "password"]


@pytest.fixture
def runner(qapp: QApplication, keyring_backend: MemoryKeyring) -> Iterator[SignInRunner]:
    runner = SignInRunner(SecretStore(keyring_backend))
    yield runner
    runner.shutdown()


def test_the_website_is_read_shown_and_then_two_fields_sign_in(
    qtbot: Any,
    deployment: Deployment,
    website: WebsiteServer,
    runner: SignInRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = deployment.add_user("alice")
    store = AccountStore(tmp_path / "config")
    check = RequestCheck(monkeypatch)
    dialog = SignInDialog(store, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    # A captive portal first: one clear line on the website field, nothing saved.
    website.answer = Answer(body=b"<html><body>Sign in to Hotel Wi-Fi</body></html>")
    fill(qtbot, dialog, website=website.url, username="alice", password=PASSWORD)
    qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible() and not dialog.busy_now, timeout=WAIT_MS)
    assert "answered with a web page instead of Galileo's settings" in dialog.error_label.text()
    assert dialog.focusWidget() is dialog.fields["website"] and store.list() == []

    # The real website: what it found is shown, then the same two fields sign in.
    website.serve_json(
        runtime_config(REGION, deployment.pool_id, deployment.client_id, deployment.identity_pool_id)
    )
    fill(qtbot, dialog, website=website.url + "/#/chat/1")
    qtbot.keyClick(dialog.fields["website"], Qt.Key.Key_Tab)  # leaving the field reads the website
    qtbot.waitUntil(lambda: dialog.summary_label.text().startswith("Found Galileo at"), timeout=WAIT_MS)
    assert f"user pool {deployment.pool_id}" in dialog.summary_label.text()
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=WAIT_MS) as signed_in:
        qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    account, session = signed_in.args
    assert session.user_id == alice
    assert account.name == "127" or account.name == "galileo"
    stored = store.get(account.name)
    assert stored.website == website.url + "/" and stored.user_id == alice and stored.transport == "api"
    assert stored.api_url == "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"
    assert website.requests.count("/runtime-config.json") == 2  # the portal, then the website once
    assert check.guard.violations == []
