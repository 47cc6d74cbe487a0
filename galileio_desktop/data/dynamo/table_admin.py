"""Create the chat table exactly as the web app's stack does."""

from __future__ import annotations

import logging
import time
from typing import Any

from ..aws_errors import dynamo_errors, error_code
from ..errors import Throttled

log = logging.getLogger(__name__)


def table_definition(table: str, index: str = "GSI1") -> dict[str, Any]:
    """Keys PK/SK, one GSI on GSI1PK/GSI1SK with projection ALL, on-demand billing."""
    return {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "GSI1PK", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(client: Any, table: str, index: str = "GSI1") -> bool:
    """Create the table if it is missing and wait until it is ACTIVE.

    Returns True when this call created it; an existing table is left as it is.
    """
    created = False
    with dynamo_errors(f"Creating table {table}"):
        try:
            client.create_table(**table_definition(table, index))
            created = True
            log.info("created table %s", table)
        except Exception as exc:
            if error_code(exc) not in ("ResourceInUseException", "TableAlreadyExistsException"):
                raise
        wait_until_active(client, table)
    return created


def wait_until_active(client: Any, table: str, timeout_s: float = 300.0) -> None:
    """Poll quickly at first (local servers are ready in milliseconds), then back off."""
    delay = 0.05
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = client.describe_table(TableName=table)["Table"]["TableStatus"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            status = "CREATING"
        if status == "ACTIVE":
            return
        if time.monotonic() > deadline:
            raise Throttled(f"Table {table} is still {status} after {timeout_s:.0f} s; try again later.")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
