"""Scrolling a long chat of real-looking answers from its bottom to its first message.

The app's window (its message pane, opened at the newest page, loading older pages as
it asks for them) and a plain ``QListView`` of the same messages' raw text are each
scrolled up by :mod:`scroll_probe` in a fresh process, one after the other in the same
run, at one 480 px step a frame of a 60 Hz timer. The plain list holds every message
from the start and lays out plain text: it is what a Qt list costs at its cheapest.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import datasets as ds
from bench import machine_quiet, rich_chat
from bench.report import Result
from bench.scenarios_local import BENCH_DIR, probe_env
from bench.sizes import Sizes

PROBE = BENCH_DIR / "scroll_probe.py"
#: One frame at 60 Hz; the plain list's own worst gap is reported beside it.
STALL_TARGET_MS = 1000 / 60
#: Ours keeps up when it achieves this share of the plain list's frames per second.
FPS_SHARE = 0.9
#: Seconds of scrolling allowed per message before a probe gives up (well above 60 Hz pace).
LIMIT_S_PER_MESSAGE = 0.12


@dataclass
class ScrollChat:
    mirror: Path
    texts: Path
    chat_id: str
    messages: int
    build_s: float


def build_scroll_chat(sizes: Sizes, workdir: Path) -> ScrollChat:
    """The rich chat in a mirror (cached, as after a sync) and its raw texts for the baseline."""
    started = time.perf_counter()
    now = ds.EPOCH_MS + 400 * 86_400_000
    chat = rich_chat.make_rich_chat(
        random.Random(41), sizes.scroll_messages, created_at=now - 86_400_000, title="Long chat of answers"
    )
    mirror = workdir / "scroll.sqlite3"
    mirror.unlink(missing_ok=True)
    ds.build_mirror(mirror, ds.USER, chat.items(), now)
    texts = workdir / "scroll-texts.json"
    texts.write_text(json.dumps(rich_chat.raw_texts(chat)), encoding="utf-8")
    return ScrollChat(mirror, texts, chat.chat_id, chat.message_count, time.perf_counter() - started)


def run_probe(mode: str, *args: str, limit_s: float) -> dict[str, Any]:
    idle = machine_quiet.settle()
    done = subprocess.run(
        [sys.executable, str(PROBE), mode, "--limit-s", str(limit_s), *args],
        capture_output=True,
        text=True,
        timeout=limit_s + 300,
        env=probe_env(),
        cwd=BENCH_DIR,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"scroll probe {mode} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(lines[-1])
    if "error" in data:
        raise RuntimeError(f"scroll probe {mode}: {data['error']}")
    data["idle_before"] = idle  # the CPUs' idle share as it started (see machine_quiet)
    return data


def scroll(sizes: Sizes, workdir: Path, profile: bool = False) -> list[Result]:
    chat = build_scroll_chat(sizes, workdir)
    limit_s = max(60.0, chat.messages * LIMIT_S_PER_MESSAGE)
    ours = run_probe(
        "app",
        "--mirror", str(chat.mirror),
        "--user", ds.USER,
        "--settings", str(workdir / "settings-scroll"),
        "--chat", chat.chat_id,
        *(["--profile"] if profile else []),
        limit_s=limit_s,
    )  # fmt: skip
    width, height = ours["viewport"]
    bare = run_probe("bare", "--texts", str(chat.texts), "--viewport", f"{width}x{height}", limit_s=limit_s)
    return results(chat, ours, bare)


def _gaps_note(stall: dict[str, Any]) -> str:
    total = stall.get("long_gaps_total_ms", 0.0) or 1e-9
    return (
        f"longest gaps {stall.get('long_gaps_ms', [])[:5]} ms; of all gaps over 15 ms "
        f"({total:.0f} ms) the GUI thread ran its own code "
        f"{100 * stall.get('long_gaps_gui_busy_ms', 0) / total:.0f}%, waited for a CPU "
        f"{100 * stall.get('long_gaps_cpu_wait_ms', 0) / total:.0f}%, was blocked "
        f"{100 * stall.get('long_gaps_blocked_ms', 0) / total:.0f}%"
    )


def _idle_note(ours: dict[str, Any], bare: dict[str, Any]) -> str:
    """The CPUs' idle share just before each probe started (see ``machine_quiet``)."""
    if ours.get("idle_before") is None or bare.get("idle_before") is None:
        return ""
    return f" (CPUs idle just before: {ours['idle_before']:.0%}, {bare['idle_before']:.0%})"


def results(chat: ScrollChat, ours: dict[str, Any], bare: dict[str, Any]) -> list[Result]:
    name = f"scroll a {chat.messages:,}-message chat of rich answers to the top"
    reached = bool(ours.get("reached_top")) and bool(bare.get("reached_top"))
    stall_ours = float(ours["stall"]["max_gap_ms"])
    stall_bare = float(bare["stall"]["max_gap_ms"])
    pages = ours.get("older_pages_ms", [])
    note = (
        f"Ours: {_gaps_note(ours['stall'])}; {len(pages)} older pages inserted (longest "
        f"{max(pages, default=0):.0f} ms), {ours.get('rows_at_end', 0):,} rows at the top, "
        f"{ours.get('content_px', 0):,} px of content, {ours['paints_per_s']} paints/s, "
        f"{ours['frames_late']} of {ours['frames']} frames late (> 33 ms). Bare list: "
        f"{_gaps_note(bare['stall'])}; {bare.get('content_px', 0):,} px of content, "
        f"{bare['paints_per_s']} paints/s, {bare['frames_late']} of {bare['frames']} frames late. "
        f"Machine load {ours['stall'].get('load_before', 0):.1f} when ours began, "
        f"{bare['stall'].get('load_before', 0):.1f} when the bare list began{_idle_note(ours, bare)}."
    )
    details = {"ours": ours, "bare": bare, "mirror_build_s": round(chat.build_s, 1)}
    label = "plain QListView"
    fps_ours, fps_bare = float(ours["frames_per_s"]), float(bare["frames_per_s"])
    return [
        Result(
            name,
            "worst event-loop gap (5 ms timer)",
            stall_ours,
            stall_bare,
            "ms",
            stall_ours / max(stall_bare, 1e-9),
            "x of bare",
            f"<= {STALL_TARGET_MS:.1f} ms (one frame at 60 Hz)",
            reached and stall_ours <= STALL_TARGET_MS,
            baseline_label=label,
            details=details,
            note=note,
        ),
        Result(
            name,
            "frames per second (480 px a frame, 60 Hz timer)",
            fps_ours,
            fps_bare,
            "fps",
            fps_ours / max(fps_bare, 1e-9),
            "x of bare",
            f">= {FPS_SHARE:g}x bare",
            reached and fps_ours >= FPS_SHARE * fps_bare,
            baseline_label=label,
            details=details,
            note=note,
        ),
        Result(
            name,
            "time to the first message on screen",
            float(ours["time_to_top_s"]),
            float(bare["time_to_top_s"]),
            "s",
            float(ours["time_to_top_s"]) / max(float(bare["time_to_top_s"]), 1e-9),
            "x of bare",
            "top reached (time: reported)",
            reached,
            baseline_label=label,
            details=details,
            note=note,
        ),
    ]
