"""Answers with sources from an Amazon Bedrock knowledge base (``bedrock-agent-runtime``).

RetrieveAndGenerateStream where the installed botocore has it (text arrives as it
is generated), RetrieveAndGenerate otherwise. Each citation's retrieved references
become sources: ``pageContent`` the passage, ``metadata`` its location
(``source_location``: the S3 URI, web URL ...) plus the reference's own metadata.

Knowledge bases keep conversation context in a session of their own rather than in
a history we send; the session id of each chat is remembered for as long as this
assistant lives, so follow-up questions keep their context.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..aws_errors import bedrock_errors
from ..errors import InvalidInput
from .base import Answer, TextCallback, TextCollector, Turn, make_source
from .bedrock_client import iter_stream, make_client
from .settings import AssistantSettings

log = logging.getLogger(__name__)

SERVICE = "bedrock-agent-runtime"

#: Where each location type keeps its address, in the order we look.
_LOCATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("s3Location", "uri"),
    ("webLocation", "url"),
    ("confluenceLocation", "url"),
    ("salesforceLocation", "url"),
    ("sharePointLocation", "url"),
    ("kendraDocumentLocation", "uri"),
    ("customDocumentLocation", "id"),
    ("sqlLocation", "query"),
)


def model_arn(settings: AssistantSettings, region: str | None) -> str:
    """The model ARN; a bare foundation model id is turned into its ARN."""
    if settings.model_arn:
        return settings.model_arn
    model = settings.model or ""
    if model.startswith("arn:"):
        return model
    if not region:
        raise InvalidInput("The knowledge base assistant needs an AWS region (--region) or a model ARN.")
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def source_location(location: Mapping[str, Any]) -> str:
    """The address of a retrieved reference (S3 URI, URL ...), or ''."""
    for field_name, key in _LOCATION_FIELDS:
        value = location.get(field_name)
        if isinstance(value, Mapping) and isinstance(value.get(key), str):
            return str(value[key])
    return ""


def reference_source(reference: Mapping[str, Any]) -> dict[str, Any]:
    """One retrieved reference as a source draft."""
    content = reference.get("content") or {}
    text = content.get("text") if isinstance(content, Mapping) else None
    location = reference.get("location") or {}
    metadata: dict[str, Any] = {}
    if isinstance(location, Mapping):
        uri = source_location(location)
        if uri:
            metadata["source_location"] = uri
        if isinstance(location.get("type"), str):
            metadata["location_type"] = location["type"]
    extra = reference.get("metadata")
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            metadata.setdefault(str(key), value)
    return make_source(text if isinstance(text, str) else "", metadata)


def citation_sources(citations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sources of all citations in order; a passage cited twice is listed once."""
    sources: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for citation in citations:
        for reference in citation.get("retrievedReferences") or ():
            source = reference_source(reference)
            key = (source["pageContent"], str(source["metadata"].get("source_location", "")))
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources


class BedrockKnowledgeBaseAssistant:
    """Retrieves from ``settings.knowledge_base_id`` and generates with the given model."""

    def __init__(self, settings: AssistantSettings, session: Any, *, client: Any = None) -> None:
        if not settings.knowledge_base_id:
            raise InvalidInput(
                "The knowledge base assistant needs a knowledge base id (--knowledge-base-id)."
            )
        self._settings = settings
        self._session = session
        self._client = client
        self._sessions: dict[str, str] = {}
        self._lock = threading.Lock()
        self.name = f"Knowledge base {settings.knowledge_base_id} (Amazon Bedrock)"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self._session, SERVICE, self._settings)
        return self._client

    def request(self, chat_id: str, question: str) -> dict[str, Any]:
        """The RetrieveAndGenerate(Stream) parameters for this question."""
        region = self._settings.region or getattr(self._session, "region_name", None)
        if region is None and self._client is not None:
            region = self._client.meta.region_name
        kb_config: dict[str, Any] = {
            "knowledgeBaseId": self._settings.knowledge_base_id,
            "modelArn": model_arn(self._settings, region),
        }
        results = self._settings.options.get("number_of_results")
        if isinstance(results, int) and results > 0:
            kb_config["retrievalConfiguration"] = {"vectorSearchConfiguration": {"numberOfResults": results}}
        params: dict[str, Any] = {
            "input": {"text": question},
            "retrieveAndGenerateConfiguration": {
                "type": "KNOWLEDGE_BASE",
                "knowledgeBaseConfiguration": kb_config,
            },
        }
        with self._lock:
            session_id = self._sessions.get(chat_id)
        if session_id:
            params["sessionId"] = session_id
        return params

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: TextCallback,
        cancel: threading.Event,
    ) -> Answer:
        """Ask the knowledge base; ``history`` is carried by the knowledge base session."""
        if cancel.is_set():
            return Answer("", stopped=True)
        what = "The Bedrock knowledge base"
        params = self.request(chat_id, question)
        streaming = hasattr(self.client, "retrieve_and_generate_stream") and self._settings.options.get(
            "stream", True
        )
        if not streaming:
            return self._answer_whole(chat_id, params, on_text, cancel, what)
        collector = TextCollector(on_text)
        citations: list[Mapping[str, Any]] = []
        with bedrock_errors(what):
            response = self.client.retrieve_and_generate_stream(**params)
        self._remember(chat_id, response.get("sessionId"))
        for event in iter_stream(response["stream"], cancel, what):
            output = event.get("output")
            if isinstance(output, Mapping) and isinstance(output.get("text"), str):
                collector.add(output["text"])
            citation = event.get("citation")
            if isinstance(citation, Mapping):
                citations.append(_citation_of(citation))
            guardrail = event.get("guardrail")
            if guardrail:
                log.info("knowledge base guardrail action: %s", guardrail.get("action"))
        return Answer(collector.text, citation_sources(citations), stopped=cancel.is_set())

    def _answer_whole(
        self,
        chat_id: str,
        params: dict[str, Any],
        on_text: TextCallback,
        cancel: threading.Event,
        what: str,
    ) -> Answer:
        with bedrock_errors(what):
            response = self.client.retrieve_and_generate(**params)
        self._remember(chat_id, response.get("sessionId"))
        if cancel.is_set():
            return Answer("", stopped=True)
        collector = TextCollector(on_text)
        collector.add(str(response.get("output", {}).get("text", "")))
        return Answer(collector.text, citation_sources(response.get("citations") or ()))

    def _remember(self, chat_id: str, session_id: Any) -> None:
        if isinstance(session_id, str) and session_id:
            with self._lock:
                self._sessions[chat_id] = session_id


def _citation_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The citation of a stream event: newer events carry the references at the top
    level, older ones inside ``citation``."""
    if event.get("retrievedReferences"):
        return event
    inner = event.get("citation")
    return inner if isinstance(inner, Mapping) else event
