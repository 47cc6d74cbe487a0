"""The assistant an account's settings describe, ready to answer."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import AppPaths
from .base import Assistant
from .settings import BEDROCK, BEDROCK_KB, GALILEO, LOCAL_DOCS, OPENAI, AssistantSettings

log = logging.getLogger(__name__)


def default_index_path(docs_dir: str) -> Path:
    """Where the index of a documents folder lives when the caller names no place."""
    digest = hashlib.sha256(str(Path(docs_dir).expanduser().resolve()).encode("utf-8")).hexdigest()[:16]
    return AppPaths.resolve().data_dir / "docs-index" / f"{digest}.sqlite3"


def make_assistant(
    settings: AssistantSettings,
    session: Any = None,
    id_token: Callable[[], str | None] | None = None,
    *,
    user_id: str | None = None,
    index_path: Path | None = None,
) -> Assistant:
    """Build the backend of ``settings`` (validated first; missing settings are named).

    ``session`` is the account's boto3 Session (a default one is made for the AWS
    backends when None); ``id_token`` returns the Cognito id token for the Galileo
    endpoint; ``user_id`` lets the Galileo backend rebuild the items the server wrote
    when its response leaves the owner out; ``index_path`` is the SQLite file of the
    local documents index (by default under the app's data folder).
    """
    settings.validate()
    backend = settings.backend
    if backend == LOCAL_DOCS:
        from .local_docs import LocalDocsAssistant

        return LocalDocsAssistant(settings, index_path or default_index_path(str(settings.docs_dir)))
    if backend == OPENAI:
        from .openai_compatible import OpenAICompatibleAssistant

        return OpenAICompatibleAssistant(settings)
    if session is None:
        from ..aws_sessions import new_boto3_session

        session = new_boto3_session(region_name=settings.region) if settings.region else new_boto3_session()
    if backend == GALILEO:
        from .galileo_endpoint import GalileoEndpointAssistant

        return GalileoEndpointAssistant(settings, session, id_token, user_id=user_id)
    if backend == BEDROCK_KB:
        from .bedrock_kb import BedrockKnowledgeBaseAssistant

        return BedrockKnowledgeBaseAssistant(settings, session)
    if backend == BEDROCK:
        from .bedrock_model import BedrockModelAssistant

        return BedrockModelAssistant(settings, session)
    raise AssertionError(f"unhandled backend {backend!r}")  # validate() refuses unknown backends
