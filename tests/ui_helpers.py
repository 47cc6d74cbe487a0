"""Shared helpers of the window tests: real data objects, real libraries on temporary mirrors.

Nothing here fakes the data layer: views are the library's own dataclasses, and
libraries are real :class:`ChatLibrary` objects on a temporary SQLite mirror,
offline (no gateway) or on in-process moto.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from galileio_desktop.data.schema import Chat, Message, Source, new_id
from galileio_desktop.data.sync.views import ChatView, MessageView

USER = "user-1"
DAY_MS = 86_400_000


def local_noon_ms(day: dt.date) -> int:
    """Noon of ``day`` in local time, as epoch milliseconds (far from any midnight)."""
    return int(dt.datetime.combine(day, dt.time(12, 0)).astimezone().timestamp() * 1000)


def chat_view(
    title: str,
    last_activity: int,
    *,
    chat_id: str | None = None,
    pending: bool = False,
    unsent: int = 0,
    parked_error: str | None = None,
) -> ChatView:
    chat = Chat(chat_id or new_id(), USER, title, last_activity)
    return ChatView(chat, last_activity, pending, unsent, parked_error)


def message_view(
    chat_id: str,
    kind: str,
    text: str,
    created_at: int,
    *,
    message_id: str | None = None,
    sources: int = 0,
    pending: bool = False,
    stopped: bool = False,
) -> MessageView:
    mid = message_id or new_id()
    srcs = tuple(
        Source(
            str(i),
            mid,
            chat_id,
            USER,
            f"passage {i}",
            {"source_location": f"s3://bucket/doc{i}.pdf"},
            created_at,
        )
        for i in range(sources)
    )
    message = Message(mid, chat_id, USER, kind, text, created_at).with_sources(srcs)
    return MessageView(message, pending, None, stopped)


class GuiThreadGuard:
    """A botocore ``before-send`` hook that fails any request sent from the GUI thread.

    Register it on every client the library's gateway factory makes; ``violations``
    lists what was refused, so a test can assert none happened even where the
    raised error was swallowed and turned into "offline".
    """

    def __init__(self) -> None:
        self.gui_thread = threading.main_thread()
        self.violations: list[str] = []
        self.requests = 0
        self.threads: set[str] = set()

    def __call__(self, request: Any = None, **kwargs: Any) -> None:
        current = threading.current_thread()
        self.requests += 1
        self.threads.add(current.name)
        if current is self.gui_thread:
            self.violations.append(str(getattr(request, "url", "?")))
            raise AssertionError("a DynamoDB request was sent from the GUI thread")

    def install(self, client: Any) -> Any:
        client.meta.events.register("before-send.dynamodb", self)
        return client


def offline_factory(mirror: Path, user_id: str = USER) -> Callable[[], Any]:
    """A library factory for a mirror with no DynamoDB connection (reads and local writes only)."""
    from galileio_desktop.data.sync import ChatLibrary

    def make() -> ChatLibrary:
        return ChatLibrary(mirror, user_id, None)

    return make


def networked_factory(
    mirror: Path, endpoint: str | None, table: str, guard: GuiThreadGuard | None, user_id: str = USER
) -> Callable[[], Any]:
    """A library factory whose gateway's client carries the GUI-thread guard (None: test setup code).

    ``endpoint`` None: the default endpoint (in-process moto when ``mock_aws`` is active).
    """
    import boto3
    from botocore.config import Config

    from galileio_desktop.data.dynamo.gateway import ChatGateway
    from galileio_desktop.data.sync import ChatLibrary

    def gateway() -> ChatGateway:
        client = boto3.session.Session().client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                connect_timeout=2, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"}
            ),
        )
        return ChatGateway(guard.install(client) if guard is not None else client, table, user_id)

    def make() -> ChatLibrary:
        return ChatLibrary(mirror, user_id, gateway)

    return make


def seed_library(
    mirror: Path, chats: int = 2, answers_with_sources: bool = True, user_id: str = USER
) -> list[str]:
    """Write chats with a question and an answer each (sources included) straight into a mirror."""
    from galileio_desktop.data.sync import ChatLibrary

    ids = []
    with ChatLibrary(mirror, user_id, None) as library:
        for n in range(chats):
            chat = library.create_chat(f"Seeded chat {n}")
            library.add_message(chat.chat_id, "human", f"Question {n}?")
            sources = (
                [
                    {
                        "pageContent": f"Passage {n}.{i}",
                        "metadata": {"source_location": f"s3://docs/file{i}.md"},
                    }
                    for i in range(2)
                ]
                if answers_with_sources
                else []
            )
            library.add_message(chat.chat_id, "ai", f"Answer **{n}**", sources)
            ids.append(chat.chat_id)
    return ids


DOCS = {
    "travel-policy.md": (
        "# Travel policy\n\n## Meals\n\nEmployees travelling abroad are reimbursed for meals at the "
        "per-diem rate published by finance. Keep receipts for every meal above 25 EUR.\n\n"
        "## Hotels\n\nHotels are booked through the travel desk; the nightly cap is 180 EUR in most cities.\n"
    ),
    "data-retention.md": (
        "# Data retention\n\nCustomer records are kept for seven years after the end of the contract, "
        "then deleted. Backups expire after ninety days.\n"
    ),
}


def write_docs(folder: Path) -> Path:
    """A small folder of Markdown documents for the local-docs assistant."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def local_docs_factory(docs: Path, index_path: Path, pace_seconds: float = 0.0) -> Callable[[], Any]:
    """An assistant factory for the real local-documents assistant (offline, no model)."""
    from galileio_desktop.data.assistants.factory import make_assistant
    from galileio_desktop.data.assistants.settings import AssistantSettings

    def make() -> Any:
        settings = AssistantSettings(
            backend="local-docs", docs_dir=str(docs), options={"pace_seconds": pace_seconds}
        )
        return make_assistant(settings, index_path=index_path)

    return make


