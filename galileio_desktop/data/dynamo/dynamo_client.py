"""The boto3 DynamoDB client as a desktop app needs it; its failures in words are in :mod:`.aws_errors`.

boto3 and botocore are imported on first use: the window paints its chat list from
the mirror before it ever needs them.

Retries are botocore's (standard mode, with its own backoff and jitter); the timeouts
are short enough that a dead network shows as "offline" within seconds, not minutes.
"""

from __future__ import annotations

import logging
from typing import Any

from ... import __version__
from ..aws_sessions import new_boto3_session
from ..errors import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"


def client_config(max_pool_connections: int = 32) -> Any:
    """Retries with backoff and jitter by botocore; timeouts for an interactive app.

    botocore's own check of every parameter against the service model is off: it walks
    each value of each request (about 1.5 ms of CPU for a batch of 25 deletes, 40% of
    the client's time in a big delete). The gateway builds every request itself, item
    sizes and titles are checked before sending, and DynamoDB validates each request
    anyway: a malformed one is refused there (``ValidationException``) and parked as
    any other refusal.
    """
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=4,
        read_timeout=20,
        max_pool_connections=max_pool_connections,
        user_agent_extra=f"galileio-desktop/{__version__}",
        parameter_validation=False,
    )


def make_dynamodb_client(
    region: str | None = None,
    endpoint_url: str | None = None,
    session: Any = None,
    max_pool_connections: int = 32,
) -> Any:
    """A DynamoDB client; ``endpoint_url`` None leaves botocore's own settings in force
    (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL``, the config file)."""
    from botocore.exceptions import NoRegionError

    from .response_check import install_response_check

    session = session or new_boto3_session()
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
