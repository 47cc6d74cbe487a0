"""The window with only a website address, a user name and a password, end to end.

The first start's welcome page signs in with the website's address (a local server
serving ``runtime-config.json``), which names moto's Cognito and the API stand-in in
front of the moto table; the stand-in answers questions with the local-documents
assistant. Then, in the real window the account switcher opens: the chats listed,
one opened with its messages and sources, a chat created, a question asked, a chat
renamed, a message and a chat deleted once Undo's time is over. Each step is checked
in the table through boto3, and no request (boto3's or the API's own HTTP) is ever
sent from the GUI thread.
"""

from __future__ import annotations

import contextlib
import http.client
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_stand_in import ApiDeployment, api_deployment_on
from PySide6.QtCore import Qt
from servers import dynamodb_client
from test_auth_cognito import PASSWORD, REGION, TABLE
from test_ui_sign_in_cognito import chat_titles
from test_ui_sign_in_dialog import MemoryKeyring, fill
from ui_helpers import GuiThreadGuard
from website_server import WebsiteServer, runtime_config

from galileio_desktop.data.auth.secrets import SecretStore
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.data.schema import Chat, Message, make_sources, now_ms
from galileio_desktop.ui.accounts.account_switcher import AccountSwitcher
from galileio_desktop.ui.conversation.message_list_model import AI, HUMAN
from galileio_desktop.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.integration]

WAIT_MS = 20_000
MINUTE_MS = 60_000


class HttpThreadCheck:
    """The GUI-thread guard on every HTTP request of the process: boto3's (through
    urllib3), the API's own sender and the website's fetch all start one with
    ``http.client``'s ``putrequest``. Paused while the test itself reads the table."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.guard = GuiThreadGuard()
        self.paused = False
        self.hosts: set[str] = set()
        original = http.client.HTTPConnection.putrequest
        check = self

        def checked(connection: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if not check.paused:
                check.hosts.add(f"{connection.host}:{connection.port}")
                check.guard(request=type("Sent", (), {"url": f"{method} {url}"})())
            return original(connection, method, url, *args, **kwargs)

        monkeypatch.setattr(http.client.HTTPConnection, "putrequest", checked)

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        self.paused = True
        try:
            yield
        finally:
            self.paused = False


class Table:
    """The user's items in the table, read by the test as the web app stores them."""

    def __init__(self, api: ApiDeployment, check: HttpThreadCheck) -> None:
        self.api, self.check = api, check
        self.user_id = ""

    def items(self) -> list[dict[str, Any]]:
        with self.check.pause():
            return dynamodb_client(self.api.endpoint).query(
                TableName=TABLE,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": self.user_id}},
                ConsistentRead=True,
            )["Items"]

    def titles(self) -> dict[str, str]:
        return {i["chatId"]["S"]: i["title"]["S"] for i in self.items() if i["SK"]["S"].startswith("CHAT#")}

    def of_chat(self, chat_id: str, kind: str) -> list[dict[str, Any]]:
        return [
            i for i in self.items() if i["SK"]["S"].startswith(kind + "#") and i["chatId"]["S"] == chat_id
        ]

    def kinds(self, chat_id: str) -> list[str]:
        return sorted(i["type"]["S"] for i in self.of_chat(chat_id, "MESSAGE"))


@pytest.fixture
def switcher(qapp: Any, tmp_path: Path) -> Iterator[AccountSwitcher]:
    paths = AppPaths.resolve(tmp_path / "data")
    switcher = AccountSwitcher(paths, SecretStore(MemoryKeyring()), sync_interval_ms=600_000)
    yield switcher
    switcher.shutdown()


@pytest.fixture
def website() -> Iterator[WebsiteServer]:
    server = WebsiteServer()
    yield server
    server.stop()


@pytest.fixture
def api(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ApiDeployment]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # Cognito's pools on moto
    with api_deployment_on(moto_endpoint, tmp_path) as deployment:
        yield deployment


