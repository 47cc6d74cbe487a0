"""The Galileo chat table's item shapes: key builders, entities and their codecs.

Items are handled in DynamoDB's typed wire form (``{"S": "..."}``) end to end, so
what we read from the web app and what we write back stay byte-compatible, and
attributes we do not know survive in ``extra``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from .errors import InvalidInput, ItemTooLarge
from .item_size import MAX_ITEM_BYTES, item_size

log = logging.getLogger(__name__)

TypedItem = dict[str, dict[str, Any]]
MessageType = Literal["human", "ai"]
MESSAGE_TYPES: tuple[str, ...] = ("human", "ai")

CHAT_SK_PREFIX = "CHAT#"
MESSAGE_SK_PREFIX = "MESSAGE#"
SOURCE_SK_PREFIX = "SOURCE#"
DEFAULT_CHAT_TITLE = "New chat"

_codecs: tuple[Any, Any] | None = None


def _type_codecs() -> tuple[Any, Any]:
    """boto3's serializer and deserializer, imported on first use: importing boto3 costs
    a quarter of a second, which the window does not pay before its first paint."""
    global _codecs
    if _codecs is None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        _codecs = (TypeSerializer(), TypeDeserializer())
    return _codecs


_CHAT_ATTRS = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "chatId", "title", "createdAt", "userId", "entity", "updatedAt"}
)
_MESSAGE_ATTRS = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "chatId", "messageId", "createdAt", "userId", "type", "data", "entity"}
)
_SOURCE_ATTRS = frozenset(
    {
        "PK",
        "SK",
        "sourceId",
        "chatId",
        "messageId",
        "userId",
        "createdAt",
        "entity",
        "pageContent",
        "metadata",
    }
)

#: The attributes the web app writes on messages and sources (others are carried in ``extra``).
MESSAGE_ATTRIBUTES = _MESSAGE_ATTRS
SOURCE_ATTRIBUTES = _SOURCE_ATTRS


def now_ms() -> int:
    """The current time as the table stores it: epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A client-generated id, so every write can be replayed safely."""
    import uuid  # here: not needed to read the mirror (app start-up)

    return str(uuid.uuid4())


# -- keys ---------------------------------------------------------------------------


def chats_gsi1pk(user_id: str) -> str:
    return f"{user_id}#CHAT"


def messages_gsi1pk(user_id: str, chat_id: str) -> str:
    return f"{user_id}#CHAT#{chat_id}"


def chat_key(user_id: str, chat_id: str) -> TypedItem:
    return {"PK": {"S": user_id}, "SK": {"S": f"{CHAT_SK_PREFIX}{chat_id}"}}


def message_key(user_id: str, message_id: str) -> TypedItem:
    return {"PK": {"S": user_id}, "SK": {"S": f"{MESSAGE_SK_PREFIX}{message_id}"}}


def source_sk_prefix(message_id: str) -> str:
    return f"{SOURCE_SK_PREFIX}{message_id}#"


def source_key(user_id: str, message_id: str, source_id: str) -> TypedItem:
    return {"PK": {"S": user_id}, "SK": {"S": f"{source_sk_prefix(message_id)}{source_id}"}}


def key_of(item: Mapping[str, Any]) -> TypedItem:
    """The primary key of a typed item."""
    return {"PK": dict(item["PK"]), "SK": dict(item["SK"])}


def entity_of(item: Mapping[str, Any]) -> str | None:
    """CHAT, MESSAGE or SOURCE, from the sort key (``entity`` may be missing on old items)."""
    sk = item.get("SK", {}).get("S", "")
    for prefix, name in (
        (CHAT_SK_PREFIX, "CHAT"),
        (MESSAGE_SK_PREFIX, "MESSAGE"),
        (SOURCE_SK_PREFIX, "SOURCE"),
    ):
        if sk.startswith(prefix):
            return name
    return None


# -- plain <-> typed values -----------------------------------------------------------


def to_plain(value: Any) -> Any:
    """A typed attribute value as JSON-friendly Python (Decimals become int or float)."""
    return _jsonable(_type_codecs()[1].deserialize(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value).decode("utf-8", "replace")
    return value


def to_typed(value: Any) -> dict[str, Any]:
    """Plain Python as a typed attribute value; floats go through Decimal exactly as written."""
    typed: dict[str, Any] = _type_codecs()[0].serialize(_decimals(value))
    return typed


def _decimals(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dict):
        return {str(k): _decimals(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals(v) for v in value]
    return value


def _ms(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


def _str(item: Mapping[str, Any], name: str) -> str:
    attr = item.get(name)
    if not isinstance(attr, dict) or not isinstance(attr.get("S"), str):
        raise ValueError(f"attribute {name!r} missing or not a string")
    return str(attr["S"])


def _int(item: Mapping[str, Any], name: str) -> int:
    attr = item.get(name)
    if isinstance(attr, dict) and "N" in attr:
        return int(Decimal(attr["N"]))
    if isinstance(attr, dict) and isinstance(attr.get("S"), str) and attr["S"].isdigit():
        return int(attr["S"])  # tolerated: some writers store the time as a string
    raise ValueError(f"attribute {name!r} missing or not a number")


def _extra(item: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in known}


# -- entities -------------------------------------------------------------------------


@dataclass(frozen=True)
class Chat:
    """A chat session, as the sidebar lists it."""

    chat_id: str
    user_id: str
    title: str
    created_at: int
    updated_at: int | None = None
    #: Attributes written by others that we carry along untouched (typed form).
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_item(self) -> TypedItem:
        item: TypedItem = {
            **chat_key(self.user_id, self.chat_id),
            "GSI1PK": {"S": chats_gsi1pk(self.user_id)},
            "GSI1SK": {"S": str(self.created_at)},
            "chatId": {"S": self.chat_id},
            "title": {"S": self.title},
            "createdAt": _ms(self.created_at),
            "userId": {"S": self.user_id},
            "entity": {"S": "CHAT"},
        }
        if self.updated_at is not None:
            item["updatedAt"] = _ms(self.updated_at)
        return {**dict(self.extra), **item}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Chat:
        sk = _str(item, "SK")
        chat_id = _optional_str(item, "chatId") or sk.removeprefix(CHAT_SK_PREFIX)
        title = _optional_str(item, "title")
        return cls(
            chat_id=chat_id,
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            title=title if title is not None else DEFAULT_CHAT_TITLE,
            created_at=_int_or_gsi(item),
            updated_at=_optional_int(item, "updatedAt"),
            extra=_extra(item, _CHAT_ATTRS),
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chatId": self.chat_id, "title": self.title, "createdAt": self.created_at}
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        out["userId"] = self.user_id
        return out


@dataclass(frozen=True)
class Source:
    """A passage cited by an answer."""

    source_id: str
    message_id: str
    chat_id: str
    user_id: str
    page_content: str
    metadata: Mapping[str, Any]
    created_at: int
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_item(self) -> TypedItem:
        item: TypedItem = {
            **source_key(self.user_id, self.message_id, self.source_id),
            "sourceId": {"S": self.source_id},
            "chatId": {"S": self.chat_id},
            "messageId": {"S": self.message_id},
            "userId": {"S": self.user_id},
            "createdAt": _ms(self.created_at),
            "entity": {"S": "SOURCE"},
            "pageContent": {"S": self.page_content},
            "metadata": to_typed(dict(self.metadata)),
        }
        return {**dict(self.extra), **item}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Source:
        sk = _str(item, "SK")
        parts = sk.split("#")
        if len(parts) < 3:
            raise ValueError(f"source sort key {sk!r} is not SOURCE#messageId#sourceId")
        metadata_attr = item.get("metadata")
        metadata = to_plain(metadata_attr) if isinstance(metadata_attr, dict) else {}
        if not isinstance(metadata, dict):
            metadata = {"value": metadata}
        return cls(
            source_id=_optional_str(item, "sourceId") or parts[-1],
            message_id=_optional_str(item, "messageId") or parts[1],
            chat_id=_optional_str(item, "chatId") or "",
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            page_content=_optional_str(item, "pageContent") or "",
            metadata=metadata,
            created_at=_optional_int(item, "createdAt") or 0,
            extra=_extra(item, _SOURCE_ATTRS),
        )

    @property
    def location(self) -> str:
        """Where the passage comes from (``source_location``, ``source`` or ``url``), if known."""
        for name in ("source_location", "source", "url", "location", "file"):
            value = self.metadata.get(name)
            if isinstance(value, str) and value:
                return value
        return ""

    def as_json(self) -> dict[str, Any]:
        return {
            "sourceId": self.source_id,
            "messageId": self.message_id,
            "chatId": self.chat_id,
            "pageContent": self.page_content,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Message:
    """A human prompt or an assistant answer."""

    message_id: str
    chat_id: str
    user_id: str
    type: str
    content: str
    created_at: int
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    sources: tuple[Source, ...] = field(default=(), compare=False)

    def to_item(self) -> TypedItem:
        data = dict(self.extra.get("data", {}).get("M", {})) if "data" in self.extra else {}
        data["content"] = {"S": self.content}
        extra = {k: v for k, v in self.extra.items() if k != "data"}
        item: TypedItem = {
            **message_key(self.user_id, self.message_id),
            "GSI1PK": {"S": messages_gsi1pk(self.user_id, self.chat_id)},
            "GSI1SK": {"S": str(self.created_at)},
            "chatId": {"S": self.chat_id},
            "messageId": {"S": self.message_id},
            "createdAt": _ms(self.created_at),
            "userId": {"S": self.user_id},
            "type": {"S": self.type},
            "data": {"M": data},
            "entity": {"S": "MESSAGE"},
        }
        return {**extra, **item}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Message:
        data = item.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("M"), dict):
            raise ValueError("attribute 'data' missing or not a map")
        content = data["M"].get("content")
        if not isinstance(content, dict) or not isinstance(content.get("S"), str):
            raise ValueError("attribute 'data.content' missing or not a string")
        extra = _extra(item, _MESSAGE_ATTRS)
        other_data = {k: v for k, v in data["M"].items() if k != "content"}
        if other_data:
            extra["data"] = {"M": other_data}
        sk = _str(item, "SK")
        gsi1pk = _optional_str(item, "GSI1PK") or ""
        chat_id = _optional_str(item, "chatId") or gsi1pk.rsplit("#", 1)[-1]
        if not chat_id:
            raise ValueError("message has no chatId")
        return cls(
            message_id=_optional_str(item, "messageId") or sk.removeprefix(MESSAGE_SK_PREFIX),
            chat_id=chat_id,
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            type=_str(item, "type"),
            content=str(content["S"]),
            created_at=_int_or_gsi(item),
            extra=extra,
        )

    def with_sources(self, sources: tuple[Source, ...]) -> Message:
        return Message(
            self.message_id,
            self.chat_id,
            self.user_id,
            self.type,
            self.content,
            self.created_at,
            self.extra,
            tuple(sorted(sources, key=source_order)),
        )

    def as_json(self, *, with_sources: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "messageId": self.message_id,
            "chatId": self.chat_id,
            "type": self.type,
            "text": self.content,
            "createdAt": self.created_at,
        }
        if with_sources:
            out["sources"] = [s.as_json() for s in self.sources]
        return out


def _optional_str(item: Mapping[str, Any], name: str) -> str | None:
    attr = item.get(name)
    if isinstance(attr, dict) and isinstance(attr.get("S"), str):
        return str(attr["S"])
    return None


def _optional_int(item: Mapping[str, Any], name: str) -> int | None:
    try:
        return _int(item, name)
    except (ValueError, ArithmeticError):
        return None


def _int_or_gsi(item: Mapping[str, Any]) -> int:
    try:
        return _int(item, "createdAt")
    except (ValueError, ArithmeticError):
        return _int(item, "GSI1SK")


def source_order(source: Source) -> tuple[int, str]:
    """Numeric order of ``sourceId`` ("2" before "10")."""
    sid = source.source_id
    return (int(sid), sid) if sid.isdigit() else (1 << 62, sid)


def decode(item: Mapping[str, Any]) -> Chat | Message | Source | None:
    """Decode any item of the table; a malformed one is skipped with a warning, never raised."""
    entity = entity_of(item)
    try:
        if entity == "CHAT":
            return Chat.from_item(item)
        if entity == "MESSAGE":
            return Message.from_item(item)
        if entity == "SOURCE":
            return Source.from_item(item)
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        log.warning("skipping malformed %s item %s: %s", entity, _describe_key(item), exc)
        return None
    return None


def _describe_key(item: Mapping[str, Any]) -> str:
    sk = item.get("SK", {})
    return repr(sk.get("S") if isinstance(sk, dict) else sk)


# -- validation ---------------------------------------------------------------------


def validate_title(title: str) -> str:
    """A chat title as stored: refused when empty or whitespace only."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("A chat title cannot be empty.")
    return title


