"""The benchmark's API scenarios run end to end on tiny data: the API transport's request
counts beside DynamoDB's, and what reading an opened chat again costs on each.

Counts here hold at any size (they follow from the routes and the page sizes), so they
are asserted exactly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from bench import scenarios_api  # noqa: E402
from bench.endpoint import Endpoint  # noqa: E402
from bench.sizes import QUICK  # noqa: E402

pytestmark = pytest.mark.integration

TINY = replace(
    QUICK,
    name="tiny",
    delete_messages=6,
    delete_sources=2,
    open_messages=12,
    open_sources_per_answer=1,
    sync_chats=8,
    sync_opened=2,
    first_sync_items=120,
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    with Endpoint(delay_ms=1, server="moto", moto_mode="thread") as running:
        yield running


def test_api_request_counts_beside_dynamodb(endpoint: Endpoint, tmp_path: Path) -> None:
    results = {r.scenario.split(",")[0]: r for r in scenarios_api.request_counts(endpoint, TINY, tmp_path)}
    assert all(r.met for r in results.values()), [(r.scenario, r.ours, r.target) for r in results.values()]
    sync = results["API: sync"]
    assert (sync.ours, sync.baseline) == (1 + TINY.sync_opened, 1 + TINY.sync_opened)
    assert sync.details["api_by_route"] == {"GET /chat": 1, "GET /chat/{id}": TINY.sync_opened}
    opened = results[f"API: open chat of {TINY.open_messages} msgs"]
    assert (opened.ours, opened.baseline) == (1, 1)  # one page each
    deleted = next(r for r in results.values() if r.scenario.startswith("API: delete"))
    assert deleted.details["api_by_route"] == {"DELETE /chat/{id}": 1}
    assert deleted.baseline is not None and deleted.baseline > 1
    first = next(r for r in results.values() if r.scenario.startswith("API: first sync"))
    assert first.ours is not None and first.baseline is not None and first.ours > first.baseline


def test_revalidation_costs_a_page_per_open(endpoint: Endpoint, tmp_path: Path) -> None:
    rows = scenarios_api.revalidate(endpoint, TINY, tmp_path)
    assert [(r.scenario.rsplit(", ", 1)[1], r.ours) for r in rows] == [
        ("DynamoDB", 1),  # one page of the chat
        ("DynamoDB", 1 + 2),  # + the deleted one's consistent read, + the new answer's sources
        ("API", 1),
        ("API", 1 + 1),  # + the new answer's sources
    ]
    assert all(r.met for r in rows)