def seed_web_chat(api: ApiDeployment, user_id: str) -> None:
    """What the web app stored before: a question and an answer citing two passages."""
    web = api.table_gateway(user_id)
    old = now_ms() - 10 * MINUTE_MS
    web.create_chat(Chat("web-chat", user_id, "From the web app", old))
    web.put_message(Message("web-q", "web-chat", user_id, "human", "Where is the runbook?", old + 1))
    answer = Message("web-a", "web-chat", user_id, "ai", "In the wiki [1].", old + 2)
    found = [
        {"pageContent": f"passage {n}", "metadata": {"source_location": f"s3://d/{n}.md"}} for n in (0, 1)
    ]
    web.put_message(answer.with_sources(make_sources(user_id, "web-chat", "web-a", found, old + 2)))


def sign_in_on_the_welcome_page(qtbot: Any, switcher: AccountSwitcher, website: str) -> MainWindow:
    switcher.show_welcome()
    page = switcher.welcome
    assert page is not None
    qtbot.waitExposed(page)
    page.sign_in_button.click()
    dialog = switcher.dialog
    assert dialog is not None and dialog.visible_fields() == ["website", "username", "password"]
    fill(qtbot, dialog, website=website, username="alice", password=PASSWORD)
    with qtbot.waitSignal(switcher.sig_window_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(dialog.fields["password"], Qt.Key.Key_Return)
    window: MainWindow = shown.args[0]
    window.resize(1200, 760)
    return window


def rows(window: MainWindow) -> list[tuple[str, str]]:
    return [(r.kind, r.key) for r in window.pane.model.rows()]


def test_a_website_address_a_user_name_and_a_password_reach_every_chat_action_in_the_window(
    qtbot: Any,
    api: ApiDeployment,
    website: WebsiteServer,
    switcher: AccountSwitcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = api.cognito.add_user("alice")
    seed_web_chat(api, user_id)
    cognito = api.cognito
    website.serve_json(
        runtime_config(
            REGION,
            cognito.pool_id,
            cognito.client_id,
            cognito.identity_pool_id,
            apiUrl=api.stand_in.url,
            inferenceBufferedFunctionUrl=api.stand_in.url,  # the stand-in's ask route answers
        )
    )
    check = HttpThreadCheck(monkeypatch)
    table = Table(api, check)
    table.user_id = user_id

    window = sign_in_on_the_welcome_page(qtbot, switcher, website.url)
    assert switcher.workspace is not None and switcher.workspace.uses_api
    qtbot.waitUntil(lambda: chat_titles(window) == ["From the web app"], timeout=WAIT_MS)

    # Open the web app's chat: its messages, and the answer's sources in the drawer.
    assert window.sidebar.select_chat("web-chat")
    qtbot.waitUntil(lambda: rows(window) == [(HUMAN, "web-q"), (AI, "web-a")], timeout=WAIT_MS)
    with qtbot.waitSignal(window.drawer.sig_sources_shown, timeout=WAIT_MS) as shown:
        window.pane.select_key("web-a")
    assert shown.args[1] == 2
    assert [card.location_label.text() for card in window.drawer.cards] == ["0.md", "1.md"]

    # Create a chat and ask: the answer arrives, stored once by the server.
    selected: list[str] = []
    window.sidebar.sig_chat_selected.connect(selected.append)
    with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS):
        window.new_chat_action.trigger()
    window.composer.editor.setPlainText("How long are invoices kept?")
    with qtbot.waitSignal(window.pane.asks.sig_answer_finished, timeout=WAIT_MS):
        qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: [k for k, _ in rows(window)] == [HUMAN, AI], timeout=WAIT_MS)
    assert "10 years" in window.pane.model.rows()[1].text
    chat_id = window.sidebar.current_chat_id
    assert chat_id == window.pane.chat_id and len(selected) == 1  # it stayed open, under the server's id
    qtbot.waitUntil(lambda: chat_id in table.titles(), timeout=WAIT_MS)
    assert table.kinds(chat_id) == ["ai", "human"]  # exactly once: nothing written twice
    assert table.of_chat(chat_id, "SOURCE")
    assert api.stand_in.requests["PUT /chat/{id}/message"] == 1
    assert window.pane.model.rows()[1].key == next(
        i["messageId"]["S"] for i in table.of_chat(chat_id, "MESSAGE") if i["type"]["S"] == "ai"
    )

    # Rename in place.
    window.sidebar.list_view.setFocus()
    window.sidebar.rename_current()
    qtbot.waitUntil(
        lambda: window.sidebar.list_view.state() == window.sidebar.list_view.State.EditingState,
        timeout=WAIT_MS,
    )
    editor = window.sidebar.list_view.focusWidget()
    editor.selectAll()
    qtbot.keyClicks(editor, "Invoices")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.titles().get(chat_id) == "Invoices", timeout=WAIT_MS)

    # Delete the web app's answer, then the new chat, each once Undo's time is over.
    assert window.sidebar.select_chat("web-chat")
    qtbot.waitUntil(lambda: rows(window) == [(HUMAN, "web-q"), (AI, "web-a")], timeout=WAIT_MS)
    window.pane.actions.undo_timeout_ms = 200
    with qtbot.waitSignal(window.pane.actions.sig_deleted, timeout=WAIT_MS):
        window.pane._on_row_action("delete", "web-a")
    qtbot.waitUntil(lambda: rows(window) == [(HUMAN, "web-q")], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: table.kinds("web-chat") == ["human"], timeout=WAIT_MS)
    assert table.of_chat("web-chat", "SOURCE") == []

    assert window.sidebar.select_chat(chat_id)
    window.sidebar.undo_timeout_ms = 200
    window.sidebar.delete_current()
    with qtbot.waitSignal(window.sidebar.toast.sig_expired, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: chat_id not in table.titles(), timeout=WAIT_MS)
    assert table.of_chat(chat_id, "MESSAGE") == [] and table.of_chat(chat_id, "SOURCE") == []
    assert chat_titles(window) == ["From the web app"]

    assert check.guard.requests > 10 and check.guard.violations == []
    assert urllib.parse.urlsplit(api.stand_in.url).netloc in check.hosts  # the API's own sender was checked


