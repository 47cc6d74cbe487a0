"""One SigV4-signed request to the deployment's API, stoppable, with a checked answer.

Retries (the one loop, documented): connection failures, 429 and 502/503/504 are tried
again up to ``MAX_ATTEMPTS`` times with exponential backoff and full jitter (50 ms
base, 2 s cap), each wait on the caller's :class:`~..dynamo.cancellation.CancelToken`,
so a deadline or Quit ends it at once; a request in flight is stopped by shutting its
socket down. A 500 is the handler's own failure (``{"errorMessage"}``): not retried.
A request that is not idempotent (``PUT /chat`` makes a new chat each time) is tried
again only when it provably never left (no connection) or was throttled (429): a lost
answer is left to the caller, which looks before it sends again.

An answer counts as the API's only when it looks like one: a request id header, a JSON
content type, a JSON object, and a CRC32 that matches when one is given. A captive
portal's 200 page is "not reachable".
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import zlib
from dataclasses import dataclass
from typing import Any

from ..assistants.http_transport import CancelWatcher, Endpoint, _Aborter, _connection, _proxy_for, _reason
from ..dynamo.cancellation import CancelToken
from ..errors import EndpointUnreachable, NotDynamoDB

MAX_ATTEMPTS = 4
BASE_DELAY_S = 0.05
CAP_DELAY_S = 2.0
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
#: Statuses that say the request was refused before any handler ran.
REFUSED_UNHANDLED = frozenset({429})
_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-apigw-id", "x-amzn-request-id")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    document: Any


class NotTheApi(NotDynamoDB):
    """Something answered, but not as the deployment's API does (a captive portal's page,
    a proxy's block page, a truncated body): nothing is concluded from it."""


def delay_s(attempt: int, rand: Any = random.random) -> float:
    return float(min(CAP_DELAY_S, BASE_DELAY_S * (2**attempt)) * rand())


@dataclass
class Attempt:
    """What one :func:`exchange` got to: ``sent`` once the request may have left."""

    sent: bool = False


def exchange(
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    token: CancelToken,
    what: str,
    attempt: Attempt | None = None,
) -> Reply:
    """Send once; the reply whatever its status, its body parsed (checked by :func:`parse`)."""
    attempt = attempt if attempt is not None else Attempt()
    token.check()
    endpoint = Endpoint.parse(url)
    conn = _connection(endpoint, CONNECT_TIMEOUT_S)
    aborter = _Aborter(conn)
    stop = threading.Event()
    token.on_cancel(stop.set)
    target = url if (_proxy_for(endpoint) is not None and endpoint.scheme == "http") else endpoint.target
    try:
        with CancelWatcher(stop, aborter):
            try:
                conn.connect()
                aborter.sock = conn.sock
                if conn.sock is not None:
                    conn.sock.settimeout(READ_TIMEOUT_S)
                attempt.sent = True
                conn.request(method, target, body=body or None, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException) as exc:
                token.check()
                raise EndpointUnreachable(
                    f"{what}: the API at {endpoint.netloc} did not answer: {_reason(exc)}."
                ) from exc
            token.check()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, reply_headers, parse(raw, reply_headers, response.status, what))
    finally:
        conn.close()


def parse(raw: bytes, headers: dict[str, str], status: int, what: str) -> Any:
    """The JSON object of an answer, or :class:`NotTheApi` when it is not the API's."""
    if not any(headers.get(h) for h in _REQUEST_ID_HEADERS):
        raise NotTheApi(
            f"{what}: the answer (HTTP {status}) did not come from the deployment's API; nothing was concluded from it."
        )
    crc = headers.get("x-amz-crc32")
    if crc is not None and (not crc.isdigit() or int(crc) != zlib.crc32(raw)):
        raise NotTheApi(
            f"{what}: the answer (HTTP {status}) was damaged on the way; nothing was concluded from it."
        )
    if "json" not in headers.get("content-type", ""):
        raise NotTheApi(f"{what}: the answer (HTTP {status}) is not JSON; nothing was concluded from it.")
    try:
        document = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotTheApi(
            f"{what}: the answer (HTTP {status}) is not complete JSON; nothing was concluded from it."
        ) from exc
    if not isinstance(document, dict):
        raise NotTheApi(
            f"{what}: the answer (HTTP {status}) is not a JSON object; nothing was concluded from it."
        )
    return document
