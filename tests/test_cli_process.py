"""The CLI as a user runs it: a real process, real HTTP, exit codes and stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from servers import create_galileo_table, dynamodb_client

pytestmark = pytest.mark.integration

TABLE = "galileo-cli"
USER = "cli-user"


def galileio(
    endpoint: str, data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GALILEIO_TABLE": TABLE,
        "GALILEIO_USER_ID": USER,
        "GALILEIO_DATA_DIR": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", "--endpoint-url", endpoint, "--json", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    return moto_endpoint


def partition(endpoint: str) -> list[dict[str, Any]]:
    client = dynamodb_client(endpoint)
    return client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": USER}},
        ConsistentRead=True,
    )["Items"]


def test_oversized_message_from_stdin_exits_2_and_writes_nothing(endpoint: str, data_dir: Path) -> None:
    created = galileio(endpoint, data_dir, "chats", "create", "Plans")
    assert created.returncode == 0, created.stderr
    chat_id = json.loads(created.stdout)["chatId"]
    result = galileio(endpoint, data_dir, "messages", "add", chat_id, "-", stdin="z" * (401 * 1024))
    assert result.returncode == 2
    assert "too large" in result.stderr and "409,600" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert [i["SK"]["S"].split("#")[0] for i in partition(endpoint)] == ["CHAT"]
    status = galileio(endpoint, data_dir, "status")
    assert json.loads(status.stdout)["pending"] == 0


def test_usage_errors_exit_2(endpoint: str, data_dir: Path) -> None:
    result = galileio(endpoint, data_dir, "chats", "frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_ask_with_local_documents_streams_and_stores_sources(
    endpoint: str, data_dir: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "retention.md").write_text(
        "# Retention\n\nCustomer invoices are kept for ten years, then deleted.\n\n"
        "# Travel\n\nTrains are preferred for trips under four hours.\n",
        encoding="utf-8",
    )
    chat = json.loads(galileio(endpoint, data_dir, "chats", "create", "New chat").stdout)
    result = galileio(
        endpoint, data_dir, "ask", chat["chatId"], "How long are invoices kept?", "--docs", str(docs)
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert "ten years" in document["answer"]["text"]
    assert document["sources"] and document["sources"][0]["metadata"]["source_location"].endswith(
        "retention.md"
    )
    kinds = sorted(i["SK"]["S"].split("#")[0] for i in partition(endpoint))
    assert kinds.count("MESSAGE") == 2 and kinds.count("SOURCE") == len(document["sources"])
    listed = json.loads(galileio(endpoint, data_dir, "chats", "list").stdout)
    assert listed[0]["title"] == "How long are invoices kept?"  # the first prompt names a new chat


def test_offline_writes_reach_dynamodb_once_when_back(endpoint: str, data_dir: Path) -> None:
    chat = json.loads(galileio(endpoint, data_dir, "--offline", "chats", "create", "On a plane").stdout)
    assert chat["pending"] is True
    message = galileio(endpoint, data_dir, "--offline", "messages", "add", chat["chatId"], "notes")
    assert json.loads(message.stdout)["pending"] is True
    renamed = galileio(endpoint, data_dir, "--offline", "chats", "rename", chat["chatId"], "Landed")
    assert renamed.returncode == 0
    assert partition(endpoint) == []
    synced = galileio(endpoint, data_dir, "sync")
    assert synced.returncode == 0, synced.stderr
    assert galileio(endpoint, data_dir, "sync").returncode == 0
    items = partition(endpoint)
    assert sorted(i["SK"]["S"].split("#")[0] for i in items) == ["CHAT", "MESSAGE"]
    assert next(i for i in items if i["SK"]["S"].startswith("CHAT#"))["title"] == {"S": "Landed"}
    hits = json.loads(galileio(endpoint, data_dir, "--offline", "search", "notes").stdout)
    assert hits and hits[0]["chatId"] == chat["chatId"]
