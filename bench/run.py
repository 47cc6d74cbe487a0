"""Benchmarks of Galileio Desktop against the web app's algorithms, side by side in one run.

    python bench/run.py [--quick | --scale] [--json FILE]

Builds the data sets, runs every scenario beside its baseline on the same data, prints
a table and writes it to docs/benchmarks.md with the date, the machine and the
versions. Network scenarios go through a latency proxy (20 ms per request by default)
in front of a local DynamoDB server; see bench/endpoint.py for which one and why.
``--quick`` uses smaller data sets (printed at the start) and runs in a few minutes.
``--scale`` runs the scale tier instead (bench/scale.py: 1,000,000 messages in the mirror)
and writes docs/benchmarks-scale.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# A benchmark must never reach a real account or read a developer's AWS settings.
os.environ.update(
    {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "QT_QPA_PLATFORM": "offscreen",
    }
)
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") or n == "AWS_PROFILE"]:
    del os.environ[_name]

from bench import report, scale, scroll_scenario  # noqa: E402
from bench import scenarios_api as api  # noqa: E402
from bench import scenarios_local as local  # noqa: E402
from bench import scenarios_remote as remote  # noqa: E402
from bench.endpoint import Endpoint, choose_server  # noqa: E402
from bench.report import Result  # noqa: E402
from bench.sizes import FULL, QUICK, SCALE, Sizes  # noqa: E402

log = logging.getLogger("bench")

DOCS = PROJECT_ROOT / "docs" / "benchmarks.md"
SCALE_DOCS = PROJECT_ROOT / "docs" / "benchmarks-scale.md"
SCENARIO_NAMES = (
    "delete",
    "open",
    "sync",
    "first-sync",
    "answer",
    "search",
    "start-up",
    "stall",
    "interact",
    "memory",
    "scroll",
    "api",
    "revalidate",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data sets (a few minutes on 2 cores)")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="the scale tier alone: 100,000 chats and 1,000,000 messages (see bench/scale.py)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    parser.add_argument(
        "--docs",
        metavar="FILE",
        default=None,
        help="Markdown report (default docs/benchmarks.md; with --scale docs/benchmarks-scale.md)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write the Markdown report")
    parser.add_argument(
        "--only", metavar="NAMES", help=f"comma-separated scenarios of {', '.join(SCENARIO_NAMES)}"
    )
    parser.add_argument(
        "--server",
        choices=("dynalite", "moto"),
        default=None,
        help="DynamoDB stand-in (default: dynalite, installed with `npm ci` when missing)",
    )
    parser.add_argument(
        "--moto-mode", choices=("process", "thread"), default="process", help="with --server moto"
    )
    parser.add_argument("--delay-ms", type=float, default=20.0, help="round-trip delay added per request")
    parser.add_argument(
        "--diagnose-stalls",
        action="store_true",
        help="record thread stacks during GUI stalls (scroll: and a cProfile of the GUI thread)",
    )
    parser.add_argument(
        "--stall-experiment",
        action="append",
        default=[],
        help="what-if knob for the stall probe: switch1ms, switch250us, gclog, pages250, wholejson (diagnosis only)",
    )
    parser.add_argument(
        "--workdir", metavar="DIR", help="keep mirrors and settings here (default: a temporary folder)"
    )
    parser.add_argument(
        "--scale-cache",
        metavar="DIR",
        help=f"--scale: keep the big mirror here between runs (default: --workdir, else {scale.DEFAULT_CACHE})",
    )
    args = parser.parse_args(argv)
    if args.quick and args.scale:
        parser.error("--quick and --scale are two different sizes: choose one")
    return args


class Runner:
    """Runs the chosen scenarios in order, keeping going when one fails (its row says so)."""

    def __init__(self, sizes: Sizes, workdir: Path, only: set[str]) -> None:
        self.sizes = sizes
        self.workdir = workdir
        self.only = only
        self.results: list[Result] = []
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()

    def wanted(self, name: str) -> bool:
        return not self.only or name in self.only

    def run(self, name: str, call: Callable[[], list[Result]]) -> None:
        if not self.wanted(name):
            return
        print(f"[{time.perf_counter() - self.started:6.1f} s] {name} ...", flush=True)
        began = time.perf_counter()
        try:
            found = call()
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
            log.error("scenario %s failed", name, exc_info=True)
            found = [
                Result(
                    name,
                    "failed",
                    None,
                    None,
                    "",
                    None,
                    "",
                    "-",
                    False,
                    note=f"{type(exc).__name__}: {exc}",
                    details={"traceback": traceback.format_exc()[-3000:]},
                )
            ]
        self.timings[name] = round(time.perf_counter() - began, 1)
        self.results.extend(found)
        for result in found:
            print("    " + report.text_table([result]).splitlines()[-1], flush=True)


def run_all(args: argparse.Namespace, sizes: Sizes, workdir: Path) -> tuple[Runner, Endpoint]:
    only = {n.strip() for n in args.only.split(",")} if args.only else set()
    unknown = only - set(scale.NAMES if args.scale else SCENARIO_NAMES)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    runner = Runner(sizes, workdir, only)
    endpoint = Endpoint(args.delay_ms, choose_server(args.server), args.moto_mode)
    if args.scale:
        cache = args.scale_cache or args.workdir or scale.DEFAULT_CACHE
        scale.run(runner, endpoint, sizes, workdir, Path(cache))
        return runner, endpoint
    with endpoint:
        for name, scenario in remote.SCENARIOS:
            runner.run(name, lambda s=scenario: s(endpoint, sizes, workdir))
        # The deployment's API beside DynamoDB, and reading an open chat again.
        runner.run("api", lambda: api.request_counts(endpoint, sizes, workdir))
        runner.run("revalidate", lambda: api.revalidate(endpoint, sizes, workdir))
        if any(runner.wanted(n) for n in ("search", "start-up", "memory", "interact")):
            print(
                f"[{time.perf_counter() - runner.started:6.1f} s] building the cached mirror ...", flush=True
            )
            mirror = local.build_cached_mirror(sizes, workdir)
            print(
                f"    {mirror.chats:,} chats, {mirror.messages:,} messages in {mirror.build_s:.1f} s",
                flush=True,
            )
            runner.run("search", lambda: local.search(mirror, sizes))
            runner.run("start-up", lambda: local.start_up(mirror, sizes, workdir))
            runner.run("memory", lambda: local.memory(mirror, sizes, workdir))
            runner.run("interact", lambda: local.interactions(mirror, sizes, workdir, args.diagnose_stalls))
        runner.run(
            "stall",
            lambda: local.stalls(
                endpoint, sizes, workdir, args.diagnose_stalls, tuple(args.stall_experiment)
            ),
        )
    runner.run("scroll", lambda: scroll_scenario.scroll(sizes, workdir, args.diagnose_stalls))
    return runner, endpoint


def markdown(meta: dict[str, object], results: list[Result]) -> str:
    env = meta["environment"]
    assert isinstance(env, dict)
    sizes = meta["sizes"]
    assert isinstance(sizes, dict)
    missed = [r for r in results if not r.met]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python bench/run.py"
        + {"quick": " --quick", "scale": " --scale"}.get(str(meta["mode"]), "")
        + "`; "
        "do not edit by hand. Every ratio compares ours with a baseline measured in the same run, "
        "on the same data (absolute times on a shared machine are noise).",
        "",
        f"- date: {meta['date']}",
        f"- mode: {meta['mode']} ({meta['total_s']} s)",
        f"- machine: {env['cpu_count']} CPUs, {env['platform']}",
        f"- versions: Python {env['python']}, boto3 {env['boto3']}, botocore {env['botocore']}, "
        f"moto {env['moto']}, PySide6 {env['PySide6']}, SQLite {env['sqlite']}",
        f"- DynamoDB: {meta['server']}, {meta['delay_ms']:g} ms added per request by the latency proxy",
        f"- machine load (1-minute average) at start: {meta['load_at_start']:.1f}, at end: {meta['load_at_end']:.1f}",
        "- sizes: " + ", ".join(f"{k}={v}" for k, v in sizes.items() if k != "name"),
        "",
        report.markdown_table(results),
        "",
        f"Targets met: {len(results) - len(missed)} of {len(results)}.",
        "",
        "## How each scenario is measured",
        "",
        "Network scenarios talk to a local DynamoDB stand-in through `bench/latency_proxy.py`, which "
        "adds the round-trip delay to every request and counts requests by operation. The stand-in is "
        "dynalite by default: it answers a Query from a key range, as DynamoDB does. moto "
        "(`--server moto`) answers a Query by sorting and sizing every item of the table (about 0.2 s "
        "per query on a 2,000-item table), so scenarios with hundreds of queries would measure moto. "
        "The server and the proxy run in their own processes, but on the same CPUs as the code measured. "
        "Each window probe (start-up, memory, stalls, scroll) starts once the file system's writes are "
        "flushed and the CPUs are mostly idle, waiting at most 3 s (`bench/machine_quiet.py`): a mirror "
        "just built is not written out during the next measurement.",
        "",
        *(scale.HOW if meta["mode"] == "scale" else ()),
        "- **delete**: ours is `ChatLibrary.delete_chat` then `push` (the app's gateway, one pipeline "
        "on a pool of 16: the sources the mirror knows deleted in batches of 25 beside the message "
        "listing, each message once its own sources are gone, the chat item last); the baseline queries "
        "the messages, then each message's sources one after another, then deletes in BatchWrites of 25 "
        "one after another. Each side has its own table with an identical chat.",
        "- **open, not cached**: ours is `ChatLibrary.open_chat` on a mirror that lists the chat but "
        "has none of its messages, timed until its newest page is read for the pane "
        "(`list_messages(limit=50)`, called when the newest 50 messages are stored, then 1 MB pages "
        "follow, as the window does; the whole chat's time is in the details); the baseline reads "
        "every page of 10 messages one after another and shows the chat once it has them all. "
        "**cached**: the same chat after a restart (a new library on the same mirror).",
        "- **sync, nothing changed**: `ChatLibrary.sync` after a first sync, with some chats opened.",
        "- **first sync**: `ChatLibrary.sync` on an empty mirror; the minimum is the items' size by "
        "DynamoDB's rules divided by the 1 MB page limit (1 MB = 1,048,576 bytes).",
        "- **answer**: `ChatLibrary.add_message` with the sources, then `push`; the web app's single "
        "BatchWrite is refused by DynamoDB over 25 items, so the baseline is that BatchWrite split "
        "into calls of 25, one after another (what the algorithm would take to store it at all).",
        "- **search**: `ChatLibrary.search` (FTS5, bm25, snippets) against a `LIKE` scan of every "
        "message's text, both on the same mirror file; the query mix is in the details.",
        "- **start-up / memory**: a fresh process each (offscreen; start-up's three sides each a "
        "module, `bench/app_window_probe.py`, `bench/bare_window_probe.py`, `bench/list_floor_probe.py`, "
        "imported by the same one-line entry so none compiles its probe's source; memory "
        "through `bench/gui_probe.py`): the app's "
        "window on the cached mirror, offline, until the chat list paints with rows (memory: until "
        "the chosen chat's newest page is shown), against a bare `QMainWindow` shown and painted; "
        "start-up also against its floor, `bench/list_floor_probe.py`: a window with a chat list and "
        "no app code (menu bar, status bar, filter field, a list view painting title and time, rows "
        "read with `sqlite3` from the same mirror), bare, floor and ours interleaved, 7 runs each.",
        "- **bounds**: delete = ceil(requests / 16) round trips for the listing, source and message "
        "deletes sharing the pool (at least 2: a message after its sources), plus 1 for the chat item, "
        "beside the same delete with no delay added; open = 1 round trip; first sync = requests x RTT "
        "plus the same sync at 0 ms.",
        "- **GUI stall**: the app's window in a fresh process, online through the proxy; a 5 ms "
        "QTimer in the GUI thread records the longest gap while the sync worker runs the first "
        "sync (from the window's first paint), then while it deletes a chat. The target is one "
        "frame at 60 Hz (16.7 ms).",
        "- **interact**: the same timer, the app's window on the cached mirror, offline, in a fresh "
        "process (`bench/gui_probe.py app-interact`): chats opened one after another from the list "
        "(each until its newest page is shown, then 0.5 s while its older rows are measured), a word "
        "typed in the chat filter, then a query typed in Ctrl+K search, a key every 180 ms (each key "
        "filters or searches).",
        "- **scroll**: a chat of rich answers (headings, lists, bold, inline code, citations of 2 "
        "or 3 sources, SQL and Python blocks some with a line of 200+ characters, tables some of "
        "18 columns) opened at its newest page in the app's window, offline, in a fresh process "
        "(`bench/scroll_probe.py`); a 60 Hz timer moves the message list up 480 px a frame, the "
        "pane loading older pages as it asks for them, until the first message is on screen. "
        "Measured: the longest gap of a 5 ms QTimer (target 16.7 ms), frames achieved per second, "
        "time to the top. Baseline, in the same run: a plain `QListView` with a "
        "`QStringListModel` of the same messages' raw text, the same size, scrolled the same way. "
        "`--diagnose-stalls` adds a cProfile of the scroll and thread stacks during gaps.",
        "",
    ]
    if missed:
        lines += ["## Targets missed", ""]
        for r in missed:
            lines.append(f"- **{r.scenario} / {r.measure}**: {r.note or 'see the details below'}")
        lines.append("")
    lines += ["## Details", ""]
    for r in results:
        lines.append(f"### {r.scenario}: {r.measure}")
        lines.append("")
        if r.note:
            lines += [r.note, ""]
        details = {k: v for k, v in r.details.items() if k != "traceback"}
        lines += ["```json", json.dumps(details, indent=1, default=str)[:6000], "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sizes = SCALE if args.scale else QUICK if args.quick else FULL
    print(f"Galileio Desktop benchmarks, {sizes.name} mode; sizes:", flush=True)
    for key, value in sizes.as_json().items():
        if key != "name":
            print(f"    {key} = {value}", flush=True)
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="galileio-bench-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        runner, endpoint = run_all(args, sizes, workdir)
    total = round(time.perf_counter() - started, 1)
    meta: dict[str, object] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": sizes.name,
        "total_s": total,
        "scenario_s": runner.timings,
        "environment": report.environment(),
        "server": endpoint.description,
        "delay_ms": endpoint.delay_ms,
        "sizes": sizes.as_json(),
        "load_at_start": load_at_start,
        "load_at_end": os.getloadavg()[0],
    }
    print()
    print(report.text_table(runner.results))
    missed = [r for r in runner.results if not r.met]
    print(f"\n{len(runner.results) - len(missed)} of {len(runner.results)} targets met in {total} s")
    for r in missed:
        print(f"  missed: {r.scenario} / {r.measure}: {r.note}")
    if args.json:
        report.write_json(Path(args.json), meta, runner.results)
    if not args.no_docs:
        docs = Path(args.docs or (SCALE_DOCS if args.scale else DOCS))
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(markdown(meta, runner.results), encoding="utf-8")
        print(f"wrote {docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
