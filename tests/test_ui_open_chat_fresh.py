"""The open chat kept fresh, through DynamoDB and through the deployment's API: shown from
the mirror at once (nothing sent before its first paint), then read again, so messages
the web app added or deleted show or go; again after each sync while it stays open.

moto's server over HTTP holds the table; the web app writes it straight through boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_stand_in import api_deployment_on
from PySide6.QtCore import QEvent, QObject
from servers import create_galileo_table, dynamodb_client
from ui_helpers import USER, GuiThreadGuard, networked_factory

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.schema import Chat, Message, make_sources, now_ms
from galileio_desktop.ui.app_window import build_window, window_library_factory
from galileio_desktop.ui.main_window import MainWindow
from galileio_desktop.ui.sync_status import status_bar as sb

pytestmark = [pytest.mark.gui, pytest.mark.integration]

TABLE = "galileo-fresh"
WAIT_MS = 20_000
MINUTE_MS = 60_000


@dataclass
class Deployment:
    library_factory: Callable[[], Any]
    #: The web app: straight to the table.
    web: ChatGateway
    requests: Callable[[], int]
    guard: GuiThreadGuard | None = None

    @property
    def user_id(self) -> str:
        return self.web.user_id

    def message(self, chat_id: str, message_id: str, kind: str, at: int, sources: int = 0) -> None:
        message = Message(message_id, chat_id, self.user_id, kind, f"{kind} {message_id}", at)
        found = [{"pageContent": f"{message_id} p{i}", "metadata": {}} for i in range(sources)]
        self.web.put_message(message.with_sources(make_sources(self.user_id, chat_id, message_id, found, at)))


@pytest.fixture(params=["dynamodb", "api"])
def deployment(
    request: pytest.FixtureRequest, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Deployment]:
    if request.param == "dynamodb":
        create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
        guard = GuiThreadGuard()
        factory = networked_factory(tmp_path / "mirror.sqlite3", moto_endpoint, TABLE, guard)
        web = ChatGateway(dynamodb_client(moto_endpoint), TABLE, USER)
        yield Deployment(factory, web, lambda: guard.requests, guard)
        return
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with api_deployment_on(moto_endpoint, tmp_path) as api:
        workspace = api.workspace()
        web = api.table_gateway(workspace.user_id)
        yield Deployment(window_library_factory(workspace), web, api.stand_in.total_requests)


class FirstPaint(QObject):
    """Notes what was shown, and how many requests were sent, when the pane first paints
    rows of ``chat_id``."""

    def __init__(self, window: MainWindow, chat_id: str, requests: Callable[[], int]) -> None:
        super().__init__(window)
        self.window, self.chat_id, self.count = window, chat_id, requests
        self.start = requests()
        self.seen: tuple[int, list[str]] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        pane = self.window.pane
        if (
            event.type() == QEvent.Type.Paint
            and self.seen is None
            and pane.chat_id == self.chat_id
            and pane.model.rowCount()
        ):
            self.seen = (self.count() - self.start, shown(self.window))
        return False


def shown(window: MainWindow) -> list[str]:
    return [row.key for row in window.pane.model.rows()]


def test_an_open_chat_shows_and_drops_what_the_web_app_changed(
    qtbot, tmp_path: Path, deployment: Deployment
) -> None:
    dep = deployment
    old = now_ms() - 10 * MINUTE_MS  # older than any index lag the API's bound allows for
    dep.web.create_chat(Chat("kept-fresh", dep.user_id, "Kept fresh", old))
    for n in range(3):
        dep.message("kept-fresh", f"q{n}", "human", old + 10 * n + 1)
        dep.message("kept-fresh", f"a{n}", "ai", old + 10 * n + 2, sources=2)
    dep.web.create_chat(Chat("other", dep.user_id, "Other", old + 1000))
    dep.message("other", "o1", "human", old + 1001)
    window = build_window(dep.library_factory, None, "fresh", tmp_path / "settings", sync_interval_ms=600_000)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.status.state == sb.ONLINE, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.sidebar.select_chat("other"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shown(window) == ["o1"], timeout=WAIT_MS)

    # The web app deletes an answer and adds an exchange while another chat is open.
    dep.web.delete_message("a1")
    dep.message("kept-fresh", "q9", "human", now_ms())
    dep.message("kept-fresh", "a9", "ai", now_ms() + 1, sources=1)

    paint = FirstPaint(window, "kept-fresh", dep.requests)
    window.pane.view.viewport().installEventFilter(paint)
    assert window.sidebar.select_chat("kept-fresh")
    qtbot.waitUntil(lambda: shown(window) == ["q0", "a0", "q1", "q2", "a2", "q9", "a9"], timeout=WAIT_MS)
    # First painted from the mirror as it was, before anything was sent.
    assert paint.seen == (0, ["q0", "a0", "q1", "a1", "q2", "a2"])
    assert dep.requests() > paint.start

    # While it stays open, each sync reads it again.
    dep.web.delete_message("q0")
    dep.web.delete_message("a0")
    dep.message("kept-fresh", "q10", "human", now_ms())
    with qtbot.waitSignal(window.client.events.sig_sync_done, timeout=WAIT_MS):
        window.sync_action.trigger()
    qtbot.waitUntil(lambda: shown(window) == ["q1", "q2", "a2", "q9", "a9", "q10"], timeout=WAIT_MS)
    assert window.pane.revalidation.started >= 2
    if dep.guard is not None:
        assert dep.guard.violations == []
