"""A client-side guard: no DynamoDB request leaves for another user's partition.

Defence in depth beside IAM's ``dynamodb:LeadingKeys``: the guard inspects the
request body botocore is about to send (``before-call``, after serialisation, so it
checks exactly what would go on the wire, whichever layer built it) and refuses:

- any key (``Key``, ``Item``, batch and transaction entries, ``ExclusiveStartKey``)
  whose ``PK`` is not the signed-in user's id;
- any item or update that would set ``GSI1PK`` outside ``{userId}#...``;
- any Query whose key condition is not an equality on ``PK = userId`` (table) or on
  ``GSI1PK`` = a value starting with ``userId#`` (the index), with expression
  attribute names and values resolved;
- Scan, PartiQL and any operation it does not know (fail closed).

A refused request raises :class:`PartitionViolation` before anything is sent.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from ..errors import PartitionViolation
from .accounts import validate_user_id

log = logging.getLogger(__name__)

PARTITION_KEY = "PK"
#: Operations that touch no item: allowed as they are.
METADATA_OPERATIONS = frozenset(
    {
        "DescribeTable",
        "ListTables",
        "CreateTable",
        "DescribeTimeToLive",
        "DescribeLimits",
        "DescribeEndpoints",
        "ListTagsOfResource",
    }
)
_HANDLER_ID = "galileio-partition-guard"
_TOKEN = re.compile(r"\s*(<=|>=|<>|[=<>(),+-]|#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_.\[\]]*)")
_COMPARATORS = frozenset({"=", "<", "<=", ">", ">=", "<>"})


class PartitionGuard:
    """Checks DynamoDB request parameters against one user's partition."""

    def __init__(self, user_id: str, index: str = "GSI1") -> None:
        self.user_id = validate_user_id(user_id)
        self.index = index
        self.index_key = f"{index}PK"
        self.index_prefix = f"{user_id}#"
        self._partition_value = {"S": self.user_id}
        self._checks: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "GetItem": lambda p: self._key(p.get("Key"), "Key"),
            "DeleteItem": lambda p: self._key(p.get("Key"), "Key"),
            "PutItem": lambda p: self._item(p.get("Item"), "Item"),
            "UpdateItem": lambda p: self._update(p, "UpdateItem"),
            "Query": self._query,
            "BatchWriteItem": self._batch_write,
            "BatchGetItem": self._batch_get,
            "TransactWriteItems": self._transact_write,
            "TransactGetItems": self._transact_get,
        }

    # -- entry points --------------------------------------------------------------------

    def check(self, operation: str, params: Mapping[str, Any]) -> None:
        """Raise :class:`PartitionViolation` unless ``params`` stay in the user's partition."""
        if operation in METADATA_OPERATIONS:
            return
        if operation == "Scan":
            self._refuse(operation, "Scan reads every user's items and is never used")
        check = self._checks.get(operation)
        if check is None:
            self._refuse(operation, "this operation cannot be checked against the user's partition")
        try:
            check(params)
        except _Violation as violation:
            self._refuse(operation, str(violation))

    def on_before_call(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        """botocore ``before-call`` handler: checks the serialised request body."""
        operation = str(getattr(model, "name", ""))
        body = params.get("body", b"")
        try:
            if isinstance(body, (bytes, bytearray)):
                body = body.decode("utf-8")
            decoded = json.loads(body) if body else {}
        except (UnicodeDecodeError, ValueError, TypeError):
            self._refuse(operation, "the request body cannot be read to check it")
        if not isinstance(decoded, dict):
            self._refuse(operation, "the request body cannot be read to check it")
        self.check(operation, decoded)

    def _refuse(self, operation: str, reason: str) -> NoReturn:
        log.error("partition guard refused %s: %s", operation, reason)
        raise PartitionViolation(
            f"Refused before sending: {operation}: {reason}. Only the signed-in user's own items may be reached."
        )

    # -- keys and items ------------------------------------------------------------------

    def _plain_key(self, key: Any) -> bool:
        """The common case, decided without building a message: a key or item, as the
        body's JSON gives it, in the user's partition and with no index key to check."""
        return (
            type(key) is dict
            and key.get(PARTITION_KEY) == self._partition_value
            and self.index_key not in key
        )

    def _key(self, key: Any, where: str) -> None:
        if self._plain_key(key):
            return
        if not isinstance(key, Mapping):
            raise _Violation(f"{where} is missing")
        value = _string(key.get(PARTITION_KEY))
        if value != self.user_id:
            raise _Violation(
                f"{where} has {PARTITION_KEY} {_show(value)}, outside the signed-in user's partition"
            )
        if self.index_key in key:
            self._index_value(key.get(self.index_key), where)

    def _item(self, item: Any, where: str) -> None:
        self._key(item, where)

    def _index_value(self, value: Any, where: str) -> None:
        text = _string(value)
        if text is None or not text.startswith(self.index_prefix):
            raise _Violation(
                f"{where} has {self.index_key} {_show(text)}, outside the signed-in user's partition"
            )

    def _update(self, params: Mapping[str, Any], where: str) -> None:
        self._key(params.get("Key"), f"{where} Key")
        names = params.get("ExpressionAttributeNames") or {}
        values = params.get("ExpressionAttributeValues") or {}
        expression = params.get("UpdateExpression")
        if isinstance(expression, str):
            for attribute in (PARTITION_KEY, self.index_key):
                for value_ref in _assignments(expression, attribute, names, where):
                    if attribute == PARTITION_KEY:
                        raise _Violation(f"{where} would change the partition key")
                    self._index_value(values.get(value_ref), f"{where} {value_ref}")
        legacy = params.get("AttributeUpdates") or {}
        if PARTITION_KEY in legacy:
            raise _Violation(f"{where} would change the partition key")
        if self.index_key in legacy and legacy[self.index_key].get("Action", "PUT") != "DELETE":
            self._index_value(legacy[self.index_key].get("Value"), f"{where} AttributeUpdates")

    # -- operations ----------------------------------------------------------------------

    def _query(self, params: Mapping[str, Any]) -> None:
        index = params.get("IndexName")
        if index is None:
            attribute, allowed = PARTITION_KEY, self._is_user_id
        elif index == self.index:
            attribute, allowed = self.index_key, self._is_index_value
        else:
            raise _Violation(f"index {_show(index)} is not the chat index {self.index}")
        found = _key_equalities(params, attribute)
        if not found:
            raise _Violation(f"the key condition has no equality on {attribute}")
        for value in found:
            if not allowed(_string(value)):
                raise _Violation(
                    f"the key condition asks for {attribute} = {_show(_string(value))}, "
                    "outside the signed-in user's partition"
                )
        start = params.get("ExclusiveStartKey")
        if start is not None:
            if not isinstance(start, Mapping):
                raise _Violation("ExclusiveStartKey is not a key")
            if PARTITION_KEY in start or index is None:
                self._key(start, "ExclusiveStartKey")
            if index is not None:
                self._index_value(start.get(self.index_key), "ExclusiveStartKey")

    def _is_user_id(self, value: str | None) -> bool:
        return value == self.user_id

    def _is_index_value(self, value: str | None) -> bool:
        return value is not None and value.startswith(self.index_prefix)

    def _batch_write(self, params: Mapping[str, Any]) -> None:
        for table, requests in _mapping(params.get("RequestItems"), "RequestItems").items():
            if not isinstance(requests, list):
                raise _Violation(f"RequestItems[{table}] is not a list")
            for n, request in enumerate(requests):
                if type(request) is dict and len(request) == 1:
                    body = request.get("DeleteRequest")
                    if type(body) is dict and self._plain_key(body.get("Key")):
                        continue  # a big delete's 25 keys a request, each checked here
                self._batch_entry(f"RequestItems[{table}][{n}]", request)

    def _batch_entry(self, where: str, request: Any) -> None:
        if not isinstance(request, Mapping) or len(request) != 1:
            raise _Violation(f"{where} is not one put or delete request")
        if "PutRequest" in request:
            self._item(_mapping(request["PutRequest"], where).get("Item"), f"{where}.PutRequest.Item")
        elif "DeleteRequest" in request:
            self._key(_mapping(request["DeleteRequest"], where).get("Key"), f"{where}.DeleteRequest.Key")
        else:
            raise _Violation(f"{where} is neither a put nor a delete request")

    def _batch_get(self, params: Mapping[str, Any]) -> None:
        for table, request in _mapping(params.get("RequestItems"), "RequestItems").items():
            keys = _mapping(request, f"RequestItems[{table}]").get("Keys")
            if not isinstance(keys, list):
                raise _Violation(f"RequestItems[{table}].Keys is not a list")
            for n, key in enumerate(keys):
                self._key(key, f"RequestItems[{table}].Keys[{n}]")

    def _transact_write(self, params: Mapping[str, Any]) -> None:
        for n, entry in enumerate(_list(params.get("TransactItems"), "TransactItems")):
            where = f"TransactItems[{n}]"
            if not isinstance(entry, Mapping) or len(entry) != 1:
                raise _Violation(f"{where} is not one action")
            ((action, body),) = entry.items()
            body = _mapping(body, where)
            if action in ("ConditionCheck", "Delete"):
                self._key(body.get("Key"), f"{where}.{action}.Key")
            elif action == "Put":
                self._item(body.get("Item"), f"{where}.Put.Item")
            elif action == "Update":
                self._update(body, f"{where}.Update")
            else:
                raise _Violation(f"{where} has an unknown action {_show(action)}")

    def _transact_get(self, params: Mapping[str, Any]) -> None:
        for n, entry in enumerate(_list(params.get("TransactItems"), "TransactItems")):
            where = f"TransactItems[{n}]"
            if not isinstance(entry, Mapping) or set(entry) != {"Get"}:
                raise _Violation(f"{where} is not one Get")
            self._key(_mapping(entry["Get"], where).get("Key"), f"{where}.Get.Key")


def install_partition_guard(client: Any, user_id: str, *, index: str = "GSI1") -> PartitionGuard:
    """Make ``client`` (a boto3 DynamoDB client) refuse requests outside ``user_id``'s partition.

    A client is bound to one user: installing a guard for another user on the same
    client is refused.
    """
    existing: PartitionGuard | None = getattr(client, "_galileio_partition_guard", None)
    if existing is not None:
        if existing.user_id != user_id or existing.index != index:
            raise PartitionViolation("This DynamoDB client is already bound to another user's partition.")
        return existing
    guard = PartitionGuard(user_id, index)
    client.meta.events.register("before-call.dynamodb", guard.on_before_call, unique_id=_HANDLER_ID)
    client._galileio_partition_guard = guard
    return guard


# -- helpers -----------------------------------------------------------------------------


class _Violation(Exception):
    """Internal: a reason to refuse, turned into PartitionViolation with the operation."""


def _string(value: Any) -> str | None:
    """The string of a typed ``{"S": ...}`` value, else None."""
    if isinstance(value, Mapping) and set(value) == {"S"} and isinstance(value["S"], str):
        return value["S"]
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Violation(f"{where} is missing or not a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Violation(f"{where} is missing or not a list")
    return value


def _tokens(expression: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match:
            raise _Violation(f"the expression {_show(expression)} cannot be checked")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _refers_to(token: str, attribute: str, names: Mapping[str, Any]) -> bool:
    if token.startswith("#"):
        return names.get(token) == attribute
    return token == attribute


def _key_equalities(params: Mapping[str, Any], attribute: str) -> list[Any]:
    """Every value the key condition compares ``attribute`` with; refuses any other comparison."""
    found: list[Any] = []
    expression = params.get("KeyConditionExpression")
    if expression is not None:
        if not isinstance(expression, str):
            raise _Violation("KeyConditionExpression is not text")
        names = params.get("ExpressionAttributeNames") or {}
        values = params.get("ExpressionAttributeValues") or {}
        tokens = _tokens(expression)
        upper = [t.upper() for t in tokens]
        if "OR" in upper or "NOT" in upper:
            raise _Violation("the key condition uses OR or NOT")
        for n, token in enumerate(tokens):
            if not _refers_to(token, attribute, names):
                continue
            before = tokens[n - 1] if n > 0 else ""
            after = tokens[n + 1] if n + 1 < len(tokens) else ""
            if after == "=" and n + 2 < len(tokens) and tokens[n + 2].startswith(":"):
                ref = tokens[n + 2]
            elif before == "=" and n >= 2 and tokens[n - 2].startswith(":"):
                ref = tokens[n - 2]
            else:
                raise _Violation(f"the key condition on {attribute} is not a plain equality")
            if ref not in values:
                raise _Violation(f"the key condition's value {ref} is not given")
            found.append(values[ref])
        for n, token in enumerate(tokens):
            if token in _COMPARATORS and token != "=":
                neighbours = tokens[max(0, n - 1) : n + 2]
                if any(_refers_to(t, attribute, names) for t in neighbours):
                    raise _Violation(f"the key condition on {attribute} is not a plain equality")
    legacy = params.get("KeyConditions")
    if legacy is not None:
        condition = _mapping(legacy, "KeyConditions").get(attribute)
        if condition is not None:
            operands = condition.get("AttributeValueList") or []
            if condition.get("ComparisonOperator") != "EQ" or len(operands) != 1:
                raise _Violation(f"the key condition on {attribute} is not a plain equality")
            found.append(operands[0])
    return found


def _assignments(expression: str, attribute: str, names: Mapping[str, Any], where: str) -> list[str]:
    """The ``:value`` references assigned to ``attribute`` in an update expression.

    ``REMOVE attribute`` is harmless (the item leaves the index); any other use of the
    attribute than ``attribute = :value`` is refused because it cannot be checked.
    """
    tokens = _tokens(expression)
    refs: list[str] = []
    clause = ""
    for n, token in enumerate(tokens):
        if token.upper() in ("SET", "REMOVE", "ADD", "DELETE"):
            clause = token.upper()
            continue
        if not _refers_to(token, attribute, names):
            continue
        if clause == "REMOVE":
            continue
        after = tokens[n + 1] if n + 1 < len(tokens) else ""
        value = tokens[n + 2] if n + 2 < len(tokens) else ""
        following = tokens[n + 3] if n + 3 < len(tokens) else ","
        if clause == "SET" and after == "=" and value.startswith(":") and following == ",":
            refs.append(value)
            continue
        if (
            clause == "SET"
            and after == "="
            and value.startswith(":")
            and following.upper()
            in (
                "SET",
                "REMOVE",
                "ADD",
                "DELETE",
            )
        ):
            refs.append(value)
            continue
        raise _Violation(f"{where} changes {attribute} in a way that cannot be checked")
    return refs
