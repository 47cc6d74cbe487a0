"""The embedded demo endpoint: seeded, reachable by the CLI, stopped cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from galileio_desktop.demo import DemoServer, load_seed

pytestmark = pytest.mark.integration


def test_demo_server_seeds_every_chat_with_web_app_shapes(tmp_path: Path) -> None:
    from servers import dynamodb_client

    seed = load_seed()
    with DemoServer() as info:
        client = dynamodb_client(info.endpoint_url)
        items = []
        kwargs = {
            "TableName": info.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": info.user_id}},
        }
        while True:
            page = client.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    chats = [i for i in items if i["SK"]["S"].startswith("CHAT#")]
    messages = [i for i in items if i["SK"]["S"].startswith("MESSAGE#")]
    sources = [i for i in items if i["SK"]["S"].startswith("SOURCE#")]
    assert len(chats) == len(seed["chats"]) >= 6
    assert len(messages) == sum(len(c["messages"]) for c in seed["chats"])
    assert len(sources) == sum(len(m.get("sources", [])) for c in seed["chats"] for m in c["messages"])
    assert all(s["metadata"]["M"]["source_location"]["S"].startswith("s3://") for s in sources)


def test_demo_server_command_prints_its_url_and_serves_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "GALILEIO_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "galileio_desktop", "--json", "demo-server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        lines = []
        while not lines or lines[-1] != "}\n":
            line = server.stdout.readline()
            assert line, server.stderr.read() if server.stderr else "demo-server exited"
            lines.append(line)
        info = json.loads("".join(lines))
        assert info["endpointUrl"].startswith("http://127.0.0.1:")
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "galileio_desktop",
                "--json",
                "--endpoint-url",
                info["endpointUrl"],
                "--table",
                info["table"],
                "--user-id",
                info["userId"],
                "chats",
                "list",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == len(load_seed()["chats"])
    finally:
        server.send_signal(signal.SIGINT)
        # communicate() reads both pipes to the end and closes them (wait() would leave them open).
        try:
            _, stderr = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()  # the pipes closed even so
            raise
        assert server.returncode == 0, stderr