def test_a_new_chat_stays_open_when_it_takes_the_servers_id(
    qtbot: Any, api: ApiDeployment, tmp_path: Path
) -> None:
    """Created, then sent by a sync before anything is asked in it: the list and the pane
    follow it to the id the API made, and nothing else opens."""
    from galileio_desktop.ui.app_window import build_window, window_library_factory

    workspace = api.workspace()
    seed_web_chat(api, workspace.user_id)
    window = build_window(
        window_library_factory(workspace), None, "alice", tmp_path / "settings", sync_interval_ms=600_000
    )
    qtbot.addWidget(window)
    window.show()
    try:
        window.start()
        qtbot.waitUntil(lambda: chat_titles(window) == ["From the web app"], timeout=WAIT_MS)
        with qtbot.waitSignal(window.sidebar.sig_new_chat_created, timeout=WAIT_MS) as created:
            window.new_chat_action.trigger()
        local_id = created.args[0]
        selected: list[str] = []
        window.sidebar.sig_chat_selected.connect(selected.append)
        server_ids: list[str] = []
        qtbot.waitUntil(
            lambda: bool(
                server_ids.extend(
                    c.chat_id
                    for c in api.table_gateway(workspace.user_id).list_chats()
                    if c.chat_id != "web-chat"
                )
                or server_ids
            ),
            timeout=WAIT_MS,
        )
        with qtbot.waitSignal(window.client.events.sig_sync_done, timeout=WAIT_MS):
            window.sync_action.trigger()
        qtbot.waitUntil(lambda: window.sidebar.current_chat_id == server_ids[0], timeout=WAIT_MS)
        assert server_ids[0] != local_id and window.pane.chat_id == server_ids[0]
        assert window.composer.chat_id == server_ids[0] and selected == []  # nothing else was opened
        assert sorted(chat_titles(window)) == ["From the web app", "New chat"]
    finally:
        window.close()
