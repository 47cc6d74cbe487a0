"""Answers from the deployment's own Galileo inference endpoint.

``PUT {endpoint}/chat/{chatId}/message`` with ``{"question", "options"}``, signed
with SigV4 using the account's AWS credentials (service ``lambda`` for a Lambda
function URL, ``execute-api`` for API Gateway) and carrying the user's Cognito id
token in ``X-Cognito-IdToken``, as the web app sends it. The server reads the chat
history itself and writes the question, the answer and its sources to DynamoDB
before it responds; so the answer comes back with ``stored_remotely=True`` and,
where the response carries them, the items as the server wrote them, for the
caller to put in the mirror without writing them again.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError

from ..errors import CredentialsError, EndpointUnreachable, InvalidInput
from ..schema import (
    MESSAGE_ATTRIBUTES,
    MESSAGE_SK_PREFIX,
    SOURCE_ATTRIBUTES,
    Message,
    Source,
    TypedItem,
    to_typed,
)
from .base import AI, HUMAN, Answer, AssistantError, TextCallback, TextCollector, Turn, make_source
from .http_transport import RequestStopped, excerpt, send
from .settings import AssistantSettings

log = logging.getLogger(__name__)

ID_TOKEN_HEADER = "X-Cognito-IdToken"
LAMBDA = "lambda"
EXECUTE_API = "execute-api"
#: Keys of ``settings.options`` that configure this client and are not sent.
LOCAL_OPTIONS = frozenset({"signing_service"})

_LAMBDA_URL = re.compile(r"\.lambda-url\.([a-z0-9-]+)\.on\.aws$")
_EXECUTE_API = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
#: Attributes of the API's message objects that are not attributes of the item.
_API_ONLY = frozenset({"text"})
_MESSAGE_KNOWN = MESSAGE_ATTRIBUTES
_SOURCE_KNOWN = SOURCE_ATTRIBUTES


def signing_service(url: str) -> str:
    """``lambda`` for a Lambda function URL (``*.lambda-url.<region>.on.aws``), else ``execute-api``."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return LAMBDA if _LAMBDA_URL.search(host) else EXECUTE_API


def region_of(url: str) -> str | None:
    """The region named in an AWS endpoint host name, if it names one."""
    host = urllib.parse.urlsplit(url).hostname or ""
    match = _LAMBDA_URL.search(host) or _EXECUTE_API.search(host)
    return match.group(1) if match else None


def message_url(endpoint: str, chat_id: str, service: str) -> str:
    """The chat message URL; function URLs get ``?chatId=`` too (they have no path parameters)."""
    quoted = urllib.parse.quote(chat_id, safe="")
    url = f"{endpoint.rstrip('/')}/chat/{quoted}/message"
    if service == LAMBDA:
        url += "?" + urllib.parse.urlencode({"chatId": chat_id})
    return url


class GalileoEndpointAssistant:
    """Asks the Galileo inference endpoint; the server stores the turn itself."""

    #: The server writes the question and the answer: the caller writes neither.
    stores_turns = True

    def __init__(
        self,
        settings: AssistantSettings,
        session: Any,
        id_token: Callable[[], str | None] | None = None,
        *,
        user_id: str | None = None,
    ) -> None:
        if not settings.url:
            raise InvalidInput("The Galileo assistant needs the inference endpoint URL (--url).")
        self._settings = settings
        self._session = session
        self._id_token = id_token
        self._user_id = user_id
        override = settings.options.get("signing_service")
        if override is not None and override not in (LAMBDA, EXECUTE_API):
            raise InvalidInput(f"signing_service must be {LAMBDA!r} or {EXECUTE_API!r}, not {override!r}.")
        self.service: str = override or signing_service(settings.url)
        region = settings.region or region_of(settings.url) or getattr(session, "region_name", None)
        if not region:
            raise InvalidInput("The Galileo assistant needs the AWS region of its endpoint (--region).")
        self.region: str = region
        self.name = "Galileo inference endpoint"

    def signed_request(self, chat_id: str, question: str) -> AWSRequest:
        """The PUT request, SigV4-signed with the session's current credentials."""
        options = {k: v for k, v in self._settings.options.items() if k not in LOCAL_OPTIONS}
        body = json.dumps({"question": question, "options": options}).encode("utf-8")
        url = message_url(str(self._settings.url), chat_id, self.service)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = self._id_token() if self._id_token is not None else None
        if token:
            headers[ID_TOKEN_HEADER] = token
        else:
            log.info("no Cognito id token available; sending the question without %s", ID_TOKEN_HEADER)
        request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
        SigV4Auth(self._credentials(), self.service, self.region).add_auth(request)
        return request

    def _credentials(self) -> Any:
        try:
            credentials = self._session.get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        except BotoCoreError as exc:
            raise CredentialsError(f"The AWS credentials could not be refreshed: {exc}") from exc
        if frozen is None or not frozen.access_key:
            raise CredentialsError(
                "No AWS credentials to sign the request to the Galileo endpoint: sign in first."
            )
        return frozen

    def answer(
        self,
        chat_id: str,
        question: str,
        history: Sequence[Turn],
        on_text: TextCallback,
        cancel: threading.Event,
    ) -> Answer:
        """Send the question; ``history`` is not sent: the server reads it from the table.

        Stopping abandons the wait, but the server may still finish and store the turn;
        the next pull brings it in. The answer is then reported as stored remotely.
        """
        if cancel.is_set():
            return Answer("", stopped=True)
        request = self.signed_request(chat_id, question)
        headers = {k: v for k, v in request.headers.items()}
        collector = TextCollector(on_text)
        try:
            with send(
                "PUT", request.url, request.body, headers, cancel, what="The Galileo endpoint"
            ) as exchange:
                try:
                    raw = exchange.response.read()
                except (OSError, ValueError) as exc:
                    if cancel.is_set():
                        return Answer("", stopped=True, stored_remotely=True)
                    raise EndpointUnreachable(f"The Galileo endpoint closed the connection: {exc}") from exc
        except RequestStopped:
            return Answer("", stopped=True, stored_remotely=True)
        if cancel.is_set():
            return Answer("", stopped=True, stored_remotely=True)
        answer = parse_response(raw, chat_id, self._user_id)
        collector.add(answer.text)
        return answer


