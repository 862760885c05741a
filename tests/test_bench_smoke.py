"""`python -m bench` runs end to end and prints figures a script can read.

The cheapest benchmark (the queue, quick sizes, on SQLite) in a subprocess, as a person
would run it: every JSON line is one figure with positive numbers, measured against a
baseline from the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"name", "backend", "value", "unit", "baseline", "ratio"}


def test_quick_queue_benchmark_prints_json_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "queue",
            "--backend",
            "sqlite",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a goal was missed
    figures = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [f["name"] for f in figures] == ["queue.actions_per_s"]
    (queue,) = figures
    assert queue.keys() >= FIELDS
    assert queue["backend"] == "sqlite"
    assert queue["unit"] == "actions/s"
    assert queue["value"] > 0 and queue["baseline"] > 0
    assert abs(queue["ratio"] - queue["value"] / queue["baseline"]) < 0.01
    assert queue["ok"] is (queue["ratio"] >= 0.5)
    assert done.returncode == (0 if queue["ok"] else 1)
    assert "queue/sqlite" in done.stderr  # progress goes to stderr, not into the JSON


def test_unknown_benchmark_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nosuch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr
    assert done.stdout == ""


def test_recogniser_memory_benchmark_prints_its_growth_against_the_budget() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.recognise_memory", "--messages", "3000", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (figures,) = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert figures["messages"] == 3000 and figures["ok"] is True
    assert 0 <= figures["this_tree_mb"] <= figures["budget_mb"]
    assert "measuring this tree" in done.stderr
