"""The deployment's REST API as the way to the chats, beside DynamoDB on the same data.

- ``api``: the request counts of the request-count scenarios (sync with nothing changed,
  first sync, opening a chat not cached, deleting a chat) through the API, beside the
  same work straight on the table, each against the bound the API's routes allow.
- ``revalidate``: what reading an opened chat again costs (the window does it once the
  chat is shown, and after each sync while it stays open): requests per open on each
  transport, with nothing changed and after the web app deleted and added messages.

The API is the stand-in of :mod:`galileio_desktop.demo_api` (the web app's routes and
shapes, SigV4 checked) in this process, over the benchmark's DynamoDB server, counted
by route. DynamoDB's counts come from the latency proxy, as in the other scenarios.
Only request counts are compared: the stand-in answers without the proxy's delay.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import datasets as ds
from bench.endpoint import ACCESS_KEY, REGION, SECRET_KEY, Endpoint
from bench.report import Result
from bench.scenarios_remote import MB, Measured, library, load_table, measure
from bench.sizes import Sizes
from galileio_desktop.data.api import gateway as api_gateway
from galileio_desktop.data.aws_sessions import new_boto3_session
from galileio_desktop.data.schema import Message, TypedItem, make_sources, new_id
from galileio_desktop.data.sync.library import ChatLibrary
from galileio_desktop.demo_api import ApiStandIn, FixedUser, SigningKey, start_stand_in

#: The API reads every chat's messages and every answer's sources one request each: these
#: sizes at most (both transports on the same data) keep the scenarios to a minute.
API_FIRST_SYNC_ITEMS = 2_000
API_SYNC_CHATS = 100
API_REVALIDATE_MESSAGES = 500


class Counted:
    """What one call through the API cost: its value and the requests by route."""

    def __init__(self, value: Any, by_route: dict[str, int]) -> None:
        self.value = value
        self.by_route = by_route

    @property
    def requests(self) -> int:
        return sum(self.by_route.values())

    def routes(self) -> str:
        return ", ".join(f"{n} {route}" for route, n in sorted(self.by_route.items()))


class Api:
    """The stand-in over one table of the benchmark's server."""

    def __init__(self, endpoint: Endpoint, table: str) -> None:
        keys = {ACCESS_KEY: SigningKey(SECRET_KEY)}
        self.stand_in: ApiStandIn = start_stand_in(
            endpoint.client(direct=True), table, REGION, keys, FixedUser(ds.USER)
        )
        self.session = new_boto3_session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )

    def library(self, workdir: Path, name: str) -> ChatLibrary:
        def gateway() -> api_gateway.ApiGateway:
            return api_gateway.ApiGateway(self.stand_in.url, REGION, self.session, ds.USER)

        return ChatLibrary(workdir / f"{name}.sqlite3", ds.USER, gateway)

    def measure(self, call: Callable[[], Any]) -> Counted:
        before = dict(self.stand_in.requests)
        value = call()
        after = dict(self.stand_in.requests)
        return Counted(value, {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)})


@contextmanager
def stand_in(endpoint: Endpoint, table: str) -> Iterator[Api]:
    api = Api(endpoint, table)
    try:
        yield api
    finally:
        api.stand_in.stop()


@contextmanager
def opened(lib: ChatLibrary) -> Iterator[ChatLibrary]:
    try:
        yield lib
    finally:
        lib.close()


def _row(
    scenario: str,
    measure_name: str,
    api: Counted,
    dynamo: Measured,
    bound: int,
    bound_text: str,
    details: dict[str, Any] | None = None,
) -> Result:
    return Result(
        scenario,
        measure_name,
        api.requests,
        dynamo.requests,
        "requests",
        api.requests / max(1, bound),
        "x of bound",
        bound_text,
        api.requests <= bound,
        baseline_label="DynamoDB",
        details={"api_by_route": api.by_route, "dynamodb": dynamo.details(), **(details or {})},
        note=f"API: {api.routes()}. DynamoDB, same data: {dynamo.ops()}.",
    )


def _answers(chats: list[ds.ChatData]) -> int:
    return sum(1 for c in chats for m in c.messages if m["type"]["S"] == "ai")


def _pages(count: int) -> int:
    """Requests to list ``count`` messages through the API (a last, empty page when the
    count divides evenly)."""
    return count // api_gateway.PAGE_SIZE + 1


# -- api: the request-count scenarios --------------------------------------------------------


