"""What a Galileo website says about its deployment: ``/runtime-config.json``.

The web app reads this file at start to configure its sign-in (``region``,
``userPoolId``, ``userPoolWebClientId``, ``identityPoolId``) and its calls
(``apiUrl``, ``inferenceBufferedFunctionUrl``); other keys (``flags``,
``dataSovereigntyRisk``, model lists) are the web app's own and ignored here.
So a user needs only the website's address, a user name and a password.

The answer is hostile input until it checks out: whatever answered may be a Wi-Fi
sign-in page (200 with HTML), a proxy, or a file with wrong types. Each value is
checked for its type, length and shape; anything else is one clear sentence.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..assistants.base import AssistantError
from ..assistants.http_transport import RequestStopped, send
from ..errors import CredentialsError, EndpointUnreachable, InvalidInput
from .accounts import Account, default_transport
from .web_address import secure_url, website_root

CONFIG_FILE = "runtime-config.json"
#: A runtime config is well under 1 KB; anything far larger is not one.
MAX_CONFIG_BYTES = 64 * 1024
_MAX_VALUE_CHARS = 256
#: The whole look-up, whatever the server does (silent, a byte a second).
FETCH_DEADLINE_S = 15.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
USER_POOL_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}_[0-9A-Za-z]+$")
CLIENT_ID_PATTERN = re.compile(r"^[\w+]{1,128}$")
IDENTITY_POOL_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}:[0-9a-f-]{1,64}$")

#: (key in the file, what to call it, its pattern) for the values sign-in needs.
_REQUIRED = (
    ("region", "region", REGION_PATTERN),
    ("userPoolId", "user pool id", USER_POOL_PATTERN),
    ("userPoolWebClientId", "app client id", CLIENT_ID_PATTERN),
    ("identityPoolId", "identity pool id", IDENTITY_POOL_PATTERN),
)
_ADDRESSES = (
    ("apiUrl", "the API address"),
    ("inferenceBufferedFunctionUrl", "the inference address"),
)


@dataclass(frozen=True)
class RuntimeConfig:
    """The checked values of a website's ``runtime-config.json``."""

    website: str
    region: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    api_url: str | None = None
    inference_url: str | None = None

    def account(
        self,
        name: str,
        username: str,
        *,
        table: str | None = None,
        index: str | None = None,
        transport: str | None = None,
        endpoint_url: str | None = None,
    ) -> Account:
        """A Cognito account on this deployment; its assistant is the deployment's own, when it has one.

        Without a table, the chats are reached through the API (``transport`` says otherwise).
        """
        assistant = {"backend": "galileo", "url": self.inference_url} if self.inference_url else {}
        return Account(
            name=name,
            auth="cognito",
            region=self.region,
            table=table or "",
            index=index or "GSI1",
            endpoint_url=endpoint_url,
            user_pool_id=self.user_pool_id,
            client_id=self.client_id,
            identity_pool_id=self.identity_pool_id,
            username=username,
            assistant=assistant,
            website=self.website,
            api_url=self.api_url,
            transport=transport or default_transport(self.website, table),
        ).validate()

    def describe(self) -> str:
        """What was found, in a few words for the user (nothing secret is in a runtime config)."""
        parts = [f"region {self.region}", f"user pool {self.user_pool_id}"]
        parts.append("the chat API" if self.api_url else "no chat API")
        parts.append("an assistant" if self.inference_url else "no assistant")
        return f"Found Galileo at {self.website}: " + ", ".join(parts) + "."


def fetch_runtime_config(
    address: str, *, deadline_s: float = FETCH_DEADLINE_S, cancel: threading.Event | None = None
) -> RuntimeConfig:
    """Fetch and check ``{website}/runtime-config.json``.

    :class:`InvalidInput` for an address that is not one, or a site without Galileo's
    settings; :class:`EndpointUnreachable` when it cannot be reached within
    ``deadline_s``, or something else answers (a redirect, a web page). Redirects are
    not followed: Galileo serves the file where the web app itself reads it.
    """
    website = website_root(address)
    stop = cancel or threading.Event()
    timer = threading.Timer(deadline_s, stop.set)
    timer.daemon = True
    timer.start()
    try:
        body, content_type = _get(website, stop, deadline_s)
    except RequestStopped:
        raise EndpointUnreachable(f"{website} did not answer within {deadline_s:g} seconds.") from None
    finally:
        timer.cancel()
    return parse_runtime_config(body, website, content_type)


