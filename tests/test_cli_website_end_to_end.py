"""The command line with only a website address, a user name and a password, end to end.

Every command is a process of the real program, as a user runs it. The website is a
local server serving ``runtime-config.json``, which names moto's Cognito (server
mode) and the API stand-in in front of the moto table; the stand-in answers questions
with the local-documents assistant. Each step is checked in the table itself through
boto3, in the web app's item shapes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_stand_in import ApiDeployment, api_deployment_on
from file_keyring import FILE_VARIABLE
from servers import dynamodb_client
from test_auth_cognito import PASSWORD, REGION, TABLE
from website_server import WebsiteServer, runtime_config

from galileio_desktop.data.schema import Chat, Message, make_sources, now_ms

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parent
MINUTE_MS = 60_000


@dataclass
class Program:
    """``galileio-desktop --account web ...`` as a process; the table behind the API."""

    api: ApiDeployment
    env: dict[str, str]
    website: str
    user_id: str = ""

    def run(self, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "galileio_desktop", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )

    def json(self, *argv: str) -> Any:
        """The JSON document a command prints; its exit code must be 0."""
        result = self.run("--json", "--account", "web", *argv)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return json.loads(result.stdout)

    def items(self) -> list[dict[str, Any]]:
        """The user's items in the table, as the web app stored them."""
        return dynamodb_client(self.api.endpoint).query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": self.user_id}},
            ConsistentRead=True,
        )["Items"]

    def of_chat(self, chat_id: str, kind: str) -> list[dict[str, Any]]:
        return [
            i for i in self.items() if i["SK"]["S"].startswith(kind + "#") and i["chatId"]["S"] == chat_id
        ]

    def chat_titles(self) -> dict[str, str]:
        return {i["chatId"]["S"]: i["title"]["S"] for i in self.items() if i["SK"]["S"].startswith("CHAT#")}


@pytest.fixture
def program(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Program]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with api_deployment_on(moto_endpoint, tmp_path) as api:
        website = WebsiteServer()
        try:
            cognito = api.cognito
            website.serve_json(
                runtime_config(
                    REGION,
                    cognito.pool_id,
                    cognito.client_id,
                    cognito.identity_pool_id,
                    apiUrl=api.stand_in.url,
                    # The stand-in's ask route answers as the inference function does.
                    inferenceBufferedFunctionUrl=api.stand_in.url,
                )
            )
            env = {
                **os.environ,
                "AWS_ENDPOINT_URL": moto_endpoint,  # Cognito's user and identity pools on moto
                "GALILEIO_DATA_DIR": str(tmp_path / "data"),
                "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
                FILE_VARIABLE: str(tmp_path / "keyring.json"),
                "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
            }
            yield Program(api, env, website.url)
        finally:
            website.stop()


def test_a_website_address_a_user_name_and_a_password_reach_every_chat_action(program: Program) -> None:
    program.user_id = program.api.cognito.add_user("alice")
    website_url = program.website
    # The web app has a chat with a question and an answer citing two passages.
    web = program.api.table_gateway(program.user_id)
    old = now_ms() - 10 * MINUTE_MS
    web.create_chat(Chat("web-chat", program.user_id, "From the web app", old))
    web.put_message(Message("web-q", "web-chat", program.user_id, "human", "Where is the runbook?", old + 1))
    answer = Message("web-a", "web-chat", program.user_id, "ai", "In the wiki [1].", old + 2)
    passages = [
        {"pageContent": f"passage {n}", "metadata": {"source_location": f"s3://d/{n}.md"}} for n in (0, 1)
    ]
    web.put_message(
        answer.with_sources(make_sources(program.user_id, "web-chat", "web-a", passages, old + 2))
    )

    added = program.run("--json", "account", "add", "web", "--website", website_url, "--username", "alice")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["transport"] == "api" and json.loads(added.stdout)["table"] == ""
    assert f"Found Galileo at {website_url}/" in added.stderr
    login = program.run("--account", "web", "login", "--password-stdin", stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr

    # List and open.
    assert [c["title"] for c in program.json("chats", "list")] == ["From the web app"]
    messages = program.json("messages", "list", "web-chat")
    assert [(m["messageId"], m["type"], m["text"]) for m in messages] == [
        ("web-q", "human", "Where is the runbook?"),
        ("web-a", "ai", "In the wiki [1]."),
    ]
    sources = program.json("sources", "list", "web-chat", "web-a")
    assert [(s["sourceId"], s["pageContent"]) for s in sources] == [("0", "passage 0"), ("1", "passage 1")]

    # Create and rename: the chat has the server's id, in the table once.
    created = program.json("chats", "create", "Planning")
    chat_id = created["chatId"]
    assert program.chat_titles() == {"web-chat": "From the web app", chat_id: "Planning"}
    renamed = program.json("chats", "rename", chat_id, "Records")
    assert renamed["title"] == "Records" and program.chat_titles()[chat_id] == "Records"

    # Ask: the stand-in answers from its documents and stores question, answer and sources once.
    asked = program.json("ask", chat_id, "How long are invoices kept?")
    assert asked["pending"] == 0 and "10 years" in asked["answer"]["text"]
    assert asked["sources"][0]["metadata"]["source_location"].endswith("data-retention-policy.md")
    stored = program.of_chat(chat_id, "MESSAGE")
    assert sorted(i["type"]["S"] for i in stored) == ["ai", "human"]
    ai = next(i for i in stored if i["type"]["S"] == "ai")
    assert ai["messageId"]["S"] == asked["answer"]["messageId"]
    assert ai["data"]["M"]["content"]["S"] == asked["answer"]["text"]
    stored_sources = program.of_chat(chat_id, "SOURCE")
    assert len(stored_sources) == len(asked["sources"])
    listed = program.json("sources", "list", chat_id, ai["messageId"]["S"])
    assert sorted(s["pageContent"] for s in listed) == sorted(i["pageContent"]["S"] for i in stored_sources)
    assert [m["messageId"] for m in program.json("messages", "list", chat_id)] == [
        asked["question"]["messageId"],
        asked["answer"]["messageId"],
    ]

    # Delete a message (its sources go with it), then a chat with everything in it.
    program.json("messages", "delete", "web-chat", "web-a")
    assert [i["messageId"]["S"] for i in program.of_chat("web-chat", "MESSAGE")] == ["web-q"]
    assert program.of_chat("web-chat", "SOURCE") == []
    assert [m["messageId"] for m in program.json("messages", "list", "web-chat")] == ["web-q"]
    program.json("chats", "delete", chat_id)
    assert program.chat_titles() == {"web-chat": "From the web app"}
    assert program.of_chat(chat_id, "MESSAGE") == [] and program.of_chat(chat_id, "SOURCE") == []
    assert [c["title"] for c in program.json("chats", "list")] == ["From the web app"]
    assert program.json("status")["pending"] == 0
