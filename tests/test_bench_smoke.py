"""The benchmark's own parts work: the latency proxy forwards, delays and counts, and the
scenario code of ``bench/run.py`` runs end to end on tiny data.

These are smoke tests of the measuring tools, not of the numbers: the sizes are far
too small for the ratios to mean anything, so only facts that hold at any size are
asserted (requests counted by operation, items gone, a cached chat opened without a
request, a sync within its request bound, the report files readable).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from bench import datasets as ds  # noqa: E402
from bench import report, rich_chat, scenarios_local, scenarios_remote, scroll_scenario  # noqa: E402
from bench.endpoint import Endpoint  # noqa: E402
from bench.latency_proxy import LatencyProxy, ProxyControl, detail_of, operation_of  # noqa: E402
from bench.sizes import QUICK, Sizes  # noqa: E402

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
    answer_sources=30,
    cached_chats=15,
    cached_messages=150,
    big_chat_messages=40,
    search_repeats=1,
    stall_messages=20,
    stall_delete_items=11,
    gui_runs=1,
    scroll_messages=70,
)


def _client(url: str) -> Any:
    import boto3

    from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return make_dynamodb_client("us-east-1", url, session)


def test_operation_labels() -> None:
    assert operation_of("DynamoDB_20120810.Query") == "Query"
    assert operation_of(None) == "other"
    assert detail_of("Query", b'{"IndexName": "GSI1"}') == "Query(GSI1)"
    assert detail_of("Query", b'{"TableName": "t"}') == "Query(table)"
    assert detail_of("PutItem", b"{}") == "PutItem"


def test_proxy_forwards_delays_and_counts_over_one_connection(moto_endpoint: str) -> None:
    ds.create_table(_client(moto_endpoint), "bench-proxy")
    with LatencyProxy(moto_endpoint, delay_ms=40) as proxy:
        client = _client(proxy.url)
        control = ProxyControl(proxy.url)
        control.reset()
        client.put_item(TableName="bench-proxy", Item={"PK": {"S": "u"}, "SK": {"S": "CHAT#1"}})
        started = time.perf_counter()
        found = client.get_item(TableName="bench-proxy", Key={"PK": {"S": "u"}, "SK": {"S": "CHAT#1"}})
        one_request = time.perf_counter() - started
        for _ in range(3):
            client.query(
                TableName="bench-proxy",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": "u"}},
            )
        stats = control.stats()
    assert found["Item"]["SK"]["S"] == "CHAT#1"  # forwarded, answer intact
    assert one_request >= 0.040  # the delay was added
    assert stats.requests == 5
    assert dict(stats.by_operation) == {"PutItem": 1, "GetItem": 1, "Query": 3}
    assert stats.by_detail["Query(table)"] == 3
    assert stats.connections == 1  # keep-alive: botocore reused its pooled connection
    assert stats.errors == 0 and stats.response_bytes > 0


def test_proxy_delay_can_be_changed_and_upstream_errors_are_reported() -> None:
    with LatencyProxy("http://127.0.0.1:9", delay_ms=0) as proxy:  # nothing listens on port 9
        control = ProxyControl(proxy.url)
        control.set_delay(5)
        client = _client(proxy.url)
        with pytest.raises(Exception):  # noqa: B017 - botocore's error type for a 502 varies
            client.describe_table(TableName="missing")
        stats = control.stats()
    assert stats.requests >= 1 and stats.errors == stats.requests


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    """moto and the proxy in threads of the test process (fast to start), 1 ms added."""
    with Endpoint(delay_ms=1, server="moto", moto_mode="thread") as running:
        yield running


def test_remote_scenarios_run_on_tiny_data(endpoint: Endpoint, tmp_path: Path) -> None:
    results = []
    for _name, scenario in scenarios_remote.SCENARIOS:
        results.extend(scenario(endpoint, TINY, tmp_path))
    by_key = {(r.scenario, r.measure): r for r in results}
    assert len(by_key) == len(results) == 11

    delete = next(r for r in results if r.scenario.startswith("delete"))
    assert delete.details["ours"]["items_left"] == 0
    assert delete.details["baseline"]["items_left"] == 0
    # The baseline queries each message's sources: 1 message query + one per message.
    assert delete.details["baseline"]["by_operation"]["Query(table)"] == TINY.delete_messages
    bound = next(r for r in results if r.scenario.startswith("delete") and "network bound" in r.measure)
    # The message page, the source batch (12 sources) and the message batch share the pool:
    # 2 round trips (a message after its sources), then the chat.
    assert bound.baseline == pytest.approx(3 * endpoint.delay_ms / 1000)
    assert bound.details["no_delay"]["items_left"] == 0 and endpoint.delay_ms == 1  # delay restored

    opened = next(r for r in results if r.scenario.startswith("open chat") and r.measure == "requests")
    assert opened.details["messages_stored"] == TINY.open_messages
    assert opened.baseline == 2  # pages of 10: 10 + 2 messages
    cached = next(r for r in results if r.scenario.startswith("open the same chat"))
    assert cached.ours == 0 and cached.met

    sync = next(r for r in results if r.scenario.startswith("sync"))
    assert sync.ours is not None and sync.ours <= 1 + TINY.sync_opened

    first = next(r for r in results if r.scenario.startswith("first sync"))
    assert first.details["chats_listed_after"] > 0 and first.ours is not None and first.ours >= 1
    sequential = next(r for r in results if r.scenario.startswith("first sync") and "bound" in r.measure)
    floor = sequential.details["no_delay"]
    assert sequential.baseline == pytest.approx(floor["requests"] * 0.001 + floor["wall_s"], abs=1e-3)
    trips = next(r for r in results if r.measure.startswith("round trips to the newest page"))
    assert trips.baseline == 1 and trips.ours is not None and trips.ours > 0

    answer = next(r for r in results if r.scenario.startswith("answer") and r.measure == "requests")
    assert answer.details["ours"]["stored"] is True
    assert answer.details["baseline"]["by_operation"] == {"BatchWriteItem": 2}  # 31 items: 25 + 6

    text = report.text_table(results)
    assert text.splitlines()[0].split() == report.HEADERS


def test_search_scenario_and_reports(tmp_path: Path) -> None:
    mirror = scenarios_local.build_cached_mirror(TINY, tmp_path)
    assert (mirror.chats, mirror.messages) == (TINY.cached_chats, TINY.cached_messages)
    results = scenarios_local.search(mirror, TINY)
    assert [r.measure for r in results] == ["median", "p95"]
    queries = results[0].details["queries"]
    assert len(queries) == len(scenarios_local.search_queries())
    assert all(r.ours is not None and r.baseline is not None and r.ratio is not None for r in results)

    out = tmp_path / "results.json"
    report.write_json(out, {"mode": "tiny"}, results)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["mode"] == "tiny"
    assert {"ours", "baseline", "ratio", "target", "met"} <= set(data["results"][0])
    assert "| scenario |" in report.markdown_table(results)


@pytest.mark.gui
def test_window_probes_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenarios_local, "PROBE_TIMEOUT_S", 120)
    sizes: Sizes = replace(TINY, cached_chats=5, cached_messages=30, big_chat_messages=10)
    mirror = scenarios_local.build_cached_mirror(sizes, tmp_path)
    started, raised = scenarios_local.start_up(mirror, sizes, tmp_path)
    assert started.ours is not None and started.baseline is not None and started.ours > 0
    assert started.details["ours_milestones"][0]["chats_listed"] == sizes.cached_chats
    # The floor (a chat list with no app code) ran on the same mirror and painted its rows.
    floor_runs = started.details["floor_runs_s"]
    assert len(floor_runs) == len(started.details["bare_runs_s"]) and min(floor_runs) > 0
    assert "floor" in raised.target and raised.ratio == started.ratio
    memory = scenarios_local.memory(mirror, sizes, tmp_path)[0]
    assert memory.details["ours"][0]["rows_in_pane"] == sizes.big_chat_messages
    # Read once the whole chat list is in, not only the chat shown.
    assert memory.details["ours"][0]["chats_listed_at_end"] == sizes.cached_chats
    assert memory.baseline is not None and memory.baseline > 10  # a Qt process takes more than 10 MB


def test_start_up_probes_are_modules_read_from_byte_code() -> None:
    """The start-up's three sides pay alike for being measured: each process imports its
    probe as a module (Python reads its cached byte code, no script compiled from source),
    and the bare window's and the floor's probes bring nothing heavy in before Qt."""
    report_code = (
        "import importlib.util, json, sys\n"
        "before = set(sys.modules)\n"
        "import {0}\n"
        "spec = importlib.util.find_spec('{0}')\n"
        "print(json.dumps([sorted(set(sys.modules) - before), spec.cached, spec.origin]))\n"
    )
    added: dict[str, set[str]] = {}
    for module in (scenarios_local.BARE_MODULE, scenarios_local.FLOOR_MODULE, scenarios_local.APP_MODULE):
        done = subprocess.run(
            [sys.executable, "-c", report_code.format(module)],
            cwd=scenarios_local.BENCH_DIR,
            env=scenarios_local.probe_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        modules, cached, origin = json.loads(done.stdout)
        assert cached and Path(cached).stat().st_mtime >= Path(origin).stat().st_mtime, module
        assert Path(origin).parent == scenarios_local.BENCH_DIR
        assert f"import sys, {module}; " in scenarios_local.MODULE_ENTRY.format(module)
        added[module] = set(modules)
    for module in (scenarios_local.BARE_MODULE, scenarios_local.FLOOR_MODULE):
        heavy = {m for m in added[module] if m.split(".")[0] in ("argparse", "galileio_desktop", "PySide6")}
        assert not heavy, (module, heavy)
    assert "probe_output" in added[scenarios_local.BARE_MODULE]
    assert not any(m.startswith("galileio_desktop") for m in added[scenarios_local.APP_MODULE])


@pytest.mark.gui
def test_stall_probe_runs(endpoint: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenarios_local, "PROBE_TIMEOUT_S", 120)
    first, delete = scenarios_local.stalls(endpoint, TINY, tmp_path)
    probe = first.details["probe"]
    assert probe["first_sync_ok"] is True and probe["delete_pushed"] >= 1
    assert first.details["doomed_items_left"] == 0
    assert first.ours is not None and first.ours > 0 and probe["first_sync"]["ticks"] > 0
    assert delete.ours is not None and probe["delete"]["ticks"] > 0


def test_rich_chat_has_every_kind_of_answer() -> None:
    chat = rich_chat.make_rich_chat(random.Random(3), 40, created_at=ds.EPOCH_MS)
    texts = rich_chat.raw_texts(chat)
    answers = texts[1::2]
    assert len(texts) == 40 and len(answers) == 20
    assert all(text.startswith("## ") for text in answers)
    sources: dict[str, int] = {}
    for item in chat.sources:
        sources[item["messageId"]["S"]] = sources.get(item["messageId"]["S"], 0) + 1
    answer_ids = [item["messageId"]["S"] for item in chat.messages[1::2]]
    assert sorted(set(sources.values())) == [2, 3] and set(sources) == set(answer_ids)
    for message_id, text in zip(answer_ids, answers, strict=True):
        cited = {int(n) for n in re.findall(r" \[(\d)\]", text)}
        assert cited <= set(range(1, sources[message_id] + 1)), text  # every citation has its source
    joined = "\n".join(answers)
    assert "```sql" in joined and "```python" in joined and "**" in joined and "- " in joined
    assert max(len(line) for line in joined.splitlines() if not line.startswith("|")) >= 200
    header_cells = [line.count("|") - 1 for line in joined.splitlines() if line.startswith("| customer_id")]
    assert header_cells and set(header_cells) == {18}


@pytest.mark.gui
def test_scroll_probes_reach_the_first_message(tmp_path: Path) -> None:
    stall, fps, top = scroll_scenario.scroll(TINY, tmp_path, profile=True)
    ours, bare = top.details["ours"], top.details["bare"]
    assert ours["reached_top"] and bare["reached_top"] and top.met
    # The pane opened at its newest page and loaded the older ones while it was scrolled.
    assert ours["rows_at_open"] < TINY.scroll_messages == ours["rows_at_end"] == bare["messages"]
    assert len(ours["older_pages_ms"]) >= 1
    assert ours["frames"] > 1 and ours["paints"] > 0 and bare["frames"] > 1 and bare["paints"] > 0
    assert ours["viewport"] == bare["viewport"]  # both lists the same size
    assert ours["stall"]["ticks"] > 0 and bare["stall"]["ticks"] > 0
    assert stall.ours == ours["stall"]["max_gap_ms"] and stall.baseline == bare["stall"]["max_gap_ms"]
    assert fps.ours is not None and fps.ours > 0 and fps.ratio is not None
    assert ours["profile"]["by_cumulative_time"]  # --diagnose-stalls profiles the scroll
    # Each probe started once the machine settled; the idle share it found is reported.
    for side in (ours, bare):
        assert side["idle_before"] is None or 0 <= side["idle_before"] <= 1
    if sys.platform == "linux":
        assert ours["idle_before"] is not None and "CPUs idle just before" in stall.note


@pytest.mark.gui
def test_run_selects_the_scroll_scenario_alone(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    code = (
        "import sys\n"
        "from dataclasses import replace\n"
        "import bench.run as run\n"
        "run.FULL = replace(run.FULL, scroll_messages=12)\n"
        "sys.exit(run.main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--only", "scroll", "--no-docs", "--json", str(out)]
        + ["--server", "moto", "--moto-mode", "thread"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [row["scenario"] for row in rows] == ["scroll a 12-message chat of rich answers to the top"] * 3
    assert all(row["ours"] is not None and row["baseline"] is not None for row in rows)
