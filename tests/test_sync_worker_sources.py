"""The window's sync worker opens a chat, shows its first page, then fetches its sources."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws
from test_sync_support import WebApp
from ui_helpers import USER, networked_factory

from galileio_desktop.data.table_admin import create_table
from galileio_desktop.ui.sync_worker import SyncWorker

TABLE = "galileo-test"


def test_opening_a_chat_brings_its_sources_after_its_first_page(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        web = WebApp(client, user=USER)
        factory = networked_factory(mirror, None, TABLE, None)
        with factory() as library:
            library.sync()  # a reconcile of the empty partition
            web.create_chat("later", "Written after the first sync")
            for n in range(3):
                web.add_message("later", f"q{n}", "human", f"question {n}")
                web.add_message("later", f"a{n}", "ai", f"answer {n}", [f"passage {n}.0", f"passage {n}.1"])
            library.sync()  # lists the chat, does not open it
        worker = SyncWorker(factory, periodic=False)  # driven directly: no thread
        worker.start()
        try:
            pages: list[object] = []
            worker.sig_messages_loaded.connect(lambda *args: pages.append(args[2]))
            with qtbot.waitSignal(worker.sig_data_changed, timeout=10_000):
                worker.open_chat(1, "later")
            [page] = pages  # the first page was reported before the sources were fetched
            assert [v.message.message_id for v in page] == ["q0", "a0", "q1", "a1", "q2", "a2"]
            assert [s.page_content for s in worker.library.list_sources("a2")] == [
                "passage 2.0",
                "passage 2.1",
            ]
        finally:
            worker.library.close()
