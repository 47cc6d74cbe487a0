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

from .dynamo.item_size import MAX_ITEM_BYTES, item_size
from .errors import InvalidInput, ItemTooLarge
from .pins import PINNED_AT, pin_time
from .timestamps import UNKNOWN_MS, parse_ms

log = logging.getLogger(__name__)

TypedItem = dict[str, dict[str, Any]]
MessageType = Literal["human", "ai"]
MESSAGE_TYPES: tuple[str, ...] = ("human", "ai")

CHAT_SK_PREFIX = "CHAT#"
MESSAGE_SK_PREFIX = "MESSAGE#"
SOURCE_SK_PREFIX = "SOURCE#"
DEFAULT_CHAT_TITLE = "New chat"

#: What a message's ``type`` reads as when another writer stored something other than text.
UNKNOWN_MESSAGE_TYPE = "unknown"

_serializer: Any = None


def _type_serializer() -> Any:
    """boto3's serializer, imported on first use: importing boto3 costs a quarter of a
    second, which the window does not pay before its first paint."""
    global _serializer
    if _serializer is None:
        from boto3.dynamodb.types import TypeSerializer

        _serializer = TypeSerializer()
    return _serializer


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
    attr = item.get("SK")
    sk = attr.get("S") if isinstance(attr, dict) else None
    if not isinstance(sk, str):
        return None
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
    """A typed attribute value as JSON-friendly Python, whatever another writer stored.

    Numbers become int or float when they fit one, else stay as their digits (text), so
    a 40-digit or ``1e125`` number neither raises (boto3's deserializer refuses what
    DynamoDB's 38-digit context cannot hold) nor turns into a float infinity. Sets come
    out sorted, binary as UTF-8 text; an unknown type tag gives None.
    """
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((tag, raw),) = value.items()
    if tag == "S":
        return raw if isinstance(raw, str) else str(raw)
    if tag == "N":
        return _plain_number(raw)
    if tag == "BOOL":
        return bool(raw)
    if tag == "NULL":
        return None
    if tag == "M":
        return {str(k): to_plain(v) for k, v in raw.items()} if isinstance(raw, dict) else None
    if tag == "L":
        return [to_plain(v) for v in raw] if isinstance(raw, list) else None
    if tag == "B":
        return _plain_bytes(raw)
    if not isinstance(raw, list):
        return None
    if tag == "SS":
        return sorted(str(v) for v in raw)
    if tag == "NS":
        return [_plain_number(v) for v in sorted(raw, key=_number_order)]
    if tag == "BS":
        return sorted(_plain_bytes(v) for v in raw)
    return None


def _plain_bytes(raw: Any) -> str:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw).decode("utf-8", "replace")
    inner = getattr(raw, "value", raw)  # boto3's Binary
    return bytes(inner).decode("utf-8", "replace") if isinstance(inner, bytes) else str(raw)


#: Whole numbers with more digits than this are kept as text (a float would lose them
#: and a huge int would take long to make); DynamoDB itself holds 38 significant digits.
_MAX_INT_DIGITS = 40


def _plain_number(raw: Any) -> int | float | str:
    text = str(raw)
    try:
        number = Decimal(text)
    except (ArithmeticError, ValueError):
        return text
    if not number.is_finite():
        return text
    if number == number.to_integral_value():
        return int(number) if number.adjusted() < _MAX_INT_DIGITS else text
    as_float = float(number)
    if as_float in (float("inf"), float("-inf")) or (as_float == 0 and not number.is_zero()):
        return text
    return as_float


def _number_order(raw: Any) -> tuple[int, Decimal, str]:
    try:
        number = Decimal(str(raw))
    except (ArithmeticError, ValueError):
        return (1, Decimal(0), str(raw))
    return (0, number, str(raw)) if number.is_finite() else (1, Decimal(0), str(raw))


def to_typed(value: Any) -> dict[str, Any]:
    """Plain Python as a typed attribute value; floats go through Decimal exactly as written."""
    typed: dict[str, Any] = _type_serializer().serialize(_decimals(value))
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


def _ms_of(item: Mapping[str, Any], name: str) -> int | None:
    """A time attribute in bounded milliseconds (see :mod:`.timestamps`): a Number, or the
    same digits as a String (some writers store it so); None when it is neither."""
    attr = item.get(name)
    if isinstance(attr, dict):
        for tag in ("N", "S"):
            raw = attr.get(tag)
            if raw is not None:
                ms = parse_ms(raw)
                if ms is not None:
                    return ms
    return None


