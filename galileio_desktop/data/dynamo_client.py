"""The boto3 DynamoDB client as a desktop app needs it, and botocore errors in words.

boto3 and botocore are imported on first use: the window paints its chat list from
the mirror before it ever needs them.

Retries are botocore's (standard mode, with its own backoff and jitter); the timeouts
are short enough that a dead network shows as "offline" within seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from .. import __version__
from .errors import (
    CredentialsError,
    EndpointUnreachable,
    GalileioError,
    InvalidInput,
    NotFound,
    RemoteRejected,
    Throttled,
)

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"

_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "TooManyRequestsException",
    }
)
_UNAVAILABLE = frozenset({"InternalServerError", "ServiceUnavailable", "InternalFailure"})
_CREDENTIALS = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "NotAuthorizedException",
    }
)


def client_config(max_pool_connections: int = 32) -> Any:
    """Retries with backoff and jitter by botocore; timeouts for an interactive app."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=4,
        read_timeout=20,
        max_pool_connections=max_pool_connections,
        user_agent_extra=f"galileio-desktop/{__version__}",
    )


def make_dynamodb_client(
    region: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    max_pool_connections: int = 32,
) -> Any:
    """A DynamoDB client; ``endpoint_url`` None leaves botocore's own settings in force
    (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL``, the config file)."""
    import boto3
    from botocore.exceptions import NoRegionError

    from .response_check import install_response_check

    session = session or boto3.Session()
    region = region or session.region_name or DEFAULT_REGION
    try:
        client = session.client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=client_config(max_pool_connections),
        )
    except NoRegionError as exc:  # pragma: no cover - region always given above
        raise InvalidInput("No AWS region is set: pass --region.") from exc
    install_response_check(client)
    return client


def translate(exc: BaseException, what: str) -> GalileioError:
    """A botocore failure as the expected error a person can act on."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, GalileioError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or code
        if code in _THROTTLED:
            return Throttled(f"{what}: DynamoDB is throttling requests; try again shortly.")
        if code in _UNAVAILABLE:
            err = Throttled(f"{what}: DynamoDB is temporarily unavailable ({code}).")
            return err
        if code in _CREDENTIALS:
            return CredentialsError(f"{what}: access denied or credentials expired ({code}: {message}).")
        if code == "ResourceNotFoundException":
            return NotFound(
                f"{what}: the table does not exist here ({message}). "
                "Create it with 'galileio-desktop table create' or check --table and --region."
            )
        if code == "ConditionalCheckFailedException":
            return NotFound(f"{what}: the item does not exist (any more).")
        if code == "ValidationException" and "size" in message.lower():
            return RemoteRejected(f"{what}: DynamoDB refused the item as too large ({message}).")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or code.isdigit():
            # Not an answer about this request: a server or something in between failed.
            return EndpointUnreachable(f"{what}: DynamoDB could not answer right now ({code}: {message}).")
        return RemoteRejected(f"{what}: DynamoDB refused the request ({code}: {message}).")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(
            f"{what}: no AWS credentials found. Sign in, or set AWS_PROFILE or AWS_ACCESS_KEY_ID."
        )
    if isinstance(
        exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
    ):
        return EndpointUnreachable(f"{what}: cannot reach DynamoDB ({exc}). You appear to be offline.")
    if isinstance(exc, BotoCoreError):
        text = str(exc)
        if "token" in text.lower() and ("expired" in text.lower() or "sso" in text.lower()):
            return CredentialsError(f"{what}: {text}")
        return EndpointUnreachable(f"{what}: {text}")
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return EndpointUnreachable(f"{what}: cannot reach DynamoDB ({exc}).")
    raise exc


@contextlib.contextmanager
def dynamo_errors(what: str) -> Iterator[None]:
    """Turn botocore failures inside the block into :class:`GalileioError` types."""
    try:
        yield
    except GalileioError:
        raise
    except Exception as exc:
        if not _is_network_or_aws_error(exc):
            raise
        raise translate(exc, what) from exc


def _is_network_or_aws_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (ClientError, BotoCoreError, ConnectionError, TimeoutError))


def error_code(exc: BaseException) -> str:
    """The DynamoDB error code of a ClientError, or ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
