"""The gateway and the CLI over real HTTP, on moto's server and on dynalite alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from servers import create_galileo_table, dynamodb_client

from galileio_desktop.cli.main import run
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.schema import Chat, Message, make_sources, new_id

pytestmark = pytest.mark.integration

TABLE = "galileo-it"
USER = "0a1b2c3d-user"


@pytest.fixture
def client(dynamodb_endpoint: str) -> Any:
    client = dynamodb_client(dynamodb_endpoint)
    create_galileo_table(client, TABLE)
    return client


@pytest.fixture
def endpoint(client: Any, dynamodb_endpoint: str) -> str:
    return dynamodb_endpoint


def partition(endpoint: str, user: str) -> list[dict]:
    """The user's items, read by an inspector client outside any partition guard."""
    client = dynamodb_client(endpoint)
    items: list[dict] = []
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": user}},
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def seed_chat(gateway: ChatGateway, messages: int, sources: int, title: str = "big") -> Chat:
    chat = Chat(new_id(), gateway.user_id, title, 1_700_000_000_000)
    gateway.create_chat(chat)
    for i in range(messages):
        message_id = new_id()
        at = chat.created_at + i
        drafts = [{"pageContent": f"p{i}.{j}", "metadata": {"section_index": j}} for j in range(sources)]
        message = Message(message_id, chat.chat_id, gateway.user_id, "ai", f"answer {i}", at)
        gateway.put_message(
            message.with_sources(make_sources(gateway.user_id, chat.chat_id, message_id, drafts, at))
        )
    return chat


@pytest.mark.slow
@pytest.mark.timeout(1200)  # moto answers each Query by sorting the whole table: minutes, not seconds
def test_delete_chat_of_9301_items_removes_all_and_nothing_else(client: Any, endpoint: str) -> None:
    gateway = ChatGateway(client, TABLE, USER, max_workers=8)
    doomed = seed_chat(gateway, 300, 30)
    kept = seed_chat(gateway, 3, 2, "kept")
    neighbour = ChatGateway(dynamodb_client(endpoint), TABLE, "someone-else", max_workers=2)
    seed_chat(neighbour, 2, 2)
    assert len(partition(endpoint, USER)) == 9301 + 1 + 3 + 6
    result = gateway.delete_chat(doomed.chat_id)
    assert (result.deleted_messages, result.deleted_sources) == (300, 9000)
    left = partition(endpoint, USER)
    assert len(left) == 1 + 3 + 6
    assert {i["chatId"]["S"] for i in left} == {kept.chat_id}
    assert len(partition(endpoint, "someone-else")) == 1 + 2 + 4
    gateway.close()


def web_app_items(user: str, chat_id: str) -> list[dict]:
    """A chat exactly as the Galileo web app writes it (its item shapes, its ids)."""
    created = 1_712_000_000_000
    items = [
        {
            "PK": {"S": user},
            "SK": {"S": f"CHAT#{chat_id}"},
            "GSI1PK": {"S": f"{user}#CHAT"},
            "GSI1SK": {"S": str(created)},
            "chatId": {"S": chat_id},
            "title": {"S": "Web app chat"},
            "createdAt": {"N": str(created)},
            "userId": {"S": user},
            "entity": {"S": "CHAT"},
        }
    ]
    for i, (kind, text) in enumerate([("human", "What is our churn?"), ("ai", "Churn is **4%**.")]):
        mid = f"web-msg-{i}"
        at = created + 1000 * (i + 1)
        items.append(
            {
                "PK": {"S": user},
                "SK": {"S": f"MESSAGE#{mid}"},
                "GSI1PK": {"S": f"{user}#CHAT#{chat_id}"},
                "GSI1SK": {"S": str(at)},
                "chatId": {"S": chat_id},
                "messageId": {"S": mid},
                "createdAt": {"N": str(at)},
                "userId": {"S": user},
                "type": {"S": kind},
                "data": {"M": {"content": {"S": text}}},
                "entity": {"S": "MESSAGE"},
            }
        )
    for s in range(3):
        items.append(
            {
                "PK": {"S": user},
                "SK": {"S": f"SOURCE#web-msg-1#{s}"},
                "sourceId": {"S": str(s)},
                "chatId": {"S": chat_id},
                "messageId": {"S": "web-msg-1"},
                "userId": {"S": user},
                "createdAt": {"N": str(created + 2000)},
                "entity": {"S": "SOURCE"},
                "pageContent": {"S": f'Churn passage {s}, with "quotes", commas\nand lines'},
                "metadata": {
                    "M": {
                        "source_location": {"S": f"s3://docs/report-{s}.pdf"},
                        "section_index": {"N": str(s)},
                    }
                },
            }
        )
    return items


