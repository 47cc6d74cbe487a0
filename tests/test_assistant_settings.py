"""Assistant settings, bounded history and the factory that picks a backend."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import boto3
import pytest

from galileio_desktop.data.assistants import (
    Answer,
    Assistant,
    AssistantSettings,
    Turn,
    bound_history,
    conversation,
    make_assistant,
)
from galileio_desktop.data.assistants.bedrock_kb import BedrockKnowledgeBaseAssistant
from galileio_desktop.data.assistants.bedrock_model import BedrockModelAssistant
from galileio_desktop.data.assistants.galileo_endpoint import GalileoEndpointAssistant
from galileio_desktop.data.assistants.local_docs import LocalDocsAssistant
from galileio_desktop.data.assistants.openai_compatible import OpenAICompatibleAssistant
from galileio_desktop.data.errors import InvalidInput
from galileio_desktop.data.schema import Message, Source


def test_settings_round_trip_without_the_api_key() -> None:
    settings = AssistantSettings(
        backend="openai",
        url="http://127.0.0.1:11434/v1",
        model="llama3",
        api_key="sk-secret",
        history_limit=4,
        options={"temperature": 0.3},
    )

    stored = settings.to_dict()

    assert "sk-secret" not in json.dumps(stored) and "api_key" not in stored
    assert "sk-secret" not in repr(settings)
    again = AssistantSettings.from_dict(json.loads(json.dumps(stored)))
    assert again.api_key is None
    assert (again.backend, again.url, again.model, again.history_limit) == (
        "openai",
        "http://127.0.0.1:11434/v1",
        "llama3",
        4,
    )
    assert again.options == {"temperature": 0.3}


def test_settings_default_to_local_documents() -> None:
    settings = AssistantSettings.from_dict(None)

    assert settings.backend == "local-docs" and settings.history_limit == 10


def test_settings_ignore_an_api_key_found_in_a_file() -> None:
    assert AssistantSettings.from_dict({"backend": "openai", "api_key": "leaked"}).api_key is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"backend": "gpt"}, "Unknown assistant backend"),
        ({"backend": "openai", "history_limit": -1}, "history_limit"),
        ({"backend": "openai", "history_limit": True}, "history_limit"),
        ({"backend": "openai", "url": 42}, "'url' must be text"),
        ({"backend": "openai", "options": []}, "'options' must be an object"),
    ],
)
def test_bad_settings_are_refused(data: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        AssistantSettings.from_dict(data)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (AssistantSettings(backend="galileo"), "endpoint URL"),
        (AssistantSettings(backend="openai", url="http://h"), "model name"),
        (AssistantSettings(backend="bedrock"), "model id"),
        (AssistantSettings(backend="bedrock-kb", model="m"), "knowledge base id"),
        (AssistantSettings(backend="bedrock-kb", knowledge_base_id="kb"), "model ARN"),
        (AssistantSettings(backend="local-docs"), "documents folder"),
        (AssistantSettings(backend="openai", url="ftp://h", model="m"), "http:// or https://"),
    ],
)
def test_the_factory_names_what_is_missing(settings: AssistantSettings, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_assistant(settings)


def test_the_factory_builds_each_backend(tmp_path: Path) -> None:
    session = boto3.Session(region_name="eu-west-1")
    cases = [
        (
            AssistantSettings(backend="galileo", url="https://a1.lambda-url.eu-west-1.on.aws"),
            GalileoEndpointAssistant,
        ),
        (
            AssistantSettings(backend="bedrock-kb", knowledge_base_id="KB1", model="m"),
            BedrockKnowledgeBaseAssistant,
        ),
        (AssistantSettings(backend="bedrock", model="m"), BedrockModelAssistant),
        (AssistantSettings(backend="openai", url="http://127.0.0.1:1", model="m"), OpenAICompatibleAssistant),
        (AssistantSettings(backend="local-docs", docs_dir=str(tmp_path)), LocalDocsAssistant),
    ]
    for settings, kind in cases:
        made = make_assistant(settings, session, index_path=tmp_path / "i.sqlite3")
        assert isinstance(made, kind)
        assert isinstance(made, Assistant) and made.name


def test_galileo_region_and_service_come_from_a_function_url() -> None:
    made = make_assistant(
        AssistantSettings(backend="galileo", url="https://a1.lambda-url.ap-south-1.on.aws/"),
        boto3.Session(region_name="eu-west-1"),
    )

    assert isinstance(made, GalileoEndpointAssistant)
    assert (made.service, made.region) == ("lambda", "ap-south-1")


def test_local_docs_index_defaults_under_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALILEIO_DATA_DIR", str(tmp_path / "app"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("Otters hold hands while sleeping.\n", encoding="utf-8")

    made = make_assistant(
        AssistantSettings(backend="local-docs", docs_dir=str(docs), options={"pace_seconds": 0})
    )
    answer = made.answer("c", "otters", [], lambda t: None, threading.Event())

    assert isinstance(made, LocalDocsAssistant)
    assert made.index_path.parent == tmp_path / "app" / "data" / "docs-index"
    assert made.index_path.exists() and answer.sources


def test_bound_history_keeps_the_last_turns() -> None:
    turns = [Turn("human", f"q{i}") if i % 2 == 0 else Turn("ai", f"a{i}") for i in range(30)]
    turns.insert(3, Turn("ai", "   "))
    turns.insert(5, Turn("system", "ignored"))

    assert [t.text for t in bound_history(turns, 3)] == ["a27", "q28", "a29"]
    assert bound_history(turns, 0) == []
    assert len(bound_history(turns, None)) == 30


def test_conversation_alternates_and_ends_with_the_question() -> None:
    history = [
        Turn("ai", "welcome"),
        Turn("human", "one"),
        Turn("human", "one again"),
        Turn("ai", "reply"),
        Turn("human", "failed try"),
    ]

    turns = conversation(history, "new question", limit=10)

    assert turns == [
        Turn("human", "one\n\none again"),
        Turn("ai", "reply"),
        Turn("human", "new question"),
    ]
    assert conversation(history, "q", limit=0) == [Turn("human", "q")]


def test_answer_remote_messages_attach_sources() -> None:
    ai = Message("m2", "c", "u", "ai", "answer", 2)
    human = Message("m1", "c", "u", "human", "question", 1)
    sources = [Source(str(i), "m2", "c", "u", f"p{i}", {}, 2) for i in (10, 2, 0)]
    answer = Answer("answer", remote_items=[human.to_item(), ai.to_item(), *(s.to_item() for s in sources)])

    first, second = answer.remote_messages()

    assert (first.message_id, second.message_id) == ("m1", "m2")
    assert [s.source_id for s in second.sources] == ["0", "2", "10"]
    assert first.sources == ()
