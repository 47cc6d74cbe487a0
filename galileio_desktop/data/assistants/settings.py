"""Which assistant an account uses and how to reach it, as stored in the account settings.

Declared once, typed, with defaults. The API key is a secret: it is never written by
:meth:`AssistantSettings.to_dict`; the caller fills it from the keyring.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InvalidInput

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

GALILEO = "galileo"
BEDROCK_KB = "bedrock-kb"
BEDROCK = "bedrock"
OPENAI = "openai"
LOCAL_DOCS = "local-docs"
BACKENDS: tuple[str, ...] = (GALILEO, BEDROCK_KB, BEDROCK, OPENAI, LOCAL_DOCS)
DEFAULT_BACKEND = LOCAL_DOCS
DEFAULT_HISTORY_LIMIT = 10

_FIELDS = ("backend", "url", "model", "knowledge_base_id", "model_arn", "docs_dir", "region")


@dataclass
class AssistantSettings:
    """The backend of an account and what it needs.

    ``url`` is the Galileo inference endpoint or the OpenAI-compatible server; for the
    Bedrock backends it optionally overrides the service endpoint (a VPC endpoint).
    ``options`` is passed through: the Galileo endpoint sends it as the request's
    ``options``; the other backends read documented keys from it (``system``,
    ``temperature``, ``max_tokens``, ``max_passages``, ``pace_seconds`` ...).
    """

    backend: str = DEFAULT_BACKEND
    url: str | None = None
    model: str | None = None
    knowledge_base_id: str | None = None
    model_arn: str | None = None
    docs_dir: str | None = None
    region: str | None = None
    #: Secret: filled from the keyring by the caller, never persisted here.
    api_key: str | None = field(default=None, repr=False)
    #: How many earlier messages of the chat are sent with a question.
    history_limit: int = DEFAULT_HISTORY_LIMIT
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The settings as saved in the account file (without the API key)."""
        out: dict[str, Any] = {"version": SCHEMA_VERSION, "backend": self.backend}
        for name in _FIELDS[1:]:
            value = getattr(self, name)
            if value:
                out[name] = value
        out["history_limit"] = self.history_limit
        if self.options:
            out["options"] = dict(self.options)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AssistantSettings:
        """Settings from the account file; unknown keys are ignored, bad values refused."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidInput("The assistant settings must be an object.")
        backend = str(data.get("backend") or DEFAULT_BACKEND)
        if backend not in BACKENDS:
            raise InvalidInput(f"Unknown assistant backend {backend!r}: choose one of {', '.join(BACKENDS)}.")
        values: dict[str, Any] = {"backend": backend}
        for name in _FIELDS[1:]:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"The assistant setting {name!r} must be text.")
            values[name] = value or None
        limit = data.get("history_limit", DEFAULT_HISTORY_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidInput("The assistant setting 'history_limit' must be a whole number, 0 or more.")
        values["history_limit"] = limit
        options = data.get("options")
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise InvalidInput("The assistant setting 'options' must be an object.")
        values["options"] = dict(options)
        if "api_key" in data:
            log.warning("ignoring an API key found in the account settings: keys belong in the keyring")
        return cls(**values)

    def with_overrides(self, **changes: Any) -> AssistantSettings:
        """A copy with the given fields replaced (``None`` values leave a field as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def validate(self) -> AssistantSettings:
        """Refuse settings the chosen backend cannot work with, saying what is missing."""
        if self.backend not in BACKENDS:
            raise InvalidInput(
                f"Unknown assistant backend {self.backend!r}: choose one of {', '.join(BACKENDS)}."
            )
        missing: list[str] = []
        if self.backend in (GALILEO, OPENAI) and not self.url:
            missing.append("the endpoint URL (--url)")
        if self.backend == BEDROCK and not self.model:
            missing.append("the model id (--model)")
        if self.backend == OPENAI and not self.model:
            missing.append("the model name (--model)")
        if self.backend == BEDROCK_KB:
            if not self.knowledge_base_id:
                missing.append("the knowledge base id (--knowledge-base-id)")
            if not (self.model_arn or self.model):
                missing.append("the model ARN or id (--model)")
        if self.backend == LOCAL_DOCS and not self.docs_dir:
            missing.append("the documents folder (--docs)")
        if missing:
            raise InvalidInput(f"The {self.backend} assistant needs {' and '.join(missing)}.")
        if self.url and self.backend in (GALILEO, OPENAI):
            if not self.url.startswith(("http://", "https://")):
                raise InvalidInput(
                    f"The assistant URL must start with http:// or https://, not {self.url!r}."
                )
        return self