@pytest.fixture(autouse=True)
def isolated_data_dir(data_dir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI run of a test shares one mirror, in the test's own folder."""
    monkeypatch.setenv("GALILEIO_DATA_DIR", str(data_dir))


def cli(endpoint: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = run(["--endpoint-url", endpoint, "--table", TABLE, "--user-id", USER, "--json", *args])
    captured = capsys.readouterr()
    try:
        document = json.loads(captured.out) if captured.out.strip() else None
    except json.JSONDecodeError:
        document = captured.out
    return code, document, captured.err


def test_web_app_chat_lists_opens_exports_and_deletes(
    client: Any, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for item in web_app_items(USER, "web-chat"):
        client.put_item(TableName=TABLE, Item=item)
    code, chats, _ = cli(endpoint, "chats", "list", capsys=capsys)
    assert code == 0 and [c["chatId"] for c in chats] == ["web-chat"] and chats[0]["title"] == "Web app chat"
    code, messages, _ = cli(endpoint, "messages", "list", "web-chat", capsys=capsys)
    assert [(m["type"], m["text"]) for m in messages] == [
        ("human", "What is our churn?"),
        ("ai", "Churn is **4%**."),
    ]
    code, sources, _ = cli(endpoint, "sources", "list", "web-chat", "web-msg-1", capsys=capsys)
    assert [s["metadata"]["source_location"] for s in sources] == [
        f"s3://docs/report-{s}.pdf" for s in range(3)
    ]
    code, document, _ = cli(endpoint, "export", "web-chat", "--format", "json", capsys=capsys)
    assert code == 0 and len(document["messages"][1]["sources"]) == 3
    run(
        [
            "--endpoint-url",
            endpoint,
            "--table",
            TABLE,
            "--user-id",
            USER,
            "export",
            "web-chat",
            "--format",
            "csv",
        ]
    )
    csv_text = capsys.readouterr().out
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 2 + 3 and rows[2]["source_content"].endswith("commas\nand lines")
    code, result, _ = cli(endpoint, "chats", "delete", "web-chat", capsys=capsys)
    assert result == {"chatId": "web-chat", "deletedMessages": 2, "deletedSources": 3, "pending": False}
    assert partition(endpoint, USER) == []


def test_cli_writes_the_web_app_shapes(
    client: Any, endpoint: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, chat, _ = cli(endpoint, "chats", "create", "Plan", capsys=capsys)
    assert code == 0
    sources_file = tmp_path / "sources.json"
    sources_file.write_text(json.dumps([{"pageContent": "p", "metadata": {"source_location": "s3://b/k"}}]))
    code, message, _ = cli(
        endpoint,
        "messages",
        "add",
        chat["chatId"],
        "An *answer*",
        "--type",
        "ai",
        "--sources",
        str(sources_file),
        capsys=capsys,
    )
    assert code == 0 and message["sources"][0]["sourceId"] == "0"
    expected = {it["SK"]["S"].split("#")[0]: set(it) for it in web_app_items(USER, chat["chatId"])}
    stored = partition(endpoint, USER)
    assert {i["SK"]["S"].split("#")[0] for i in stored} == {"CHAT", "MESSAGE", "SOURCE"}
    for item in stored:
        kind = item["SK"]["S"].split("#")[0]
        assert set(item) == expected[kind], kind
        assert "N" in item["createdAt"]
        if "GSI1SK" in item:
            assert item["GSI1SK"]["S"] == item["createdAt"]["N"]


def test_cli_errors_and_exit_codes(
    client: Any, endpoint: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, chat, _ = cli(endpoint, "chats", "create", "x", capsys=capsys)
    big = tmp_path / "big.txt"
    big.write_text("y" * (401 * 1024))
    code, _, err = cli(endpoint, "messages", "add", chat["chatId"], big.read_text(), capsys=capsys)
    assert code == 2 and "409,600" in err and "Traceback" not in err
    assert len(partition(endpoint, USER)) == 1
    code, _, err = cli(endpoint, "chats", "create", "   ", capsys=capsys)
    assert code == 2 and "empty" in err
    code, _, err = cli(endpoint, "chats", "rename", "no-such-chat", "t", capsys=capsys)
    assert code == 5
    code, _, err = cli(endpoint, "messages", "list", "no-such-chat", capsys=capsys)
    assert code == 5
    code, chats, err = cli(endpoint, "--offline", "chats", "list", capsys=capsys)
    assert code == 0 and [c["chatId"] for c in chats] == [chat["chatId"]]
    code, document, err = cli(endpoint, "--offline", "chats", "create", "written offline", capsys=capsys)
    assert code == 0 and document["pending"] is True
    assert len(partition(endpoint, USER)) == 1
    code, chats, err = cli("http://127.0.0.1:9", "chats", "list", capsys=capsys)
    assert code == 0 and chats == [] and "Offline" in err
    code, document, err = cli("http://127.0.0.1:9", "chats", "create", "unreachable", capsys=capsys)
    assert code == 0 and document["pending"] is True
    code, document, err = cli("http://127.0.0.1:9", "sync", capsys=capsys)
    assert code == 3 and document["pending"] == 1 and "reach" in err
    code, document, err = cli(endpoint, "sync", capsys=capsys)
    assert code == 0 and document["pending"] == 0
    assert len(partition(endpoint, USER)) == 2
