"""The command line under a hostile network and hostile data, as a script runs it: real
processes, real HTTP through a fault-injecting proxy, exit codes and output checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from servers import create_galileo_table, dynamodb_client
from test_sync_support import WebApp

from galileio_desktop.data.sync.push_lock import push_lock

pytestmark = pytest.mark.integration

TABLE = "galileo-test"
USER = "user-a"


class Cli:
    """``galileio-desktop`` as a subprocess, on one data folder, through the proxy."""

    def __init__(self, proxy: FaultProxy, data_dir: Path) -> None:
        self.proxy = proxy
        self.data_dir = data_dir

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "GALILEIO_TABLE": TABLE,
            "GALILEIO_USER_ID": USER,
            "GALILEIO_DATA_DIR": str(self.data_dir),
        }
        return subprocess.run(
            [sys.executable, "-m", "galileio_desktop", "--endpoint-url", self.proxy.url, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )

    def json(self, *args: str) -> Any:
        result = self("--json", *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    p = FaultProxy(moto_endpoint).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def web(moto_endpoint: str) -> WebApp:
    return WebApp(dynamodb_client(moto_endpoint))


@pytest.fixture
def cli(proxy: FaultProxy, data_dir: Path) -> Cli:
    return Cli(proxy, data_dir)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("galileio-desktop:")]
    assert lines, result.stderr
    return lines[-1]


@pytest.mark.parametrize("fault", ["html", "empty"])
def test_a_captive_portal_wipes_nothing_and_the_next_real_sync_lands_each_write_once(
    cli: Cli, proxy: FaultProxy, web: WebApp, fault: str
) -> None:
    web.create_chat("web-chat", "From the web app")
    web.add_message("web-chat", "web-q", "human", "an earlier question")
    assert cli("sync").returncode == 0
    chat = cli.json("--offline", "chats", "create", "Written on the plane")
    note = cli.json("--offline", "messages", "add", chat["chatId"], "a note written offline")
    assert chat["pending"] and note["pending"]

    proxy.set(fault)
    result = cli("sync")
    assert result.returncode == 3
    assert "not answering as DynamoDB" in one_line_error(result)
    assert "2 change(s) still pending" in result.stderr
    listed = cli.json("--offline", "chats", "list")
    assert {c["chatId"] for c in listed} == {"web-chat", chat["chatId"]}  # nothing wiped
    assert cli.json("--offline", "messages", "list", "web-chat")[0]["text"] == "an earlier question"

    proxy.set(None)
    synced = cli("--json", "sync")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["pending"] == 0
    assert set(web.chats()) == {"web-chat", chat["chatId"]}
    contents = [m["data"]["M"]["content"]["S"] for m in web.messages().values()]
    assert sorted(contents) == ["a note written offline", "an earlier question"]


@pytest.mark.parametrize("fault", ["silent", "drip"])
def test_a_stuck_endpoint_ends_sync_within_the_deadline_and_loses_nothing(
    cli: Cli, proxy: FaultProxy, web: WebApp, fault: str
) -> None:
    chat = cli.json("--offline", "chats", "create", "Queued")
    proxy.set(fault)
    started = time.monotonic()
    result = cli("--timeout", "2", "sync")
    elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert "within 2 s" in one_line_error(result)
    assert elapsed < 2 + 8, elapsed  # the deadline, plus starting Python and boto3
    # reads and writes finish on the local copy, as offline
    started = time.monotonic()
    listed = cli("--json", "--timeout", "2", "chats", "list")
    assert listed.returncode == 0 and time.monotonic() - started < 2 + 8
    assert [c["chatId"] for c in json.loads(listed.stdout)] == [chat["chatId"]]

    proxy.set(None)
    assert cli("sync").returncode == 0
    assert set(web.chats()) == {chat["chatId"]}


def test_a_refused_change_is_reported_by_its_own_command_only_and_can_be_discarded(
    cli: Cli, web: WebApp
) -> None:
    web.create_chat("doomed", "Deleted on the web")
    assert cli("sync").returncode == 0
    queued = cli.json("--offline", "messages", "add", "doomed", "written for a chat about to go")
    web.delete_chat("doomed")  # meanwhile, in the web app

    result = cli("--json", "sync")
    assert result.returncode == 6
    assert json.loads(result.stdout)["parked"] == 1
    assert "refused" in one_line_error(result) and "changes list" in result.stderr

    # unrelated commands report their own outcome, with their JSON
    listed = cli("--json", "chats", "list")
    assert listed.returncode == 0, listed.stderr
    created = cli("--json", "chats", "create", "Unrelated")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["pending"] is False
    assert "1 earlier change(s) were refused" in created.stderr
    assert set(web.chats()) == {json.loads(created.stdout)["chatId"]}  # written once

    status = cli.json("status")
    [parked] = [op for op in status["operations"] if op["state"] == "parked"]
    assert parked["messageId"] == queued["messageId"] and parked["errorKind"] == "chat_gone"
    changes = cli.json("changes", "list")
    assert [op["opId"] for op in changes if op["state"] == "parked"] == [parked["opId"]]
    human = cli("changes", "list")
    assert f"#{parked['opId']}" in human.stdout and "refused" in human.stdout

    discarded = cli.json("changes", "discard", "--all")
    assert discarded["discarded"] == [parked["opId"]]
    assert cli.json("changes", "list") == []
    assert cli("sync").returncode == 0


def test_retrying_a_refused_change_sends_it_again(cli: Cli, web: WebApp) -> None:
    web.create_chat("doomed", "Deleted on the web")
    assert cli("sync").returncode == 0
    cli.json("--offline", "messages", "add", "doomed", "kept for later")
    web.delete_chat("doomed")
    assert cli("sync").returncode == 6
    [op] = cli.json("changes", "list")
    web.create_chat("doomed", "Back again")  # the chat exists again (restored elsewhere)
    retried = cli("--json", "changes", "retry", str(op["opId"]))
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"retried": [op["opId"]], "pending": False}
    assert [m["data"]["M"]["content"]["S"] for m in web.messages().values()] == ["kept for later"]


def test_changes_commands_refuse_bad_input(cli: Cli) -> None:
    both = cli("changes", "retry", "3", "--all")
    assert both.returncode == 2 and "Give one change's id, or --all" in one_line_error(both)
    missing = cli("changes", "discard", "42")
    assert missing.returncode == 5 and "no queued change #42" in one_line_error(missing)


def test_another_process_syncing_is_said_in_words(cli: Cli, data_dir: Path) -> None:
    cli.json("--offline", "chats", "create", "Queued")
    [mirror] = (data_dir / "data").rglob("*.sqlite3")
    with push_lock(mirror) as held:
        assert held
        result = cli("sync")
    assert result.returncode == 3
    assert "Another Galileio Desktop window or command is sending" in one_line_error(result)
    assert cli("sync").returncode == 0


def test_human_output_escapes_control_and_bidi_characters(cli: Cli, web: WebApp) -> None:
    title = "Q3\x1b[2J\x07plan\r\nfake-id  Forged row\u202eexe.txt"
    web.create_chat("hostile", title)
    listed = cli("chats", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("\n") == 1  # one chat, one line
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in listed.stdout
    assert "\\x1b[2J\\x07plan\\r\\nfake-id" in listed.stdout and "\\u202e" in listed.stdout
    exact = cli.json("--offline", "chats", "list")
    assert exact[0]["title"] == title  # --json stays exact


def test_values_another_writer_stored_never_stop_a_command(cli: Cli, web: WebApp, tmp_path: Path) -> None:
    web.create_chat("ordinary", "Ordinary chat")
    web.add_message("ordinary", "fine", "human", "a well-formed question")
    web.create_chat("odd-times", "Odd times")
    for n, created in enumerate(["253402300800000", "100000000000000000000", "-5", "1700000000000.5"]):
        [item] = web.add_message("odd-times", f"odd-{n}", "ai", f"answer at {created}")
        web.client.update_item(
            TableName=TABLE,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET createdAt = :c",
            ExpressionAttributeValues={":c": {"N": created}},
        )
    long_title = ("\x1b[31mred\x1b[0m " * 500)[:5000]
    web.create_chat("long-title", long_title)

    synced = cli("sync")
    assert synced.returncode == 0, synced.stderr
    assert {c["chatId"] for c in cli.json("chats", "list")} == {"ordinary", "odd-times", "long-title"}
    assert [m["text"] for m in cli.json("messages", "list", "ordinary")] == ["a well-formed question"]
    assert len(cli.json("messages", "list", "odd-times")) == 4
    for chat_id in ("ordinary", "odd-times", "long-title"):
        for fmt in ("md", "json", "csv"):
            out = tmp_path / f"{chat_id}.{fmt}"
            exported = cli("export", chat_id, "--format", fmt, "-o", str(out))
            assert exported.returncode == 0 and "Traceback" not in exported.stderr, exported.stderr
            assert out.stat().st_size > 0
    assert "unknown date" in (tmp_path / "odd-times.md").read_text(encoding="utf-8")
    human = cli("chats", "list")
    assert human.returncode == 0 and "\x1b" not in human.stdout


def test_retry_all_sends_what_is_queued_even_with_nothing_refused(cli: Cli, web: WebApp) -> None:
    queued = cli.json("--offline", "chats", "create", "Queued, never refused")
    retried = cli("--json", "changes", "retry", "--all")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"retried": [], "pending": False}
    assert set(web.chats()) == {queued["chatId"]}