def request_counts(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    return [
        _sync_unchanged(endpoint, sizes, workdir),
        _first_sync(endpoint, sizes, workdir),
        _open_not_cached(endpoint, sizes, workdir),
        _delete_chat(endpoint, sizes, workdir),
    ]


def _sync_unchanged(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> Result:
    table = "bench-api-sync"
    count = min(sizes.sync_chats, API_SYNC_CHATS)
    chats = ds.make_chats(13, count, 4, sources_per_answer=2)
    load_table(endpoint, table, chats)
    recent = [c.chat_id for c in chats[: sizes.sync_opened]]
    with opened(library(endpoint, workdir, "api-sync-ddb", table)) as lib:
        lib.sync()
        for chat_id in recent:
            lib.open_chat(chat_id)
        dynamo = measure(endpoint, lib.sync)
    with stand_in(endpoint, table) as api, opened(api.library(workdir, "api-sync-api")) as lib:
        lib.sync()
        for chat_id in recent:
            lib.open_chat(chat_id)
        counted = api.measure(lib.sync)
    bound = 1 + sizes.sync_opened
    return _row(
        f"API: sync, nothing changed, {count} chats",
        f"requests ({sizes.sync_opened} chats opened in last 7 days)",
        counted,
        dynamo,
        bound,
        f"<= 1 + {sizes.sync_opened} = {bound} (as DynamoDB)",
    )


def _first_sync(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> Result:
    table = "bench-api-first-sync"
    chats = ds.partition_of_size(14, min(sizes.first_sync_items, API_FIRST_SYNC_ITEMS))
    _, items = load_table(endpoint, table, chats)
    with opened(library(endpoint, workdir, "api-first-ddb", table)) as lib:
        dynamo = measure(endpoint, lib.sync)
    with stand_in(endpoint, table) as api, opened(api.library(workdir, "api-first-api")) as lib:
        counted = api.measure(lib.sync)
    pages = sum(_pages(c.message_count) for c in chats)
    bound = 1 + pages + _answers(chats)
    return _row(
        f"API: first sync of {items:,} items",
        f"requests ({len(chats)} chats, {_answers(chats)} answers)",
        counted,
        dynamo,
        bound,
        "<= 1 + message pages + 1 per answer (no partition query)",
        {"items": items, "bytes_1mb_pages": math.ceil(ds.total_bytes(ds.all_items(chats)) / MB)},
    )


def _open_not_cached(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> Result:
    table = "bench-api-open"
    chat = ds.make_chat(
        random.Random(12), sizes.open_messages, sources_per_answer=sizes.open_sources_per_answer
    )
    load_table(endpoint, table, [chat])
    with opened(library(endpoint, workdir, "api-open-ddb", table)) as lib:
        lib.store_remote_items([chat.chat.to_item()])  # listed by an earlier sync, never opened
        dynamo = measure(endpoint, lambda: lib.open_chat(chat.chat_id))
    with stand_in(endpoint, table) as api, opened(api.library(workdir, "api-open-api")) as lib:
        lib.store_remote_items([chat.chat.to_item()])
        counted = api.measure(lambda: lib.open_chat(chat.chat_id))
    bound = _pages(sizes.open_messages)
    return _row(
        f"API: open chat of {sizes.open_messages} msgs, not cached",
        "requests (messages; sources follow)",
        counted,
        dynamo,
        bound,
        f"<= {bound} pages of {api_gateway.PAGE_SIZE}",
    )


def _delete_chat(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> Result:
    shape = {"sources_per_answer": sizes.delete_sources, "sources_on_every_message": True}
    found: dict[str, Any] = {}
    for side in ("ddb", "api"):
        table = f"bench-api-delete-{side}"
        chat = ds.make_chat(random.Random(11), sizes.delete_messages, **shape)  # type: ignore[arg-type]
        load_table(endpoint, table, [chat])
        found[side] = (table, chat)
    table, chat = found["ddb"]
    with opened(library(endpoint, workdir, "api-delete-ddb", table)) as lib:
        lib.pull(reconcile=True)
        lib.delete_chat(chat.chat_id)
        dynamo = measure(endpoint, lambda: lib.push(retry_now=True))
    table, chat = found["api"]
    with stand_in(endpoint, table) as api, opened(api.library(workdir, "api-delete-api")) as lib:
        lib.pull(reconcile=True)
        lib.delete_chat(chat.chat_id)
        counted = api.measure(lambda: lib.push(retry_now=True))
    return _row(
        f"API: delete chat {sizes.delete_messages} msgs x {sizes.delete_sources} sources",
        "requests",
        counted,
        dynamo,
        1,
        "1 (the server deletes messages and sources)",
    )


# -- revalidate: an opened chat read again ---------------------------------------------------


def revalidate(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    """DynamoDB on a chat of ``open_messages`` (its 1 MB pages), the API on a chat of at
    most :data:`API_REVALIDATE_MESSAGES` (settling it first reads every answer's sources)."""
    shape = {"sources_per_answer": sizes.open_sources_per_answer}
    table = "bench-revalidate"
    chat = ds.make_chat(random.Random(15), sizes.open_messages, **shape)  # type: ignore[arg-type]
    direct, _ = load_table(endpoint, table, [chat])
    rows: list[Result] = []
    with opened(library(endpoint, workdir, "revalidate-ddb", table)) as lib:
        lib.store_remote_items([chat.chat.to_item()])
        first = measure(endpoint, lambda: lib.open_chat(chat.chat_id))
        lib.fetch_sources(chat.chat_id)
        pages = first.stats.by_detail.get("Query(GSI1)", first.requests)
        same = measure(endpoint, lambda: lib.revalidate_chat(chat.chat_id))
        rows.append(_revalidate_row("DynamoDB", chat, NOTHING, same.requests, pages, same.ops(), same.wall))
        _web_changes(direct, table, chat)
        moved = measure(endpoint, lambda: lib.revalidate_chat(chat.chat_id))
        # + a consistent read of the deleted message, + the new answer's sources
        bound, ok = pages + 2, moved.value.removed >= 1 and moved.value.changed >= 2
        rows.append(
            _revalidate_row("DynamoDB", chat, CHANGED, moved.requests, bound, moved.ops(), moved.wall, ok)
        )

    table = "bench-revalidate-api"
    count = min(sizes.open_messages, API_REVALIDATE_MESSAGES)
    chat = ds.make_chat(random.Random(16), count, **shape)  # type: ignore[arg-type]
    direct, _ = load_table(endpoint, table, [chat])
    with stand_in(endpoint, table) as api, opened(api.library(workdir, "revalidate-api")) as lib:
        lib.store_remote_items([chat.chat.to_item()])
        lib.open_chat(chat.chat_id)
        lib.fetch_sources(chat.chat_id)
        same_api = api.measure(lambda: lib.revalidate_chat(chat.chat_id))
        rows.append(
            _revalidate_row("API", chat, NOTHING, same_api.requests, _pages(count), same_api.routes())
        )
        _web_changes(direct, table, chat)
        moved_api = api.measure(lambda: lib.revalidate_chat(chat.chat_id))
        # one message more to list, + the new answer's sources
        bound, ok = _pages(count + 1) + 1, moved_api.value.removed >= 1 and moved_api.value.changed >= 2
        rows.append(
            _revalidate_row("API", chat, CHANGED, moved_api.requests, bound, moved_api.routes(), None, ok)
        )
    return rows


NOTHING = "nothing changed"
CHANGED = "1 message deleted, 2 added"


def _revalidate_row(
    transport: str,
    chat: ds.ChatData,
    case: str,
    requests: int,
    bound: int,
    ops: str,
    wall: float | None = None,
    ok: bool = True,
) -> Result:
    timing = f" in {wall:.2f} s" if wall is not None else ""
    unit = "1 MB pages" if transport == "DynamoDB" else f"pages of {api_gateway.PAGE_SIZE}"
    return Result(
        f"revalidate an opened chat of {chat.message_count} msgs, {transport}",
        f"requests per open ({case})",
        requests,
        bound,
        "requests",
        requests / max(1, bound),
        "x of bound",
        f"<= {bound} ({unit}, as opening it)",
        ok and requests <= bound,
        baseline_label="bound",
        note=f"{ops}{timing}. Sent after the chat is shown from the mirror: nothing before the first paint.",
    )


def _web_changes(direct: Any, table: str, chat: ds.ChatData) -> list[TypedItem]:
    """The web app, while the chat is open: its last answer deleted, an exchange added;
    returns the items added."""
    gone = chat.messages[-1]
    direct.delete_item(TableName=table, Key={"PK": gone["PK"], "SK": gone["SK"]})
    at = int(gone["createdAt"]["N"]) + 10_000
    question = Message(new_id(), chat.chat_id, ds.USER, "human", "added by the web app", at)
    answer = Message(new_id(), chat.chat_id, ds.USER, "ai", "its answer", at + 1)
    sources = make_sources(ds.USER, chat.chat_id, answer.message_id, [{"pageContent": "cited"}], at + 1)
    added = [question.to_item(), answer.to_item(), *(s.to_item() for s in sources)]
    for item in added:
        direct.put_item(TableName=table, Item=item)
    return added
