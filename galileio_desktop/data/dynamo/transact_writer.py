"""TransactWriteItems: several items written all or nothing, in one request.

An answer with its sources is one user action; written as one transaction it costs one
round trip and can never leave sources without their message (or the reverse). Its
conditions come back one reason per action when DynamoDB cancels the transaction, so
the caller can tell "the chat is gone" from "this message is already there (a replay)".

Limits (DynamoDB's): at most 100 actions and 4 MB of items a transaction. Servers that
do not implement transactions (dynalite, some emulators) answer
``UnknownOperationException``; that becomes :class:`TransactionsUnsupported` and the
caller falls back to single-item and batch writes.

A ``ClientRequestToken`` makes a retried request idempotent for 10 minutes: botocore
retries a call after a lost response or a 5xx with the same parameters, and DynamoDB
then answers success without applying the transaction twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..aws_errors import dynamo_errors, error_code
from ..errors import RemoteRejected, Throttled
from ..schema import TypedItem
from .item_size import item_size

log = logging.getLogger(__name__)

MAX_ACTIONS = 100
#: DynamoDB's aggregate limit is 4 MB; keys of condition checks count too, so keep a margin.
MAX_BYTES = 4 * 1024 * 1024 - 64 * 1024
CONDITION_FAILED = "ConditionalCheckFailed"
_TRANSIENT_REASONS = frozenset({"TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"})
_TRANSIENT_CODES = frozenset({"TransactionInProgressException", "TransactionConflictException"})
_UNSUPPORTED_CODES = frozenset({"UnknownOperationException"})

Action = dict[str, Any]


class TransactionsUnsupported(Exception):
    """The server does not implement TransactWriteItems (nothing was written)."""


@dataclass(frozen=True)
class Cancelled:
    """DynamoDB cancelled the transaction (nothing was written); one reason per action."""

    reasons: tuple[str, ...]

    def condition_failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED


def fits(items: Sequence[TypedItem], checks: int = 0) -> bool:
    """True when ``items`` (plus ``checks`` condition checks) fit in one transaction."""
    if len(items) + checks > MAX_ACTIONS:
        return False
    return sum(item_size(i) for i in items) <= MAX_BYTES


def request_token(purpose: str, item_id: str) -> str:
    """An idempotency token (at most 36 characters) derived from what is written."""
    return hashlib.sha256(f"{purpose}:{item_id}".encode()).hexdigest()[:36]


def condition_check(table: str, key: TypedItem, condition: str) -> Action:
    return {"ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": condition}}


def put(table: str, item: TypedItem, condition: str | None = None) -> Action:
    body: dict[str, Any] = {"TableName": table, "Item": item}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def transact_write(client: Any, actions: list[Action], token: str, what: str) -> Cancelled | None:
    """Send one transaction; None when it was applied, :class:`Cancelled` when a condition
    failed. Throttling and conflicts raise :class:`Throttled` (try again later), other
    cancellations :class:`RemoteRejected`; a server without transactions raises
    :class:`TransactionsUnsupported`."""
    with dynamo_errors(what):
        try:
            client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            return None
        except Exception as exc:
            code = error_code(exc)
            if code in _UNSUPPORTED_CODES:
                raise TransactionsUnsupported(code) from exc
            if code in _TRANSIENT_CODES:
                raise Throttled(
                    f"{what}: another write to the same items is in progress; try again."
                ) from exc
            if code != "TransactionCanceledException":
                raise
            return _cancelled(exc, what)


def _cancelled(exc: BaseException, what: str) -> Cancelled:
    response = getattr(exc, "response", {}) or {}
    reasons = tuple(str(r.get("Code") or "None") for r in response.get("CancellationReasons") or [])
    if any(r in _TRANSIENT_REASONS for r in reasons):
        raise Throttled(f"{what}: DynamoDB is busy with these items; try again shortly.") from exc
    refused = [r for r in reasons if r not in ("None", CONDITION_FAILED)]
    if refused or not reasons:
        message = str(response.get("Error", {}).get("Message", "")) or "no reason given"
        raise RemoteRejected(f"{what}: DynamoDB refused the write ({message}).") from exc
    return Cancelled(reasons)
