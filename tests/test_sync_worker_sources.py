"""Opening a chat on the network: its first page is reported, then its sources fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from test_sync_support import WebApp
from ui_helpers import USER, networked_factory

from galileio_desktop.data.dynamo.table_admin import create_table
from galileio_desktop.ui.conversation.message_ops import MessagePage, fetch_op
from galileio_desktop.ui.workers.events import LibraryEvents
from galileio_desktop.ui.workers.sync_worker import SyncWorker

TABLE = "galileo-test"


def test_opening_a_chat_brings_its_sources_after_its_first_page(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        web = WebApp(client, user=USER)
        factory = networked_factory(mirror, None, TABLE, None)
        library = factory()
        try:
            library.sync()  # a reconcile of the empty partition
            web.create_chat("later", "Written after the first sync")
            for n in range(3):
                web.add_message("later", f"q{n}", "human", f"question {n}")
                web.add_message("later", f"a{n}", "ai", f"answer {n}", [f"passage {n}.0", f"passage {n}.1"])
            library.sync()  # lists the chat, does not open it
            events = LibraryEvents()
            worker = SyncWorker(events, periodic=False)  # driven directly: no thread
            worker.attach(library)
            worker.start()
            seen: list[Any] = []
            events.sig_op_updated.connect(lambda _op, value: seen.append(("update", value)))
            events.sig_op_finished.connect(
                lambda _op, result, failure: seen.append(("done", result, failure))
            )
            worker.run_op(fetch_op("later"))
            qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "done", timeout=10_000)
            pages = [value for kind, value, *_ in seen if kind == "update" and isinstance(value, MessagePage)]
            [page] = pages  # the first page was reported before the sources were fetched
            assert [v.message.message_id for v in page.views] == ["q0", "a0", "q1", "a1", "q2", "a2"]
            assert seen[-1][1:] == (6, None)  # six sources (two for each answer) arrived, no failure
            assert [s.page_content for s in library.list_sources("a2")] == ["passage 2.0", "passage 2.1"]
        finally:
            library.close()
