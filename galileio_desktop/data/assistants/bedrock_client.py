"""What both Bedrock backends share: the boto3 client and stoppable streams.

Clients come from the account's session with plain ``session.client(...)``, so
botocore's own endpoint settings (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``,
``AWS_ENDPOINT_URL``, the config file) stay in force unless the account names an
endpoint. They are created on first use, in the thread that answers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from ... import __version__
from ..aws_errors import Service, translate
from ..errors import EndpointUnreachable, InvalidInput
from .http_transport import CancelWatcher
from .settings import AssistantSettings

log = logging.getLogger(__name__)


def client_config() -> Config:
    """Long reads (a model may pause between tokens), few retries: a person is waiting."""
    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=120,
        user_agent_extra=f"galileio-desktop/{__version__}",
    )


def make_client(session: Any, service: str, settings: AssistantSettings) -> Any:
    """A ``bedrock-runtime`` or ``bedrock-agent-runtime`` client from the account's session."""
    region = settings.region or getattr(session, "region_name", None)
    try:
        return session.client(
            service, region_name=region, endpoint_url=settings.url or None, config=client_config()
        )
    except NoRegionError as exc:
        raise InvalidInput(
            "Amazon Bedrock needs an AWS region: set the account's region (--region)."
        ) from exc


def _socket_of(stream: Any) -> socket.socket | None:
    """The socket under a botocore event stream, where the HTTP stack lets us see it.

    Closing the stream alone does not wake a read blocked in another thread; shutting
    its socket down does. Private attributes of urllib3 and http.client, looked up
    defensively: without them Stop still works, at the next event.
    """
    raw = getattr(stream, "_raw_stream", None)
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    buffered = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(buffered, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _abort(stream: Any) -> None:
    sock = _socket_of(stream)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    stream.close()


def iter_stream(stream: Any, cancel: threading.Event, what: str) -> Iterator[dict[str, Any]]:
    """The events of a Bedrock event stream until its end or until ``cancel`` is set.

    The stream is closed as soon as ``cancel`` is set (unblocking a read waiting for
    the next event, so Stop takes effect at once even when the model is slow) and
    always at the end. Errors inside the stream become :class:`GalileioError` types;
    the ones caused by our own closing after a cancel end the iteration quietly.
    """
    watcher = CancelWatcher(cancel, lambda: _abort(stream))
    try:
        with watcher:
            try:
                for event in stream:
                    if cancel.is_set():
                        return
                    yield event
            except ClientError as exc:  # an exception event inside the stream
                if cancel.is_set():
                    return
                raise translate(exc, what, Service.BEDROCK) from exc
            except BotoCoreError as exc:
                if cancel.is_set():
                    return
                raise translate(exc, what, Service.BEDROCK) from exc
            except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:
                if cancel.is_set():  # our own abort after Stop closed the stream under the read
                    return
                raise EndpointUnreachable(f"{what}: the answer stream broke off ({exc}).") from exc
    finally:
        with contextlib.suppress(Exception):
            stream.close()
