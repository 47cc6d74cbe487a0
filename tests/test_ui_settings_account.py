"""Settings of the account shown: its assistant (accounts file and keyring) and removing its local copy.

The window is the account switcher's, as the app runs it; the account signs in with
an access key on moto's DynamoDB server over HTTP. Removing the local copy must never
touch the server: the items there are the same before and after, and the new window
reads them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from servers import create_galileo_table, dynamodb_client
from test_ui_accounts_switch import add_keys_account, chat_titles, seed_chats, start_on
from test_ui_sign_in_dialog import MemoryKeyring, guard_every_request

from galileio_desktop.data.assistants.settings import OPENAI
from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import ASSISTANT_API_KEY, SecretStore
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.settings.settings_dialog import SettingsDialog
from galileio_desktop.workspace import Workspace

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-ui-accounts"  # the switcher tests' helpers write to this table
WAIT_MS = 20_000
OK = QDialogButtonBox.StandardButton.Ok


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    return moto_endpoint


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


def open_alice(qtbot: Any, switcher: AccountSwitcher, paths: AppPaths, endpoint: str) -> MainWindow:
    store = AccountStore(paths.config_dir)
    account = add_keys_account(store, switcher.secrets, "alice", endpoint)
    window = start_on(qtbot, switcher, Workspace(account, paths))
    qtbot.waitUntil(lambda: window.parts_built, timeout=WAIT_MS)
    return window


def open_settings(qtbot: Any, window: MainWindow) -> SettingsDialog:
    window.settings_action.trigger()
    # The one shown: a dialog closed before waits for its deletion.
    [dialog] = [d for d in window.findChildren(SettingsDialog) if d.isVisible()]
    return dialog


def server_items(endpoint: str) -> list[dict[str, Any]]:
    items = dynamodb_client(endpoint).scan(TableName=TABLE)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def test_the_assistant_is_stored_in_the_account_and_its_key_in_the_keyring(
    qtbot: Any, endpoint: str, paths: AppPaths, switcher: AccountSwitcher, keyring_backend: MemoryKeyring
) -> None:
    window = open_alice(qtbot, switcher, paths, endpoint)
    dialog = open_settings(qtbot, window)
    page = dialog.assistant
    assert page is not None and dialog.tabs.isTabEnabled(1)
    dialog.tabs.setCurrentWidget(page)
    page.backend_box.setCurrentIndex(page.backend_box.findData(OPENAI))
    assert page.url_edit.isVisibleTo(dialog) and not page.docs_edit.isVisibleTo(dialog)

    # A missing URL is said, on the Assistant page, and nothing is stored.
    page.model_edit.setText("llama3")
    qtbot.mouseClick(dialog.buttons.button(OK), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "needs the endpoint URL" in dialog.error_label.text()
    assert dialog.tabs.currentWidget() is page
    assert "openai" not in AccountStore(paths.config_dir).path.read_text()

    page.url_edit.setText("http://127.0.0.1:11434/v1")
    page.api_key_edit.setText("sk-local-test-key")
    page.options_edit.setPlainText('{"temperature": 0.2}')
    page.history_box.setValue(4)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):  # once the assistant is stored
        qtbot.mouseClick(dialog.buttons.button(OK), Qt.MouseButton.LeftButton)
        assert dialog.storing and dialog.isVisible()

    text = AccountStore(paths.config_dir).path.read_text()
    stored = AccountStore(paths.config_dir).get("alice")
    assert stored.assistant["backend"] == OPENAI and stored.assistant["url"] == "http://127.0.0.1:11434/v1"
    assert stored.assistant["options"] == {"temperature": 0.2} and stored.history_limit == 4
    assert "sk-local-test-key" not in text and "api_key" not in json.loads(text)["accounts"][0]["assistant"]
    assert switcher.secrets.get("alice", ASSISTANT_API_KEY) == "sk-local-test-key"
    assert window.client.history_limit == 4
    assert (
        switcher.workspace is not None
        and switcher.workspace.assistant_settings().api_key == "sk-local-test-key"
    )
    qtbot.waitUntil(lambda: window.client.answerer.assistant_name != "", timeout=WAIT_MS)

    again = open_settings(qtbot, window).assistant
    assert again is not None and again.backend == OPENAI and again.model_edit.text() == "llama3"
    qtbot.waitUntil(lambda: "A key is stored" in again.api_key_edit.placeholderText(), timeout=WAIT_MS)
    assert again.api_key_edit.text() == ""


def test_removing_local_data_warns_of_unsent_changes_and_never_touches_the_server(
    qtbot: Any, endpoint: str, paths: AppPaths, switcher: AccountSwitcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_chats(endpoint, "alice-id", ["On the server"])
    before = server_items(endpoint)
    guard = guard_every_request(monkeypatch)
    window = open_alice(qtbot, switcher, paths, endpoint)
    qtbot.waitUntil(lambda: chat_titles(window) == ["On the server"], timeout=WAIT_MS)
    workspace = switcher.workspace
    assert workspace is not None
    mirror = Path(workspace.mirror_path)
    with ChatLibrary(mirror, "alice-id", None) as library:  # a change made here, not sent yet
        library.create_chat("Only on this computer")
        unsent = library.status().pending
    assert unsent >= 1

    dialog = open_settings(qtbot, window)
    page = dialog.local_data
    dialog.tabs.setCurrentWidget(page)
    assert page.remove_button.isEnabled()

    # Cancel keeps everything.
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible(), timeout=WAIT_MS)
    box = page.confirm_box
    words = f"{box.text()} {box.informativeText()}"
    assert f"{unsent} change" in words and "will be lost" in words and "stay on the server" in words
    assert box.icon() == QMessageBox.Icon.Warning and box.defaultButton() is box.escapeButton()
    box.escapeButton().click()
    qtbot.waitUntil(lambda: page.confirm_box is None)
    assert switcher.window is window and mirror.exists()

    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible(), timeout=WAIT_MS)
    remove = next(
        b
        for b in page.confirm_box.buttons()
        if page.confirm_box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        remove.click()
    fresh = shown.args[0]
    assert fresh is not window and switcher.window is fresh
    assert "local data was removed" in fresh.status.currentMessage()
    qtbot.waitUntil(lambda: chat_titles(fresh) == ["On the server"], timeout=WAIT_MS)
    with ChatLibrary(mirror, "alice-id", None) as library:
        assert [v.chat.title for v in library.list_chats()] == ["On the server"]
        assert library.status().pending == 0
    guard.paused = True  # type: ignore[attr-defined] - the test's own look at the server
    assert server_items(endpoint) == before
    assert guard.violations == []
    QApplication.processEvents()
