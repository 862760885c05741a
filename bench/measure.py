"""Shared measuring helpers: figures, goals, progress on stderr, memory, percentiles.

A figure is one line of the report: `{"name", "backend", "value", "unit", "baseline",
"ratio"}` plus `goal` (what it must reach, as text) and `ok` (whether it does; None when
it could not be measured). The ratio is always value / baseline, so for a rate higher is
better and for a latency or a memory size lower is better; each goal says which.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Figure = dict[str, Any]

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One progress line on stderr, with the seconds since the run started."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Goal:
    """`ratio >= x`, `value >= x`, `value < x` (ratio or absolute), as text and as a check."""

    kind: str  # "ratio_min" | "value_min" | "value_max"
    limit: float
    text: str

    def check(self, value: float | None, ratio: float | None) -> bool | None:
        if self.kind == "ratio_min":
            return None if ratio is None else ratio >= self.limit
        if value is None:
            return None
        if self.kind == "value_min":
            return value >= self.limit
        return value < self.limit


def ratio_at_least(limit: float) -> Goal:
    return Goal("ratio_min", limit, f">= {limit:g} x baseline")


def at_least(limit: float, unit: str) -> Goal:
    return Goal("value_min", limit, f">= {limit:g} {unit}")


def below(limit: float, unit: str) -> Goal:
    return Goal("value_max", limit, f"< {limit:g} {unit}")


def _rounded(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    if abs(value) >= 100:
        return round(value, 1)
    return round(value, 3)


def figure(
    name: str,
    backend: str,
    value: float | None,
    unit: str,
    baseline: float | None,
    goal: Goal | None = None,
    note: str | None = None,
) -> Figure:
    """One figure; `ratio` is value / baseline (None when either is missing)."""
    ratio = value / baseline if value is not None and baseline else None
    result: Figure = {
        "name": name,
        "backend": backend,
        "value": _rounded(value),
        "unit": unit,
        "baseline": _rounded(baseline),
        "ratio": None if ratio is None else round(ratio, 4),
        "goal": goal.text if goal else None,
        "ok": goal.check(value, ratio) if goal else None,
    }
    if note:
        result["note"] = note
    return result


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _status_kb(pid: int | str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise LookupError(field)


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now, in MB (Linux /proc)."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """The highest resident memory the process has had, in MB (Linux /proc VmHWM)."""
    return _status_kb(pid, "VmHWM") / 1024


class Timer:
    """`with Timer() as t: ...` then `t.seconds`."""

    seconds: float = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


@contextmanager
def step(message: str) -> Iterator[None]:
    """Progress lines around a step, with its duration."""
    progress(message + " ...")
    start = time.perf_counter()
    yield
    progress(f"{message}: {time.perf_counter() - start:.1f}s")


def format_table(figures: Sequence[Figure]) -> str:
    """A plain-text table of the figures, one per line, goals marked ok / MISS."""
    header = ("benchmark", "backend", "value", "unit", "baseline", "ratio", "goal", "")
    rows = [header]
    for item in figures:
        status = {True: "ok", False: "MISS", None: "-"}[item.get("ok")]
        rows.append(
            (
                item["name"],
                item["backend"],
                _show(item["value"]),
                item["unit"],
                _show(item["baseline"]),
                "-" if item["ratio"] is None else f"{item['ratio']:.3f}",
                item.get("goal") or "-",
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 4, 5}
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _show(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"
