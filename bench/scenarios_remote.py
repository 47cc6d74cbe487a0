"""The network scenarios: ours (the app's library and gateway) beside the web app's algorithm,
on the same data, through the same latency proxy, in the same run.

Every scenario has its own table: moto answers a query by looking at every item of the
table, so unrelated data would slow both sides by the same amount and blur the ratios.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench import baselines
from bench import datasets as ds
from bench.endpoint import Endpoint
from bench.latency_proxy import ProxyStats
from bench.report import Result, speedup
from bench.sizes import Sizes
from galileio_desktop.data.dynamo.batch_writer import BATCH_LIMIT
from galileio_desktop.data.dynamo.gateway import DEFAULT_NETWORK_THREADS, ChatGateway
from galileio_desktop.data.schema import Message, make_sources
from galileio_desktop.data.sync.library import ChatLibrary
from galileio_desktop.data.sync.puller import NEWEST_PAGE

log = logging.getLogger(__name__)

T = TypeVar("T")
MB = 1024 * 1024
#: Runs of opening the chat (each on a new mirror); the median is reported.
OPEN_RUNS = 5


class Measured:
    """The value, wall time and proxy counts of one measured call."""

    def __init__(self, value: Any, wall: float, cpu: float, stats: ProxyStats) -> None:
        self.value = value
        self.wall = wall
        self.cpu = cpu
        self.stats = stats

    @property
    def requests(self) -> int:
        return self.stats.requests

    def ops(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in sorted(self.stats.by_detail.items()))

    def details(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 4),
            "client_cpu_s": round(self.cpu, 3),
            "requests": self.stats.requests,
            "by_operation": dict(self.stats.by_detail),
            "server_s_by_operation": {k: round(v, 3) for k, v in self.stats.upstream_by_detail.items()},
        }


def measure(endpoint: Endpoint, call: Callable[[], T]) -> Measured:
    endpoint.reset()
    cpu = time.process_time()
    started = time.perf_counter()
    value = call()
    wall = time.perf_counter() - started
    return Measured(value, wall, time.process_time() - cpu, endpoint.stats())


def library(endpoint: Endpoint, workdir: Path, name: str, table: str) -> ChatLibrary:
    """The app's library on a new mirror, talking to the table through the proxy."""

    def gateway() -> ChatGateway:
        return ChatGateway(endpoint.client(), table, ds.USER)

    return ChatLibrary(workdir / f"{name}.sqlite3", ds.USER, gateway)


def remaining(direct: Any, table: str, chat_id: str) -> int:
    """Items of a chat still in the table (chat, messages, sources), read without the proxy."""
    count = 0
    params: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "chatId = :c",
        "ExpressionAttributeValues": {":c": {"S": chat_id}},
        "Select": "COUNT",
    }
    while True:
        page = direct.scan(**params)
        count += int(page.get("Count", 0))
        if "LastEvaluatedKey" not in page:
            return count
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def warm(client: Any, table: str) -> None:
    """One request first, so connection set-up is not part of a baseline's time."""
    client.describe_table(TableName=table)


def load_table(endpoint: Endpoint, table: str, chats: list[ds.ChatData]) -> tuple[Any, int]:
    direct = endpoint.client(direct=True)
    ds.create_table(direct, table)
    return direct, ds.load_remote(direct, table, ds.all_items(chats))


# -- delete a chat ---------------------------------------------------------------------------


def _delete_with_library(
    endpoint: Endpoint, workdir: Path, name: str, table: str, chat_id: str
) -> tuple[Measured, float]:
    """``ChatLibrary.delete_chat`` then ``push``, on a library that made its first sync;
    with the CPU time of the first part (hiding the chat in the mirror, before any request)."""
    lib = library(endpoint, workdir, name, table)
    hide_cpu = [0.0]
    try:
        lib.pull(reconcile=True)

        def ours() -> Any:
            started = time.process_time()
            lib.delete_chat(chat_id)
            hide_cpu[0] = time.process_time() - started
            return lib.push(retry_now=True)

        return measure(endpoint, ours), hide_cpu[0]
    finally:
        lib.close()