def seed_long_chat(mirror: Path, count: int, user_id: str = USER, link_every: int = 0) -> str:
    """One chat with ``count`` alternating questions and answers (answers cite one source)."""
    from galileio_desktop.data.sync import ChatLibrary

    with ChatLibrary(mirror, user_id, None) as library:
        chat = library.create_chat("Long chat")
        for n in range(count):
            if n % 2 == 0:
                library.add_message(chat.chat_id, "human", f"Question number {n}")
            else:
                text = f"Answer number {n} with *some* text that wraps a little in a narrow window."
                if link_every and n % link_every == 1:
                    text += " See [the docs](https://example.com/docs) or [this](javascript:alert(1))."
                library.add_message(
                    chat.chat_id,
                    "ai",
                    text,
                    [
                        {
                            "pageContent": f"Passage for {n}",
                            "metadata": {"source_location": f"s3://b/doc{n}.md"},
                        }
                    ],
                )
        return chat.chat_id


def link_point(view: Any, row: int, href: str) -> Any:
    """The viewport point over the link ``href`` painted in ``row`` of a message list view."""
    from PySide6.QtCore import QPoint

    from galileio_desktop.ui.conversation.message_list_model import MessageRoles

    index = view.model().index(row, 0)
    message_row = index.data(MessageRoles.ROW)
    delegate = view.itemDelegate()
    geo = delegate.geometry(message_row, str(index.data(MessageRoles.STATE_TEXT) or ""))
    doc = delegate.document(message_row)
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                layout = block.layout()
                offset = fragment.position() - block.position() + 1
                line = layout.lineForTextPosition(offset)
                x = line.cursorToX(offset)[0] + layout.position().x()
                y = line.y() + line.height() / 2 + layout.position().y()
                top_left = view.visualRect(index).topLeft()
                return QPoint(
                    int(top_left.x() + geo.text_origin.x() + x), int(top_left.y() + geo.text_origin.y() + y)
                )
            it += 1
        block = block.next()
    raise LookupError(href)


class StallMeter:
    """Measures how long the GUI thread's event loop goes without running (the worst gap).

    A zero-interval-ish timer ticks as often as the loop lets it; a long gap between
    two ticks is a stall the user would feel.
    """

    def __init__(self, interval_ms: int = 5) -> None:
        import time

        from PySide6.QtCore import QTimer

        self._clock = time.perf_counter
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.worst_ms = 0.0

    def _tick(self) -> None:
        now = self._clock()
        if self._last:
            self.worst_ms = max(self.worst_ms, (now - self._last) * 1000)
        self._last = now

    def start(self) -> StallMeter:
        self.worst_ms = 0.0
        self._last = self._clock()
        self._timer.start()
        return self

    def stop(self) -> float:
        self._timer.stop()
        self._tick()
        return self.worst_ms


def seed_big_mirror(mirror: Path, chats: int, messages: int, user_id: str = USER) -> str:
    """A mirror holding ``chats`` chats, the newest of them with ``messages`` messages.

    Written as confirmed server items in two transactions (fast), the way a first
    sync leaves a mirror. Returns the id of the big chat.
    """
    from galileio_desktop.data.schema import Chat, Message
    from galileio_desktop.data.sync import ChatLibrary

    base = 1_700_000_000_000
    big = "chat-00000"
    with ChatLibrary(mirror, user_id, None) as library:
        library.store_remote_items(
            [
                Chat(f"chat-{i:05d}", user_id, f"Chat number {i}", base - i * 60_000).to_item()
                for i in range(chats)
            ]
        )
        library.store_remote_items(
            [
                Message(
                    f"msg-{i:05d}",
                    big,
                    user_id,
                    "human" if i % 2 == 0 else "ai",
                    f"Message {i}: " + "some *Markdown* text that wraps " * (1 + i % 6),
                    base + i * 1000,
                ).to_item()
                for i in range(messages)
            ]
        )
    return big


def run_op(qtbot: Any, op: Any, lane: Any, timeout: int = 10_000) -> Any:
    """Run a LibraryOp in ``lane`` and wait for its result (its failure fails the test)."""
    box: dict[str, Any] = {}
    op.success(lambda result: box.setdefault("result", result))
    op.failure(lambda failure: box.setdefault("failure", failure))
    op.run_in(lane)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    if "failure" in box:
        raise AssertionError(f"the operation failed: {box['failure'].message}")
    return box["result"]


def running_client(qtbot: Any, mirror: Path, assistant_factory: Any = None) -> Any:
    """A started WorkerClient on an offline mirror (no periodic sync); the caller shuts it down."""
    from galileio_desktop.ui.workers.client import WorkerClient

    client = WorkerClient(offline_factory(mirror), assistant_factory, periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    return client


def shown_pane(qtbot: Any, client: Any, chat_id: str, title: str, size: tuple[int, int] = (700, 600)) -> Any:
    """A MessagePane of ``size`` on screen with ``chat_id``'s newest page shown."""
    from galileio_desktop.ui.conversation.message_pane import MessagePane

    pane = MessagePane(client)
    qtbot.addWidget(pane)
    pane.resize(*size)
    pane.show()
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat(chat_id, title)
    return pane
