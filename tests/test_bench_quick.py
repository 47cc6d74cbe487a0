"""``bench/run.py --quick`` runs whole in CI: every scenario measured beside its baseline.

Only completeness is asserted (each scenario reports a value, a baseline or bound, a
ratio, a target and whether it is met); the numbers themselves are the report's job,
since times on a shared machine are noise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(900)]

SCENARIOS = ("delete", "open", "sync", "first sync", "answer", "search", "start", "memory", "stall", "scroll")


def test_quick_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    docs = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--json", str(out), "--docs", str(docs)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(out.read_text(encoding="utf-8"))
    rows = document["results"]
    names = " ".join(str(row.get("scenario", "")).lower() for row in rows)
    for scenario in SCENARIOS:
        assert scenario in names, f"no {scenario!r} scenario in {names}"
    for row in rows:
        assert {"ours", "baseline", "ratio", "target", "met"} <= set(row), row
        assert row["ours"] is not None, row
    assert "| scenario |" in docs.read_text(encoding="utf-8")
    assert "met" in result.stdout
