"""The test servers themselves: both DynamoDB implementations answer, start empty and stop.

If these fail, every integration test would fail for a reason that has nothing to
do with the project's code; they are cheap and run first.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from servers import (
    DynaliteServer,
    create_galileo_table,
    dynalite_missing_reason,
    dynamodb_client,
    free_port,
)

TABLE = "servers-check"
LEFT_BEHIND = "left-behind"
USER = "user-1"


def _chat_item(n: int) -> dict[str, Any]:
    created = str(1_700_000_000_000 + n)
    return {
        "PK": {"S": USER},
        "SK": {"S": f"CHAT#c{n}"},
        "GSI1PK": {"S": f"{USER}#CHAT"},
        "GSI1SK": {"S": created},
        "chatId": {"S": f"c{n}"},
        "title": {"S": f"Chat {n}"},
        "createdAt": {"N": created},
        "entity": {"S": "CHAT"},
    }


def _query_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.integration
def test_endpoint_starts_with_no_tables(dynamodb_endpoint: str) -> None:
    client = dynamodb_client(dynamodb_endpoint)
    assert client.list_tables()["TableNames"] == []
    # Leave a table behind: the next tests on this server must not see it.
    create_galileo_table(client, LEFT_BEHIND)


@pytest.mark.integration
def test_endpoint_stores_and_queries_gsi_across_pages(dynamodb_endpoint: str) -> None:
    client = dynamodb_client(dynamodb_endpoint)
    create_galileo_table(client, TABLE)
    assert client.list_tables()["TableNames"] == [TABLE]

    unprocessed = client.batch_write_item(
        RequestItems={TABLE: [{"PutRequest": {"Item": _chat_item(n)}} for n in range(25)]}
    )["UnprocessedItems"]
    assert unprocessed == {}
    client.put_item(TableName=TABLE, Item=_chat_item(25), ConditionExpression="attribute_not_exists(PK)")

    newest_first = _query_all(
        client,
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK > :since",
        ExpressionAttributeValues={":pk": {"S": f"{USER}#CHAT"}, ":since": {"S": "1700000000009"}},
        ScanIndexForward=False,
        Limit=4,
    )
    assert [item["chatId"]["S"] for item in newest_first] == [f"c{n}" for n in range(25, 9, -1)]

    whole_partition = _query_all(
        client,
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": USER}},
        ConsistentRead=True,
    )
    assert len(whole_partition) == 26


@pytest.mark.integration
def test_endpoint_enforces_conditions(dynamodb_endpoint: str) -> None:
    client = dynamodb_client(dynamodb_endpoint)
    create_galileo_table(client, TABLE)
    client.put_item(TableName=TABLE, Item=_chat_item(1))

    with pytest.raises(ClientError) as refused_put:
        client.put_item(TableName=TABLE, Item=_chat_item(1), ConditionExpression="attribute_not_exists(PK)")
    assert refused_put.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    with pytest.raises(ClientError) as refused_update:
        client.update_item(
            TableName=TABLE,
            Key={"PK": {"S": USER}, "SK": {"S": "CHAT#gone"}},
            UpdateExpression="SET title = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": {"S": "renamed"}},
        )
    assert refused_update.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    renamed = client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": USER}, "SK": {"S": "CHAT#c1"}},
        UpdateExpression="SET title = :t",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":t": {"S": "renamed"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert renamed["title"] == {"S": "renamed"}
    assert renamed["createdAt"] == _chat_item(1)["createdAt"]


@pytest.mark.integration
def test_endpoint_refuses_consistent_read_on_gsi(dynamodb_endpoint: str) -> None:
    # Real DynamoDB refuses this; both test servers must too, or a gateway bug hides.
    client = dynamodb_client(dynamodb_endpoint)
    create_galileo_table(client, TABLE)
    with pytest.raises(ClientError) as refused:
        client.query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{USER}#CHAT"}},
            ConsistentRead=True,
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_ddb_fixture_has_the_web_app_table_shape(ddb: Any) -> None:
    table = ddb.describe_table(TableName="galileo-test")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "GSI1"
    assert index["KeySchema"] == [
        {"AttributeName": "GSI1PK", "KeyType": "HASH"},
        {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "ALL"
    assert {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]} == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
    }


def test_environment_is_sealed_from_the_outer_shell() -> None:
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_PROFILE" not in os.environ
    assert not [name for name in os.environ if name.startswith(("AWS_ENDPOINT_URL", "GALILEIO_"))]


def test_data_dir_is_an_empty_private_folder(data_dir: Path, tmp_path: Path) -> None:
    assert data_dir.is_dir()
    assert list(data_dir.iterdir()) == []
    assert data_dir.is_relative_to(tmp_path)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname()[1] == port


def test_dynalite_reported_missing_without_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = dynalite_missing_reason()
    assert reason is not None and "Node.js" in reason


@pytest.mark.integration
def test_dynalite_stops_and_frees_its_port(dynalite_server: DynaliteServer, tmp_path: Path) -> None:
    # dynalite_server proves dynalite can run here; this second one checks stop().
    server = DynaliteServer(tmp_path / "dynalite.log").start()
    port = int(server.url.rsplit(":", 1)[1])
    assert dynamodb_client(server.url).list_tables()["TableNames"] == []
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


@pytest.mark.integration
def test_dynalite_keeps_serving_when_a_client_dies_mid_request(
    dynalite_server: DynaliteServer, tmp_path: Path
) -> None:
    """The crash test kills pushers in the middle of requests; dynalite itself would end
    on the aborted request (its handler rethrows the socket error)."""
    server = DynaliteServer(tmp_path / "dynalite.log").start()
    try:
        port = int(server.url.rsplit(":", 1)[1])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(
                    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
                    b'X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{"Lim'
                )
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            # closed with a reset, the body unfinished: as a process killed mid-request
        assert dynamodb_client(server.url).list_tables()["TableNames"] == []
        assert "client aborted" in (tmp_path / "dynalite.log").read_text()
    finally:
        server.stop()