def delete_bound_s(rtt_s: float, query_pages: int, sources: int, messages: int) -> tuple[float, str]:
    """The network bound of the app's delete, and how it is made up.

    Each message goes once its own sources are gone (a message is what a retry finds its
    sources by), the chat item once everything under it is; the sources the mirror knows
    go beside the listing of the messages (here it knows them all: a reconcile read
    them). The listing, the source deletes and the message deletes share the pool: n
    requests on c connections take at least ceil(n / c) round trips, and at least two
    when there are sources (a message after its sources); the chat item is one more.
    """
    pool = DEFAULT_NETWORK_THREADS
    source_batches = math.ceil(sources / BATCH_LIMIT)
    message_batches = math.ceil(messages / BATCH_LIMIT)
    shared = query_pages + source_batches + message_batches
    rounds = max(math.ceil(shared / pool), query_pages, 2 if source_batches else 1)
    trips = rounds + 1
    how = (
        f"{rounds} (message list, source and message deletes on one pool: {query_pages} + "
        f"{source_batches} + {message_batches} req) + 1 (chat delete: 1 req)"
    )
    return trips * rtt_s, f"{how} = {trips} round trips of {rtt_s * 1000:g} ms on a pool of {pool}"


def delete_chat(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    rng = random.Random(11)
    shape = {"sources_per_answer": sizes.delete_sources, "sources_on_every_message": True}
    ours_chat = ds.make_chat(rng, sizes.delete_messages, **shape)  # type: ignore[arg-type]
    web_chat = ds.make_chat(rng, sizes.delete_messages, **shape)  # type: ignore[arg-type]
    floor_chat = ds.make_chat(rng, sizes.delete_messages, **shape)  # type: ignore[arg-type]
    direct, items = load_table(endpoint, "bench-delete-ours", [ours_chat])
    load_table(endpoint, "bench-delete-web", [web_chat])
    load_table(endpoint, "bench-delete-floor", [floor_chat])

    mine, _ = _delete_with_library(endpoint, workdir, "delete", "bench-delete-ours", ours_chat.chat_id)
    # The same delete with no delay added: what the client, the proxy and the stand-in
    # server cost on this machine, a floor the network bound does not count.
    delay_ms = endpoint.delay_ms
    endpoint.set_delay(0.0)
    try:
        floor, floor_hide_cpu = _delete_with_library(
            endpoint, workdir, "delete-floor", "bench-delete-floor", floor_chat.chat_id
        )
    finally:
        endpoint.set_delay(delay_ms)
    client = endpoint.client()
    warm(client, "bench-delete-web")
    web = measure(
        endpoint, lambda: baselines.delete_chat(client, "bench-delete-web", ds.USER, web_chat.chat_id)
    )
    left_ours = remaining(direct, "bench-delete-ours", ours_chat.chat_id)
    left_web = remaining(direct, "bench-delete-web", web_chat.chat_id)
    left_floor = remaining(direct, "bench-delete-floor", floor_chat.chat_id)
    ratio = speedup(web.wall, mine.wall)
    bound, bound_how = delete_bound_s(
        endpoint.delay_ms / 1000.0,
        mine.stats.by_detail.get("Query(GSI1)", 1),
        len(ours_chat.sources),
        len(ours_chat.messages),
    )
    of_bound = mine.wall / bound
    note = (
        f"Requests: ours {mine.ops()}; baseline {web.ops()}. Ours overlaps them (pool of 16) and "
        f"spent {mine.cpu:.2f} s of CPU in the client process ({mine.cpu / max(1, mine.requests) * 1000:.1f} ms "
        f"a request: botocore signing and parsing, mirror work) in {mine.wall:.2f} s of wall time; the "
        f"server answered the same requests one after another in {web.stats.upstream_seconds:.2f} s for the "
        f"baseline. Items left: ours {left_ours}, baseline {left_web}."
    )
    stand_in_s = web.stats.upstream_by_detail.get("BatchWriteItem", 0.0)
    per_request_ms = (floor.cpu - floor_hide_cpu) / max(1, floor.requests) * 1000
    bound_note = (
        f"Network bound: {bound_how} = {bound:.3f} s; ours took {mine.wall:.3f} s ({of_bound:.1f}x), "
        f"{mine.ops()}. The same delete with no delay added took {floor.wall:.3f} s, "
        f"{floor.wall / bound:.1f}x the bound before any round trip ({floor.ops()}, items left "
        f"{left_floor}): that floor is this machine's work, which the bound does not count (DynamoDB "
        f"serves requests side by side). The stand-in server deletes one request at a time: the "
        f"baseline's {web.stats.by_operation.get('BatchWriteItem', 0)} batch deletes, sent one after "
        f"another, took it {stand_in_s:.2f} s of its own time ({stand_in_s / bound:.1f}x the bound "
        f"alone). The client spent {floor.cpu:.2f} s of CPU: {floor_hide_cpu * 1000:.0f} ms hiding "
        f"the chat and its messages in the mirror before the first request (a flag: their "
        f"full-text entries, and their sources', are kept until the delete is sent), then "
        f"{per_request_ms:.1f} ms a request for the rest (botocore's signing, serialising and "
        f"parsing, the partition guard; the mirror removing the chat's full-text entries beside "
        f"the first requests and forgetting its {items:,} rows beside the last ones). Server, "
        f"client and proxy share this machine's {os.cpu_count()} CPUs, so the "
        f"2x target can be met only where that floor is well under 2x the bound. Earlier "
        f"releases hid every row with its full-text entry before the first request (33 ms of "
        f"CPU; 0.33 s, 2.8x the bound), and before that deleted in phases (every source, then "
        f"every message, each phase waiting for the one before; a bound of 7 round trips, "
        f"0.140 s) after hiding every row of the "
        f"chat: 0.36 s (2.6x that bound), and before that 0.59 s (4.2x), client CPU 0.25 s "
        f"(3.4 ms a request: botocore checking every parameter against the service model, "
        f"signing, and the pool starting its threads behind the first requests)."
    )
    scenario = f"delete chat {sizes.delete_messages} msgs x {sizes.delete_sources} sources"
    return [
        Result(
            note=note,
            scenario=scenario,
            measure=f"wall time, {endpoint.delay_ms:g} ms RTT",
            ours=mine.wall,
            baseline=web.wall,
            unit="s",
            ratio=ratio,
            ratio_label="x faster",
            target=">= 10x faster; every item gone",
            met=ratio >= 10 and left_ours == 0 and left_web == 0,
            details={
                "items": items,
                "ours": {**mine.details(), "items_left": left_ours, "push_error": mine.value.error},
                "baseline": {**web.details(), "items_left": left_web},
            },
        ),
        Result(
            note=bound_note,
            scenario=scenario,
            measure=f"wall time vs its network bound, {endpoint.delay_ms:g} ms RTT",
            ours=mine.wall,
            baseline=bound,
            unit="s",
            ratio=of_bound,
            ratio_label="x of bound",
            target="<= 2x the network bound",
            met=of_bound <= 2 and left_ours == 0,
            baseline_label="network bound",
            details={
                "bound_s": round(bound, 4),
                "bound": bound_how,
                "ours": mine.details(),
                "no_delay": {
                    **floor.details(),
                    "items_left": left_floor,
                    "hide_cpu_s": round(floor_hide_cpu, 4),
                },
                "stand_in_serial_s": round(stand_in_s, 3),
                "before": {"wall_s": 0.591, "of_bound": 4.2, "client_cpu_s": 0.254},
            },
        ),
    ]


# -- open a chat -----------------------------------------------------------------------------


def open_chat(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    rng = random.Random(12)
    chat = ds.make_chat(rng, sizes.open_messages, sources_per_answer=sizes.open_sources_per_answer)
    table = "bench-open"
    direct, items = load_table(endpoint, table, [chat])
    # The stand-in server answers its first big query slowly (dynalite's JIT warming up):
    # read the chat once directly (no delay, not counted), so neither side pays for that.
    baselines.open_chat(direct, table, ds.USER, chat.chat_id)

    runs: list[Measured] = []
    for run in range(OPEN_RUNS):  # each on a new mirror; the median run is reported
        lib = library(endpoint, workdir, f"open-{run}", table)
        try:
            lib.store_remote_items([chat.chat.to_item()])  # listed by an earlier sync, never opened
            # The library that made that sync has its DynamoDB client already (as the
            # baseline's client is warmed below): a push with nothing queued builds it and
            # sends nothing.
            lib.push()

            def ours(lib: ChatLibrary = lib) -> dict[str, float]:
                started = time.perf_counter()
                shown: dict[str, float] = {}

                def first_page() -> None:  # what the window does: show the newest page
                    if lib.list_messages(chat.chat_id, limit=50):
                        shown["first_page_s"] = time.perf_counter() - started

                lib.open_chat(chat.chat_id, on_first_page=first_page)
                rows = len(lib.list_messages(chat.chat_id, limit=50))
                whole = time.perf_counter() - started
                return {"first_page_s": shown.get("first_page_s", whole), "whole_s": whole, "rows": rows}

            runs.append(measure(endpoint, ours))
            stored = lib.count_messages(chat.chat_id)
            if run == OPEN_RUNS - 1:
                # What the window does next, while the first page is shown: the sources.
                sources = measure(endpoint, lambda lib=lib: lib.fetch_sources(chat.chat_id))
        finally:
            lib.close()
    mine = sorted(runs, key=lambda m: m.value["first_page_s"])[len(runs) // 2]
    first_page = mine.value["first_page_s"]
    first_pages = ", ".join(f"{m.value['first_page_s']:.3f}" for m in runs)
    # The same chat again, after a restart of the app: a new library on the same mirror.
    lib = library(endpoint, workdir, f"open-{OPEN_RUNS - 1}", table)
    try:

        def cached() -> int:
            lib.open_chat(chat.chat_id)
            return len(lib.list_messages(chat.chat_id, limit=50))

        again = measure(endpoint, cached)
    finally:
        lib.close()

    client = endpoint.client()
    warm(client, table)
    web = measure(endpoint, lambda: baselines.open_chat(client, table, ds.USER, chat.chat_id))
    fewer = speedup(web.requests, mine.requests)
    faster = speedup(web.wall, first_page)
    whole_faster = speedup(web.wall, mine.wall)
    name = f"open chat of {sizes.open_messages} msgs, not cached"
    gsi = mine.stats.by_detail.get("Query(GSI1)", 0)
    note = (
        f"Ours reads {mine.ops()}: the newest {NEWEST_PAGE} messages, then {gsi - 1} page(s) of up to 1 MB, "
        f"newest first; the newest page is shown (`list_messages(limit=50)`, as the window does) once it is stored, after "
        f"{first_page:.3f} s, and the whole chat is in after {mine.wall:.3f} s ({whole_faster:.0f}x "
        f"faster than the baseline). The baseline reads {web.requests} pages of 10, oldest first, "
        f"and shows the chat once it has them all. After the first page is shown, "
        f"`fetch_sources` brought the answers' sources ({sources.value} items) in {sources.ops()} on the "
        f"gateway's pool of 16 in {sources.wall:.2f} s (client CPU {sources.cpu:.2f} s). Time at the "
        f"server before the first page (summed over overlapping requests): ours "
        f"{mine.stats.upstream_seconds:.2f} s, baseline {web.stats.upstream_seconds:.2f} s; client CPU "
        f"ours {mine.cpu:.2f} s. Ours is the median of {OPEN_RUNS} runs, each on a new mirror "
        f"(newest page shown after {first_pages} s)."
    )
    common = {
        "items": items,
        "messages_stored": stored,
        "ours": mine.details(),
        "ours_runs_s": [round(m.wall, 4) for m in runs],
        "ours_first_page_runs_s": [round(m.value["first_page_s"], 4) for m in runs],
        "sources_after_first_page": {**sources.details(), "items": sources.value},
        "baseline": {**web.details(), "messages": len(web.value[0])},
    }
    rtt_s = endpoint.delay_ms / 1000.0
    trips = first_page / rtt_s
    trips_runs = ", ".join(f"{m.value['first_page_s'] / rtt_s:.1f}" for m in runs)
    trips_note = (
        f"Round trips of {endpoint.delay_ms:g} ms until the newest page is shown: {first_page:.3f} s = "
        f"{trips:.1f} round trips (median of {OPEN_RUNS} runs on new mirrors: {trips_runs}). The bound is "
        f"one: the chat is not on disk, so its newest messages take one request. Ours asks for the "
        f"newest {NEWEST_PAGE} messages first (a page of a few kilobytes), stores and shows them, and "
        f"reads the rest in pages of up to 1 MB meanwhile ({mine.ops()} in all). Before this work: the "
        f"newest 1 MB page was read, parsed and stored before anything was shown: 0.123 s = 6.2 round "
        f"trips, in 2 requests."
    )
    return [
        Result(
            name,
            f"round trips to the newest page shown, {endpoint.delay_ms:g} ms RTT",
            round(trips, 2),
            1,
            "RTT",
            trips,
            "x of bound",
            "<= 3 round trips",
            trips <= 3 and stored == sizes.open_messages,
            baseline_label="1 request",
            details={**common, "first_page_s": round(first_page, 4), "round_trips": round(trips, 2)},
            note=trips_note,
        ),
        Result(
            name,
            "requests",
            mine.requests,
            web.requests,
            "requests",
            fewer,
            "x fewer",
            ">= 50x fewer",
            fewer >= 50 and stored == sizes.open_messages,
            baseline_label="pages of 10",
            details=common,
            note=note,
        ),
        Result(
            name,
            f"wall time to the newest page shown, {endpoint.delay_ms:g} ms RTT",
            first_page,
            web.wall,
            "s",
            faster,
            "x faster",
            ">= 20x faster",
            faster >= 20 and stored == sizes.open_messages,
            baseline_label="pages of 10",
            details=common,
            note=note,
        ),
        Result(
            "open the same chat, cached (after restart)",
            "requests before first page",
            again.requests,
            web.requests,
            "requests",
            None,
            "",
            "0",
            again.requests == 0 and again.value > 0,
            baseline_label="web app refetches",
            details={"ours": again.details(), "first_page_rows": again.value},
            note=f"Ours: {again.requests} requests, first page of {again.value} rows in {again.wall * 1000:.1f} ms.",
        ),
    ]


# -- sync when nothing changed -----------------------------------------------------------------


def sync_unchanged(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    table = "bench-sync"
    chats = ds.make_chats(13, sizes.sync_chats, 4, sources_per_answer=2)
    _, items = load_table(endpoint, table, chats)
    lib = library(endpoint, workdir, "sync", table)
    try:
        lib.sync()  # the first sync (a reconcile), not measured
        for chat in chats[: sizes.sync_opened]:
            lib.open_chat(chat.chat_id)  # opened lately: kept fresh by every sync
        mine = measure(endpoint, lib.sync)
    finally:
        lib.close()
    bound = 1 + sizes.sync_opened
    return [
        Result(
            f"sync, nothing changed, {sizes.sync_chats} chats",
            f"requests ({sizes.sync_opened} chats opened in last 7 days)",
            mine.requests,
            bound,
            "requests",
            mine.requests / bound,
            "x of bound",
            f"<= 1 + {sizes.sync_opened} = {bound}",
            mine.requests <= bound,
            baseline_label="bound",
            details={"items": items, "ours": mine.details()},
            note=f"Ours: {mine.ops()} in {mine.wall:.2f} s.",
        )
    ]


# -- first sync -------------------------------------------------------------------------------


def first_sync(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    table = "bench-first-sync"
    chats = ds.partition_of_size(14, sizes.first_sync_items)
    all_items = list(ds.all_items(chats))
    size = ds.total_bytes(all_items)
    minimum = math.ceil(size / MB)
    _, items = load_table(endpoint, table, chats)

    def first(name: str) -> tuple[Measured, Any, int]:
        lib = library(endpoint, workdir, name, table)
        try:
            done = measure(endpoint, lib.sync)
            return done, lib.status(), sum(1 for _ in lib.list_chats())  # any read: the mirror is usable
        finally:
            lib.close()

    mine, stored, cached = first("first-sync")
    # The same first sync into another new mirror with no delay added: the local work
    # floor (pages parsed and written, the stand-in building them, the proxy), measured.
    delay_ms = endpoint.delay_ms
    endpoint.set_delay(0.0)
    try:
        floor, _, floor_cached = first("first-sync-floor")
    finally:
        endpoint.set_delay(delay_ms)
    rtt_s = delay_ms / 1000.0
    ratio = mine.requests / minimum
    sequential = mine.requests * rtt_s + floor.wall
    of_sequential = mine.wall / sequential
    ok = cached == len(chats) and floor_cached == len(chats)
    common = {
        "items": items,
        "bytes": size,
        "bytes_per_request": round(size / max(1, mine.requests)),
        "chats_listed_after": cached,
        "pending_after": stored.pending,
        "ours": mine.details(),
        "no_delay": floor.details(),
        "sequential_bound_s": round(sequential, 3),
        "note": "1 MB = 1,048,576 bytes by DynamoDB's item size rules; the server ends a "
        "page by its own size count (dynalite: 1 MB of its estimate; moto: 1,000,000 bytes)",
    }
    requests_note = (
        f"Ours: {mine.ops()} for {size / MB:.2f} MB in {mine.wall:.2f} s (client CPU {mine.cpu:.2f} s: "
        f"parsing the pages and writing {items:,} items to the mirror). The minimum counts the items by "
        f"DynamoDB's size rules; the stand-in ends its pages by its own, smaller, estimate, so it "
        f"packs a little more a page and ours can come out under 1.0x here (on DynamoDB the same "
        f"partition is at least {minimum} pages). Before this work: 35 requests, 0.95x (target then "
        f"<= 1.2x)."
    )
    wall_note = (
        f"Sequential network bound = requests x RTT + the local work floor = {mine.requests} x "
        f"{delay_ms:g} ms + {floor.wall:.2f} s = {sequential:.2f} s. The floor is the same first sync "
        f"into another new mirror with no delay added, measured in this run: everything but the "
        f"network's delay (the pages parsed and written to the mirror, client CPU {floor.cpu:.2f} s; "
        f"the stand-in building its pages; the proxy). Ours with the delay took {mine.wall:.2f} s = "
        f"{of_sequential:.2f}x that bound. This target checks that the delay adds no more than one "
        f"round trip a request (pages are read one after another: reading the next one while this "
        f"one is written hid nothing measurable, the round trips being a tenth of the whole, and "
        f"lengthened the window's stalls); the local work itself is in the floor, and its CPU is "
        f"reported here. Before this work: 5.31 s against a bound of 5.63 s, 0.94x, in 35 requests."
    )
    return [
        Result(
            f"first sync of {items:,} items",
            f"requests ({size / 1e6:.1f} MB of items)",
            mine.requests,
            minimum,
            "requests",
            ratio,
            "x of minimum",
            "<= 1.05x ceil(bytes / 1 MB)",
            ratio <= 1.05 and ok,
            baseline_label="ceil(bytes/1 MB)",
            note=requests_note,
            details=common,
        ),
        Result(
            f"first sync of {items:,} items",
            f"wall time vs the sequential network bound, {delay_ms:g} ms RTT",
            mine.wall,
            sequential,
            "s",
            of_sequential,
            "x of bound",
            "<= 1.5x requests x RTT + local floor",
            of_sequential <= 1.5 and ok,
            baseline_label="sequential bound",
            note=wall_note,
            details=common,
        ),
    ]


# -- answer with sources ----------------------------------------------------------------------


def answer(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> list[Result]:
    """Measured on moto's server: the app writes an answer with its sources in one
    TransactWriteItems, which dynalite does not implement (it answers
    UnknownOperationException and the app falls back to batches, measured for the record)."""
    if endpoint.server == "moto":
        return _answer(endpoint, sizes, workdir, fallback=None)
    fallback = _answer_without_transactions(endpoint, sizes, workdir)
    with Endpoint(endpoint.delay_ms, "moto", "process") as moto:
        return _answer(moto, sizes, workdir, fallback=fallback)


def _answer_without_transactions(endpoint: Endpoint, sizes: Sizes, workdir: Path) -> Measured:
    table = "bench-answer-no-tx"
    ds.create_table(endpoint.client(direct=True), table)
    drafts = [{"pageContent": f"passage {i}", "metadata": {}} for i in range(sizes.answer_sources)]
    lib = library(endpoint, workdir, "answer-no-tx", table)
    try:
        chat = lib.create_chat("Answer benchmark")
        lib.push(retry_now=True)

        def ours() -> Any:
            lib.add_message(chat.chat_id, "ai", "answer", drafts)
            return lib.push(retry_now=True)

        return measure(endpoint, ours)
    finally:
        lib.close()


def _answer(endpoint: Endpoint, sizes: Sizes, workdir: Path, fallback: Measured | None) -> list[Result]:
    table = "bench-answer"
    direct = endpoint.client(direct=True)
    ds.create_table(direct, table)
    rng = random.Random(15)
    drafts = [
        {"pageContent": ds.WORDS.text(rng, 60, 110), "metadata": {"source_location": f"s3://docs/d{i}.pdf"}}
        for i in range(sizes.answer_sources)
    ]
    text = ds.WORDS.text(rng, 80, 160)
    lib = library(endpoint, workdir, "answer", table)
    try:
        chat = lib.create_chat("Answer benchmark")
        lib.push(retry_now=True)

        def ours() -> Any:
            message = lib.add_message(chat.chat_id, "ai", text, drafts)
            lib.push(retry_now=True)
            return message

        mine = measure(endpoint, ours)
    finally:
        lib.close()
    message = mine.value
    stored = direct.get_item(
        TableName=table, Key={"PK": {"S": ds.USER}, "SK": {"S": f"MESSAGE#{message.message_id}"}}
    )
    sources_stored = direct.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": ds.USER}, ":p": {"S": f"SOURCE#{message.message_id}#"}},
        Select="COUNT",
    )["Count"]

    # The web app's single BatchWrite, then what it would take to store the answer at all.
    web_chat = ds.make_chat(rng, 0)
    direct.put_item(TableName=table, Item=web_chat.chat.to_item())
    web_message = Message(ds.seeded_id(rng), web_chat.chat_id, ds.USER, "ai", text, ds.EPOCH_MS)
    web_sources = [
        s.to_item()
        for s in make_sources(ds.USER, web_chat.chat_id, web_message.message_id, drafts, ds.EPOCH_MS)
    ]
    client = endpoint.client()
    warm(client, table)
    single_error = ""
    try:
        baselines.answer_single_batch(client, table, web_message.to_item(), web_sources)
    except Exception as exc:  # noqa: BLE001 - the expected refusal, recorded
        error = getattr(exc, "response", {}).get("Error", {})
        message = str(error.get("Message", exc))
        single_error = f"refused ({error.get('Code', type(exc).__name__)}"
        single_error += ": more than 25 items)" if "25" in message else f": {message[:80]})"
    web = measure(
        endpoint, lambda: baselines.answer_what_it_takes(client, table, web_message.to_item(), web_sources)
    )
    rtt_s = endpoint.delay_ms / 1000.0
    ok = "Item" in stored and sources_stored == sizes.answer_sources
    name = f"answer with {sizes.answer_sources} sources"
    note = (
        f"Ours: {mine.ops()} (stored: {ok}), {mine.wall * 1000:.0f} ms = {mine.wall / rtt_s:.1f} RTT, of which "
        f"{mine.cpu * 1000:.0f} ms CPU in the client (the mirror's transactions and codec). The web app's "
        f"single BatchWrite of {sizes.answer_sources + 1} items: {single_error or 'accepted by this server, which DynamoDB would refuse over 25 items'}; "
        f"split into calls of 25 it takes {web.ops()} in {web.wall * 1000:.0f} ms. Measured on moto's server: "
        "the message, its sources and the chat's existence check go in one TransactWriteItems."
    )
    if fallback is not None:
        note += (
            f" On dynalite (no transactions) the same push took {fallback.ops()} (the refused transaction "
            "is remembered for the connection)."
        )
    details = {
        "server": endpoint.description,
        "without_transactions": fallback.details() if fallback is not None else None,
        "ours": {**mine.details(), "stored": ok},
        "baseline": {
            **web.details(),
            "single_batchwrite": single_error or "accepted",
            "choice": "the web app's single BatchWrite is refused over 25 items; the baseline is "
            "that BatchWrite split into calls of 25, one after another",
        },
    }
    return [
        Result(
            name,
            "requests",
            mine.requests,
            web.requests,
            "requests",
            None,
            "",
            "<= 3",
            mine.requests <= 3 and ok,
            baseline_label="1 refused + split" if single_error else "split BatchWrite",
            details=details,
            note=note,
        ),
        Result(
            name,
            f"wall time, {endpoint.delay_ms:g} ms RTT",
            mine.wall,
            web.wall,
            "s",
            mine.wall / rtt_s,
            "x RTT",
            "(reported: wall vs 1 RTT)",
            True,
            baseline_label="split BatchWrite",
            details=details,
            note=note,
        ),
    ]


SCENARIOS: list[tuple[str, Callable[[Endpoint, Sizes, Path], list[Result]]]] = [
    ("delete", delete_chat),
    ("open", open_chat),
    ("sync", sync_unchanged),
    ("first-sync", first_sync),
    ("answer", answer),
]