def validate_message_type(kind: str) -> str:
    if kind not in MESSAGE_TYPES:
        raise InvalidInput(f"A message type must be 'human' or 'ai', not {kind!r}.")
    return kind


def check_item_size(item: Mapping[str, Any], what: str) -> int:
    """Refuse an item over DynamoDB's 400 KB limit, stating the limit and the size."""
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ItemTooLarge(what, size, MAX_ITEM_BYTES)
    return size


def make_sources(
    user_id: str,
    chat_id: str,
    message_id: str,
    drafts: list[Mapping[str, Any]],
    created_at: int,
) -> tuple[Source, ...]:
    """Sources "0".."n-1" of an answer from ``{pageContent, metadata}`` drafts."""
    sources = []
    for index, draft in enumerate(drafts):
        if not isinstance(draft, Mapping):
            raise InvalidInput(f"Source {index} must be an object with pageContent and metadata.")
        content = draft.get("pageContent", "")
        metadata = draft.get("metadata", {})
        if not isinstance(content, str):
            raise InvalidInput(f"Source {index}: pageContent must be text.")
        if not isinstance(metadata, Mapping):
            raise InvalidInput(f"Source {index}: metadata must be an object.")
        sources.append(Source(str(index), message_id, chat_id, user_id, content, dict(metadata), created_at))
    return tuple(sources)
