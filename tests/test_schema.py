"""Item shapes: exactly the web app's attribute names and types, read safely, sized right."""

from __future__ import annotations

import logging

import pytest

from galileio_desktop.data import schema
from galileio_desktop.data.dynamo.item_size import MAX_ITEM_BYTES, item_size, number_size
from galileio_desktop.data.errors import InvalidInput, ItemTooLarge
from galileio_desktop.data.schema import (
    Chat,
    Message,
    Source,
    check_item_size,
    decode,
    make_sources,
    validate_title,
)
from galileio_desktop.data.timestamps import UNKNOWN_DATE, UNKNOWN_MS, iso_utc

USER = "user-1"


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its own first warnings (decode warns once per item and reason)."""
    monkeypatch.setattr(schema, "_warned", set())


def web_app_chat(chat_id: str = "c1", created: int = 1_700_000_000_123) -> dict:
    return {
        "PK": {"S": USER},
        "SK": {"S": f"CHAT#{chat_id}"},
        "GSI1PK": {"S": f"{USER}#CHAT"},
        "GSI1SK": {"S": str(created)},
        "chatId": {"S": chat_id},
        "title": {"S": "Quarterly numbers"},
        "createdAt": {"N": str(created)},
        "userId": {"S": USER},
        "entity": {"S": "CHAT"},
    }


def test_chat_item_has_the_web_app_shape() -> None:
    chat = Chat("c1", USER, "Quarterly numbers", 1_700_000_000_123)
    assert chat.to_item() == web_app_chat()


def test_message_item_has_the_web_app_shape() -> None:
    message = Message("m1", "c1", USER, "ai", "**Hi**", 1_700_000_000_500)
    assert message.to_item() == {
        "PK": {"S": USER},
        "SK": {"S": "MESSAGE#m1"},
        "GSI1PK": {"S": f"{USER}#CHAT#c1"},
        "GSI1SK": {"S": "1700000000500"},
        "chatId": {"S": "c1"},
        "messageId": {"S": "m1"},
        "createdAt": {"N": "1700000000500"},
        "userId": {"S": USER},
        "type": {"S": "ai"},
        "data": {"M": {"content": {"S": "**Hi**"}}},
        "entity": {"S": "MESSAGE"},
    }


def test_source_item_has_the_web_app_shape() -> None:
    (source,) = make_sources(
        USER,
        "c1",
        "m1",
        [{"pageContent": "text", "metadata": {"source_location": "s3://b/k.pdf", "section_index": 3}}],
        5,
    )
    assert source.to_item() == {
        "PK": {"S": USER},
        "SK": {"S": "SOURCE#m1#0"},
        "sourceId": {"S": "0"},
        "chatId": {"S": "c1"},
        "messageId": {"S": "m1"},
        "userId": {"S": USER},
        "createdAt": {"N": "5"},
        "entity": {"S": "SOURCE"},
        "pageContent": {"S": "text"},
        "metadata": {"M": {"source_location": {"S": "s3://b/k.pdf"}, "section_index": {"N": "3"}}},
    }
    assert Source.from_item(source.to_item()) == source
    assert source.location == "s3://b/k.pdf"


def test_round_trip_keeps_unknown_attributes() -> None:
    item = web_app_chat()
    item["pinned"] = {"BOOL": True}
    chat = Chat.from_item(item)
    assert chat.to_item() == item
    message_item = Message("m1", "c1", USER, "human", "hi", 1).to_item()
    message_item["data"]["M"]["additional_kwargs"] = {"M": {}}
    message_item["feedback"] = {"S": "up"}
    assert Message.from_item(message_item).to_item() == message_item


@pytest.mark.parametrize(
    "broken",
    [
        {"PK": {"S": USER}, "SK": {"S": "MESSAGE#m1"}, "type": {"S": "ai"}},
        {
            "PK": {"S": USER},
            "SK": {"S": "MESSAGE#m1"},
            "type": {"S": "ai"},
            "data": {"S": "not a map"},
            "chatId": {"S": "c"},
        },
        {"PK": {"S": USER}, "SK": {"S": "SOURCE#nohash"}},
    ],
)
def test_malformed_items_are_skipped_with_a_warning(broken: dict, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert decode(broken) is None
    assert "malformed" in caplog.text


@pytest.mark.parametrize(
    "timeless",
    [
        {"PK": {"S": USER}, "SK": {"S": "CHAT#c1"}, "title": {"S": "t"}},
        {"PK": {"S": USER}, "SK": {"S": "CHAT#c1"}, "title": {"S": "t"}, "createdAt": {"S": "yesterday"}},
        {"PK": {"S": USER}, "SK": {"S": "CHAT#c1"}, "title": {"S": "t"}, "createdAt": {"M": {}}},
    ],
)
def test_a_chat_without_a_readable_time_is_kept_with_an_unknown_date(timeless: dict) -> None:
    """Listed (the first screen's query counts it) and marked: its time reads "unknown date"."""
    chat = decode(timeless)
    assert isinstance(chat, Chat) and (chat.chat_id, chat.title) == ("c1", "t")
    assert chat.created_at == UNKNOWN_MS and iso_utc(chat.created_at) == UNKNOWN_DATE


def test_wrong_types_in_a_chat_or_message_read_as_marked_values() -> None:
    chat = web_app_chat()
    chat["title"] = {"N": "42"}
    chat["createdAt"] = {"S": "1700000000123"}  # digits as a String: read
    chat["updatedAt"] = {"L": []}
    decoded = decode(chat)
    assert isinstance(decoded, Chat)
    assert (decoded.title, decoded.created_at, decoded.updated_at) == ("New chat", 1_700_000_000_123, None)
    message = Message("m1", "c1", USER, "ai", "text", 1).to_item()
    message["type"] = {"N": "1"}
    message["createdAt"] = {"BOOL": True}  # falls back to GSI1SK's digits
    read = decode(message)
    assert isinstance(read, Message)
    assert (read.type, read.created_at, read.content) == ("unknown", 1, "text")


def test_source_metadata_of_any_type_reads_without_boto3s_number_limits() -> None:
    source = Source("0", "m1", "c1", USER, "p", {}, 1).to_item()
    source["metadata"] = {
        "M": {
            "digits": {"N": "1" * 45},
            "tiny": {"N": "1e-130"},
            "huge": {"N": "9.99e125"},
            "set": {"NS": ["10", "2", "1e400"]},
            "bin": {"B": b"caf\xc3\xa9"},
            "broken": {"M": {"": False}},
        }
    }
    read = decode(source)
    assert isinstance(read, Source)
    assert read.metadata == {
        "digits": "1" * 45,
        "tiny": 1e-130,
        "huge": "9.99e125",
        "set": [2, 10, "1e400"],
        "bin": "café",
        "broken": {"": None},
    }
    source["metadata"] = {"L": [{"S": "a"}]}
    assert decode(source).metadata == {"value": ["a"]}
    assert decode(source).location == ""


def test_title_validation() -> None:
    for bad in ("", "   ", "\n\t"):
        with pytest.raises(InvalidInput, match="empty"):
            validate_title(bad)
    assert validate_title(" ok ") == " ok "


def test_item_size_follows_dynamodb_rules() -> None:
    assert number_size("1700000000123") == 8  # 13 significant digits
    assert number_size("100") == 2  # trailing zeros trimmed
    assert item_size({"ab": {"S": "héllo"}}) == 2 + 6
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"S": "ab"}, {"BOOL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def test_oversized_message_is_refused_with_limit_and_size() -> None:
    message = Message("m1", "c1", USER, "human", "x" * (401 * 1024), 1)
    with pytest.raises(ItemTooLarge) as info:
        check_item_size(message.to_item(), "The message")
    assert info.value.size > MAX_ITEM_BYTES
    assert "409,600" in str(info.value) and f"{info.value.size:,}" in str(info.value)
    at_limit = Message("m1", "c1", USER, "human", "x" * 400_000, 1)
    check_item_size(at_limit.to_item(), "The message")
