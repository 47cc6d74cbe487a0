"""BatchWriteItem done right: 25 requests a call, ``UnprocessedItems`` retried with
exponential backoff and full jitter up to a bound, then reported, never dropped.

The web app sends one BatchWrite and forgets what DynamoDB did not process; here every
request either lands or comes back to the caller in a :class:`Throttled` error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from ..aws_errors import dynamo_errors
from ..errors import Throttled

log = logging.getLogger(__name__)

BATCH_LIMIT = 25
WriteRequest = dict[str, Any]


class Backoff:
    """Exponential backoff with full jitter (the AWS architecture blog's recommendation)."""

    def __init__(self, base: float = 0.05, cap: float = 2.0, attempts: int = 8) -> None:
        self.base = base
        self.cap = cap
        self.attempts = attempts

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2**attempt)))


def chunks(requests: Sequence[WriteRequest], size: int = BATCH_LIMIT) -> list[list[WriteRequest]]:
    return [list(requests[i : i + size]) for i in range(0, len(requests), size)]


def write_batch(
    client: Any,
    table: str,
    batch: list[WriteRequest],
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Write at most 25 requests, retrying what DynamoDB leaves unprocessed."""
    backoff = backoff or Backoff()
    pending = batch
    for attempt in range(backoff.attempts):
        with dynamo_errors("Writing items"):
            response = client.batch_write_item(RequestItems={table: pending})
        pending = response.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return
        log.info("%d of %d items unprocessed; retry %d", len(pending), len(batch), attempt + 1)
        sleep(backoff.delay(attempt))
    raise Throttled(
        f"DynamoDB left {len(pending)} of {len(batch)} items unwritten after "
        f"{backoff.attempts} attempts; nothing was dropped, try again shortly."
    )


def write_all(
    client: Any,
    table: str,
    requests: Sequence[WriteRequest],
    executor: Executor | None = None,
    on_batch: Callable[[int], None] | None = None,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Write every request in batches of 25, concurrently when an executor is given.

    Every batch is attempted even when one fails; the first failure is raised after all
    have finished, so the caller knows the whole write must be retried (it is idempotent).
    """
    batches = chunks(requests)
    if not batches:
        return
    if executor is None or len(batches) == 1:
        for batch in batches:
            write_batch(client, table, batch, backoff, sleep)
            if on_batch:
                on_batch(len(batch))
        return
    futures = [executor.submit(write_batch, client, table, batch, backoff, sleep) for batch in batches]
    first_error: BaseException | None = None
    for future, batch in zip(futures, batches, strict=False):
        try:
            future.result()
        except BaseException as exc:  # noqa: BLE001 - collected, re-raised below
            first_error = first_error or exc
            continue
        if on_batch:
            on_batch(len(batch))
    if first_error is not None:
        raise first_error


def put_request(item: dict[str, Any]) -> WriteRequest:
    return {"PutRequest": {"Item": item}}


def delete_request(key: dict[str, Any]) -> WriteRequest:
    return {"DeleteRequest": {"Key": key}}
