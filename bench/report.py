"""Results of the benchmark: one row per measure, printed as a table, written as Markdown and JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any


@dataclass
class Result:
    """One measure of one scenario, ours beside the baseline measured in the same run.

    ``ratio`` is stated so that bigger means better for us where the target is a speed-up
    ("x faster", "x fewer"); for bounds ("<= 1.2x the minimum") it is ours / bound.
    """

    scenario: str
    measure: str
    ours: float | None
    baseline: float | None
    unit: str
    ratio: float | None
    ratio_label: str
    target: str
    met: bool
    baseline_label: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("ours", "baseline", "ratio"):
            value = data[key]
            if isinstance(value, float) and not math.isfinite(value):
                data[key] = None
        return data


def speedup(baseline: float, ours: float) -> float:
    """baseline / ours, with a floor on ours so a zero never divides."""
    return baseline / max(ours, 1e-9)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95: share 0.95)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "requests":
        return f"{value:.0f} req"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:g} {unit}".strip()


def _ratio(result: Result) -> str:
    if result.ratio is None:
        return "-"
    value = result.ratio
    text = f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return f"{text}{result.ratio_label}"


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for r in results:
        baseline = _fmt(r.baseline, r.unit)
        if r.baseline_label:
            baseline = f"{baseline} ({r.baseline_label})" if r.baseline is not None else r.baseline_label
        out.append(
            [
                r.scenario,
                r.measure,
                _fmt(r.ours, r.unit),
                baseline,
                _ratio(r),
                r.target,
                "yes" if r.met else "NO",
            ]
        )
    return out


HEADERS = ["scenario", "measure", "ours", "baseline", "ratio", "target", "met"]


def text_table(results: list[Result]) -> str:
    table = [HEADERS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: list[Result]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows(results):
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return "\n".join(lines)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, Any]:
    """The machine and the versions the numbers were measured with."""
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "boto3": _version("boto3"),
        "botocore": _version("botocore"),
        "moto": _version("moto"),
        "PySide6": _version("PySide6-Essentials"),
        "sqlite": sqlite3.sqlite_version,
        "galileio_desktop": _version("galileio-desktop"),
    }


def write_json(path: Path, meta: dict[str, Any], results: list[Result]) -> None:
    data = {**meta, "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