def created_ms(item: Mapping[str, Any]) -> int:
    """When an item was made: ``createdAt``, else the digits of ``GSI1SK``; bounded to the
    range SQLite and ``datetime`` hold, :data:`~.timestamps.UNKNOWN_MS` when neither is a
    number (see :mod:`.timestamps`: both read as "unknown date").

    The mirror's ``created_at`` column and the decoded entities both come from here, so
    a page read with ``before=`` an entity's time lands where the column says, and a chat
    is listed (never skipped) whatever its time: a chat that the first screen's query
    counts but that is not shown would end the list early.
    """
    ms = _ms_of(item, "createdAt")
    if ms is None:
        ms = _ms_of(item, "GSI1SK")
    return UNKNOWN_MS if ms is None else ms


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
    #: Attributes written by others that we carry along untouched (typed form), and
    #: ``pinnedAt``, kept here as stored so no value of it is lost (see :mod:`.pins`).
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def pinned_at(self) -> int | None:
        """When the user pinned the chat (epoch ms); None when it is not pinned."""
        return pin_time(self.extra.get(PINNED_AT))

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
        """The chat of an item; its id comes from the sort key (the mirror files it there,
        so a ``chatId`` naming another chat cannot make a second row of that chat)."""
        title = _optional_str(item, "title")
        return cls(
            chat_id=_str(item, "SK").removeprefix(CHAT_SK_PREFIX),
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            title=title if title is not None else DEFAULT_CHAT_TITLE,
            created_at=created_ms(item),
            updated_at=_ms_of(item, "updatedAt"),
            extra=_extra(item, _CHAT_ATTRS),
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chatId": self.chat_id, "title": self.title, "createdAt": self.created_at}
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        if self.pinned_at is not None:
            out["pinnedAt"] = self.pinned_at
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
        """The source of an item; message and source ids come from the sort key, which is
        what a sources query selects on. Metadata that is not a map is kept as ``value``."""
        message_id, source_id = source_ids(item)
        metadata_attr = item.get("metadata")
        metadata = to_plain(metadata_attr) if isinstance(metadata_attr, dict) else {}
        if not isinstance(metadata, dict):
            metadata = {"value": metadata}
        return cls(
            source_id=source_id,
            message_id=message_id,
            chat_id=_optional_str(item, "chatId") or "",
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            page_content=_optional_str(item, "pageContent") or "",
            metadata=metadata,
            created_at=_ms_of(item, "createdAt") or 0,
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
        chat_id = message_chat_id(item)
        if not chat_id:
            raise ValueError("message has no chatId")
        return cls(
            # From the sort key, as the mirror files it: a ``messageId`` naming another
            # message cannot make a second row of that message.
            message_id=_str(item, "SK").removeprefix(MESSAGE_SK_PREFIX),
            chat_id=chat_id,
            user_id=_optional_str(item, "userId") or _str(item, "PK"),
            type=_optional_str(item, "type") or UNKNOWN_MESSAGE_TYPE,
            content=str(content["S"]),
            created_at=created_ms(item),
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


def message_chat_id(item: Mapping[str, Any]) -> str:
    """The chat a message item belongs to: ``chatId``, else the end of ``GSI1PK``
    (``{userId}#CHAT#{chatId}``); "" when neither names one."""
    chat_id = _optional_str(item, "chatId")
    if chat_id:
        return chat_id
    gsi1pk = _optional_str(item, "GSI1PK") or ""
    return gsi1pk.rsplit("#", 1)[-1] if "#" in gsi1pk else ""


def source_ids(item: Mapping[str, Any]) -> tuple[str, str]:
    """(message id, source id) of a source item, from its sort key
    ``SOURCE#{messageId}#{sourceId}``; ``messageId`` only says where the key splits
    when the id itself holds a ``#``. Raises ValueError for a key of another shape."""
    sk = _str(item, "SK")
    body = sk.removeprefix(SOURCE_SK_PREFIX)
    message_id = _optional_str(item, "messageId")
    if message_id and body.startswith(message_id + "#"):
        return message_id, body[len(message_id) + 1 :]
    parts = body.split("#", 1)
    if len(parts) < 2 or body == sk:
        raise ValueError(f"source sort key {sk!r} is not SOURCE#messageId#sourceId")
    return parts[0], parts[1]


#: Ids with more digits than this sort after all numbered ones (as text).
_MAX_ORDER_DIGITS = 18


def source_order(source: Source) -> tuple[int, str]:
    """Numeric order of ``sourceId`` ("2" before "10"); ids that are not plain ASCII
    digits (another writer's "²", "1e3" or a 40-digit id) come after, by text."""
    sid = source.source_id
    if sid.isascii() and sid.isdigit() and len(sid) <= _MAX_ORDER_DIGITS:
        return (int(sid), sid)
    return (1 << 62, sid)


def decode(item: Mapping[str, Any]) -> Chat | Message | Source | None:
    """Decode any item of the table; a malformed one is skipped with a warning, never raised.

    The same item is read again on every list and open: it is warned about once (per
    process and reason), not on every read.
    """
    entity = entity_of(item)
    try:
        if entity == "CHAT":
            return Chat.from_item(item)
        if entity == "MESSAGE":
            return Message.from_item(item)
        if entity == "SOURCE":
            return Source.from_item(item)
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError) as exc:
        _warn_once(entity, _describe_key(item), exc)
        return None
    return None


#: Items already warned about (bounded: past the bound it starts over).
_warned: set[tuple[str, str]] = set()
_MAX_WARNED = 10_000
_MAX_KEY_CHARS = 120


def _warn_once(entity: str | None, key: str, exc: BaseException) -> None:
    reason = str(exc)[: _MAX_KEY_CHARS * 2]
    mark = (key, reason)
    if mark in _warned:
        return
    if len(_warned) >= _MAX_WARNED:
        _warned.clear()
    _warned.add(mark)
    log.warning("skipping malformed %s item %s: %s", entity, key, reason)


def _describe_key(item: Mapping[str, Any]) -> str:
    sk = item.get("SK", {})
    text = repr(sk.get("S") if isinstance(sk, dict) else sk)
    return text if len(text) <= _MAX_KEY_CHARS else text[: _MAX_KEY_CHARS - 1] + "…"


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
