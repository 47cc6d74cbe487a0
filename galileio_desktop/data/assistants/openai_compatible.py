"""Answers from an OpenAI-compatible chat completions server (Ollama, LM Studio, llama.cpp).

Streams with ``stream: true`` and reads the server-sent events as they arrive; a
server that ignores streaming and answers with one JSON document works too. These
servers know nothing of our documents, so answers have no sources.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import EndpointUnreachable
from .base import AI, Answer, AssistantError, TextCallback, TextCollector, Turn, conversation
from .http_transport import RequestStopped, excerpt, send
from .settings import AssistantSettings
from .sse import iter_events

log = logging.getLogger(__name__)

COMPLETIONS_PATH = "/chat/completions"
#: Options copied into the request body when present.
_REQUEST_OPTIONS = ("temperature", "max_tokens", "top_p", "seed", "stop")


def completions_url(url: str) -> str:
    """``{url}/chat/completions``, or ``url`` itself when it already ends so."""
    base = url.rstrip("/")
    return base if base.endswith(COMPLETIONS_PATH) else base + COMPLETIONS_PATH


class OpenAICompatibleAssistant:
    """Streams chat completions from ``settings.url`` with ``settings.model``."""

    def __init__(self, settings: AssistantSettings) -> None:
        if not settings.url or not settings.model:
            raise AssistantError("The OpenAI-compatible assistant needs a URL and a model name.")
        self._settings = settings
        self._url = completions_url(settings.url)
        self.name = f"{settings.model} (OpenAI-compatible)"

    def request_body(self, question: str, history: Sequence[Turn]) -> dict[str, Any]:
        """The chat completions request: system prompt, bounded history, the question."""
        options = self._settings.options
        messages: list[dict[str, str]] = []
        system = options.get("system")
        if isinstance(system, str) and system.strip():
            messages.append({"role": "system", "content": system})
        for turn in conversation(history, question, self._settings.history_limit):
            messages.append({"role": "assistant" if turn.role == AI else "user", "content": turn.text})
        body: dict[str, Any] = {"model": self._settings.model, "messages": messages, "stream": True}
        for name in _REQUEST_OPTIONS:
            if name in options:
                body[name] = options[name]
        return body

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: TextCallback,
        cancel: threading.Event,
    ) -> Answer:
        if cancel.is_set():
            return Answer("", stopped=True)
        payload = json.dumps(self.request_body(question, history)).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream, application/json",
        }
        if self._settings.api_key:
            headers["Authorization"] = f"Bearer {self._settings.api_key}"
        collector = TextCollector(on_text)
        try:
            with send("POST", self._url, payload, headers, cancel, what="The chat server") as exchange:
                content_type = exchange.response.getheader("Content-Type", "") or ""
                try:
                    if "text/event-stream" in content_type:
                        self._read_stream(exchange.response.readline, collector, cancel)
                    else:
                        self._read_document(exchange.response.read(), collector)
                except (OSError, ValueError, http.client.HTTPException) as exc:
                    if cancel.is_set():
                        return Answer(collector.text, stopped=True)
                    raise EndpointUnreachable(
                        f"The chat server closed the connection mid-answer: {exc}"
                    ) from exc
        except RequestStopped:
            return Answer(collector.text, stopped=True)
        return Answer(collector.text, stopped=cancel.is_set())

    def _read_stream(self, readline: Any, collector: TextCollector, cancel: threading.Event) -> None:
        for event in iter_events(readline):
            if cancel.is_set():
                return
            if event.data.strip() == "[DONE]":
                return
            try:
                chunk = json.loads(event.data)
            except json.JSONDecodeError:
                log.debug("ignoring a non-JSON event from the chat server")
                continue
            _raise_for_error(chunk)
            collector.add(_delta_text(chunk))
            if cancel.is_set():
                return

    def _read_document(self, body: bytes, collector: TextCollector) -> None:
        try:
            document = json.loads(body)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"The chat server sent an answer that is not JSON: {excerpt(body)}") from exc
        _raise_for_error(document)
        choices = document.get("choices") if isinstance(document, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise AssistantError(f"The chat server's answer has no choices: {excerpt(body)}")
        message = choices[0].get("message") or {}
        collector.add(str(message.get("content") or choices[0].get("text") or ""))


def _delta_text(chunk: Any) -> str:
    if not isinstance(chunk, dict):
        return ""
    choices = chunk.get("choices")
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    if text is None:
        text = choices[0].get("text")  # legacy completions shape
    return text if isinstance(text, str) else ""


def _raise_for_error(document: Any) -> None:
    if isinstance(document, dict) and document.get("error"):
        error = document["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise AssistantError(f"The chat server reported an error: {excerpt(str(message))}")
