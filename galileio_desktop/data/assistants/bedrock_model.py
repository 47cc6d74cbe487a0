"""Answers from an Amazon Bedrock model through ``bedrock-runtime`` ConverseStream.

The bounded chat history goes with the question, shaped the way Converse accepts it
(alternating roles, opening with the user). A bare model cites nothing, so answers
have no sources.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ..aws_errors import bedrock_errors
from ..errors import InvalidInput
from .base import AI, Answer, TextCallback, TextCollector, Turn, conversation
from .bedrock_client import iter_stream, make_client
from .settings import AssistantSettings

log = logging.getLogger(__name__)

SERVICE = "bedrock-runtime"
#: ``settings.options`` keys copied into Converse's ``inferenceConfig``.
_INFERENCE_OPTIONS = {
    "max_tokens": "maxTokens",
    "temperature": "temperature",
    "top_p": "topP",
    "stop": "stopSequences",
}


class BedrockModelAssistant:
    """Streams an answer from ``settings.model`` (a model id or inference profile)."""

    def __init__(self, settings: AssistantSettings, session: Any, *, client: Any = None) -> None:
        if not settings.model:
            raise InvalidInput("The Bedrock assistant needs a model id (--model).")
        self._settings = settings
        self._session = session
        self._client = client
        self.name = f"{settings.model} (Amazon Bedrock)"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self._session, SERVICE, self._settings)
        return self._client

    def request(self, question: str, history: Sequence[Turn]) -> dict[str, Any]:
        """The ConverseStream parameters for this question."""
        messages = [
            {"role": "assistant" if t.role == AI else "user", "content": [{"text": t.text}]}
            for t in conversation(history, question, self._settings.history_limit)
        ]
        params: dict[str, Any] = {"modelId": self._settings.model, "messages": messages}
        options = self._settings.options
        system = options.get("system")
        if isinstance(system, str) and system.strip():
            params["system"] = [{"text": system}]
        inference = {api: options[name] for name, api in _INFERENCE_OPTIONS.items() if name in options}
        if inference:
            params["inferenceConfig"] = inference
        return params

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
        what = "Amazon Bedrock"
        collector = TextCollector(on_text)
        with bedrock_errors(what):
            response = self.client.converse_stream(**self.request(question, history))
        for event in iter_stream(response["stream"], cancel, what):
            delta = event.get("contentBlockDelta", {}).get("delta", {})
            text = delta.get("text")
            if isinstance(text, str):
                collector.add(text)
            stop = event.get("messageStop")
            if stop:
                log.debug("model stopped: %s", stop.get("stopReason"))
        return Answer(collector.text, stopped=cancel.is_set())