def parse_response(raw: bytes, chat_id: str, user_id: str | None) -> Answer:
    """The endpoint's ``{question, answer, sources}`` as an :class:`Answer`, tolerantly.

    ``answer`` may be a string or a message object (``text``, ``content`` or
    ``data.content``); items are rebuilt only where the response says enough to
    rebuild them exactly (message id, creation time and user).
    """
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AssistantError(f"The Galileo endpoint sent an answer that is not JSON: {excerpt(raw)}") from exc
    if not isinstance(document, dict) or "answer" not in document:
        raise AssistantError(f"The Galileo endpoint's answer has no 'answer': {excerpt(raw)}")
    raw_sources = document.get("sources") or []
    if not isinstance(raw_sources, list):
        raw_sources = []
    sources = [
        make_source(str(s.get("pageContent") or ""), _metadata(s))
        for s in raw_sources
        if isinstance(s, Mapping)
    ]
    question_item, _ = _message_item(document.get("question"), HUMAN, chat_id, user_id)
    answer_item, text = _message_item(document.get("answer"), AI, chat_id, user_id)
    items: list[TypedItem] = []
    if question_item is not None:
        items.append(question_item)
    if answer_item is not None:
        items.append(answer_item)
        answer_message = Message.from_item(answer_item)
        items.extend(_source_items(raw_sources, answer_message))
    return Answer(text, sources, stored_remotely=True, remote_items=items)


def _text_of(obj: Mapping[str, Any]) -> str:
    for value in (obj.get("text"), obj.get("content")):
        if isinstance(value, str):
            return value
    data = obj.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("content"), str):
        return str(data["content"])
    return ""


def _metadata(source: Mapping[str, Any]) -> dict[str, Any]:
    metadata = source.get("metadata")
    return dict(metadata) if isinstance(metadata, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _owner(obj: Mapping[str, Any], user_id: str | None) -> str | None:
    for value in (obj.get("userId"), obj.get("PK"), user_id):
        if isinstance(value, str) and value:
            return value
    return None


def _message_item(obj: Any, kind: str, chat_id: str, user_id: str | None) -> tuple[TypedItem | None, str]:
    """The message item the server wrote, if the object describes it fully, and its text."""
    if isinstance(obj, str):
        return None, obj
    if not isinstance(obj, Mapping):
        return None, ""
    text = _text_of(obj)
    message_id = obj.get("messageId")
    sk = obj.get("SK")
    if not message_id and isinstance(sk, str) and sk.startswith(MESSAGE_SK_PREFIX):
        message_id = sk.removeprefix(MESSAGE_SK_PREFIX)
    created = _int(obj.get("createdAt")) or _int(obj.get("GSI1SK"))
    owner = _owner(obj, user_id)
    if not (isinstance(message_id, str) and message_id and created and owner):
        return None, text
    extra = {
        k: to_typed(v)
        for k, v in obj.items()
        if k not in _MESSAGE_KNOWN and k not in _API_ONLY and v is not None
    }
    message_type = obj.get("type") if obj.get("type") in (HUMAN, AI) else kind
    message = Message(
        message_id, str(obj.get("chatId") or chat_id), owner, str(message_type), text, created, extra
    )
    return message.to_item(), text


def _source_items(raw_sources: list[Any], answer: Message) -> list[TypedItem]:
    items: list[TypedItem] = []
    for index, raw in enumerate(raw_sources):
        if not isinstance(raw, Mapping):
            continue
        extra = {k: to_typed(v) for k, v in raw.items() if k not in _SOURCE_KNOWN and v is not None}
        source = Source(
            source_id=str(raw.get("sourceId") or index),
            message_id=str(raw.get("messageId") or answer.message_id),
            chat_id=str(raw.get("chatId") or answer.chat_id),
            user_id=_owner(raw, answer.user_id) or answer.user_id,
            page_content=str(raw.get("pageContent") or ""),
            metadata=_metadata(raw),
            created_at=_int(raw.get("createdAt")) or answer.created_at,
            extra=extra,
        )
        items.append(source.to_item())
    return items