def _get(website: str, stop: threading.Event, deadline_s: float) -> tuple[bytes, str]:
    started = time.monotonic()
    try:
        with send(
            "GET",
            website + CONFIG_FILE,
            None,
            {"Accept": "application/json"},
            stop,
            what=website,
            connect_timeout=deadline_s,
            read_timeout=deadline_s,
        ) as exchange:
            response = exchange.response
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > MAX_CONFIG_BYTES:
                raise InvalidInput(
                    f"{website} answered with {int(length):,} bytes: too large for Galileo's settings."
                )
            chunks: list[bytes] = []
            size, broken = 0, False
            try:
                while size <= MAX_CONFIG_BYTES:
                    chunk = response.read1(8192)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            except (OSError, http.client.HTTPException):
                broken = True
            if exchange.cancelled or stop.is_set():
                raise RequestStopped
            if size <= MAX_CONFIG_BYTES and (broken or response.length not in (None, 0)):
                raise EndpointUnreachable(f"{website} stopped answering in the middle of its settings.")
            return b"".join(chunks), response.getheader("Content-Type") or ""
    except AssistantError as exc:
        raise _status_error(website, exc.status) from None
    except CredentialsError as exc:  # 401 and 403: a private bucket answers 403 for a missing file
        raise InvalidInput(
            f"{website} has no {CONFIG_FILE} open to read (HTTP 403): is it the Galileo website's address?"
        ) from exc
    except EndpointUnreachable:
        if stop.is_set() or time.monotonic() - started >= deadline_s:
            raise RequestStopped from None
        raise


def _status_error(website: str, status: int | None) -> Exception:
    if status in _REDIRECTS:
        return EndpointUnreachable(
            f"{website} sent the app elsewhere (HTTP {status}): a Wi-Fi sign-in page, "
            "or not the Galileo website's address?"
        )
    if status in (404, 410):
        return InvalidInput(
            f"{website} has no {CONFIG_FILE} (HTTP {status}): is it the Galileo website's address?"
        )
    return EndpointUnreachable(f"{website} answered HTTP {status}; try again later.")


def parse_runtime_config(body: bytes, website: str, content_type: str = "") -> RuntimeConfig:
    """Check what the website answered; :class:`EndpointUnreachable` when it is not Galileo's
    settings at all (a web page), :class:`InvalidInput` when they are incomplete or wrong."""
    if len(body) > MAX_CONFIG_BYTES:
        raise InvalidInput(f"{website} answered with {len(body):,} bytes: too large for Galileo's settings.")
    text = body.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<") or "html" in content_type.lower():
        raise EndpointUnreachable(
            f"{website} answered with a web page instead of Galileo's settings "
            "(a Wi-Fi sign-in page, or not a Galileo website?)."
        )
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidInput(f"{website} has no Galileo settings: {CONFIG_FILE} is not JSON.") from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{website} has no Galileo settings: {CONFIG_FILE} is not a JSON object.")
    return config_from_values(data, website)


def config_from_values(data: Mapping[str, Any], website: str) -> RuntimeConfig:
    """The checked values; :class:`InvalidInput` naming the first that is missing or wrong."""
    values: dict[str, str] = {}
    missing = [what for key, what, _ in _REQUIRED if data.get(key) in (None, "")]
    if missing:
        raise InvalidInput(
            f"{website}'s {CONFIG_FILE} lacks the {', '.join(missing)}: is it a Galileo website?"
        )
    for key, what, pattern in _REQUIRED:
        values[key] = _text(data[key], key, what, website)
        if not pattern.match(values[key]):
            raise InvalidInput(f"{website}'s {CONFIG_FILE} is not valid: {key} ({what}) is {values[key]!r}.")
    addresses: dict[str, str | None] = {}
    for key, what in _ADDRESSES:
        value = data.get(key)
        if value in (None, ""):
            addresses[key] = None
            continue
        text = _text(value, key, what, website, limit=2048)
        try:
            addresses[key] = secure_url(text, what)
        except InvalidInput as exc:
            raise InvalidInput(f"{website}'s {CONFIG_FILE}: {exc.message}") from None
    return RuntimeConfig(
        website=website,
        region=values["region"],
        user_pool_id=values["userPoolId"],
        client_id=values["userPoolWebClientId"],
        identity_pool_id=values["identityPoolId"],
        api_url=addresses["apiUrl"],
        inference_url=addresses["inferenceBufferedFunctionUrl"],
    )


def _text(value: Any, key: str, what: str, website: str, limit: int = _MAX_VALUE_CHARS) -> str:
    if not isinstance(value, str):
        kind = {"int": "a number", "float": "a number", "bool": "true/false", "list": "a list"}
        raise InvalidInput(
            f"{website}'s {CONFIG_FILE} is not valid: {key} ({what}) is "
            f"{kind.get(type(value).__name__, 'an object')}, not text."
        )
    if len(value) > limit or value != value.strip() or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise InvalidInput(f"{website}'s {CONFIG_FILE} is not valid: {key} ({what}) is not a plain value.")
    return value
