"""`python -m bench`: every benchmark on SQLite and PostgreSQL, against in-run baselines.

Each benchmark seeds its own scratch databases (a SQLite file in a temporary directory;
a PostgreSQL database created on the server of --pg-url and dropped afterwards), bounds
its own time and load, and talks only to 127.0.0.1. Progress goes to stderr; stdout
gets a table, or with --json one JSON object per figure:
{"name", "backend", "value", "unit", "baseline", "ratio", "goal", "ok"}.

Exit codes: 0 every figure meets its goal, 1 a figure misses its goal or a benchmark
failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import classify, seeding
from bench.measure import Figure, at_least, figure, format_table, progress

BENCHMARKS = (
    "ingestion",
    "webscale",
    "export",
    "erasure",
    "retention",
    "queue",
    "queue_drain",
    "dashboard",
    "referrals",
    "classify",
)
BACKENDS = ("sqlite", "postgresql")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmarks of the privacy bot (ingestion, webscale, export, erasure, retention, "
            "queue, queue_drain, dashboard, referrals, classify) against baselines measured in "
            "the same run."
        ),
        epilog=(
            "Exit codes: 0 all goals met, 1 a goal missed or a benchmark failed, 2 usage error."
        ),
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these benchmarks (repeat or comma-separate): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="database backend(s) to run on (default: both)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT),
        help="PostgreSQL server on 127.0.0.1 where scratch databases are created and dropped "
        f"(default: BENCH_DATABASE_URL or {PG_DEFAULT})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short runs, for a smoke test"
    )
    return parser


def _selected(parser: argparse.ArgumentParser, only: Sequence[str] | None) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    names = [name.strip() for item in only for name in item.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {BENCHMARKS}")
    return [name for name in BENCHMARKS if name in names]


def machine() -> str:
    """One line about the machine the figures come from."""
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) // 1024:,} MB"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs, {memory} RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _emit(figures: Sequence[Figure], as_json: bool) -> None:
    if as_json:
        for item in figures:
            print(json.dumps(item), flush=True)


def _classify(quick: bool) -> list[Figure]:
    progress("classify: timing the recogniser on one core")
    (raw,) = classify.run(0.5 if quick else 3.0)
    return [
        figure(
            "classify.utterances_per_s",
            "cpu",
            raw["value"],
            raw["unit"],
            raw["baseline"],
            at_least(5000, "utterances/s"),
            note="baseline: casefold, split and one dict look-up per token",
        )
    ]


async def _database_benchmark(
    name: str, backend: str, scratch: seeding.Scratch, quick: bool
) -> list[Figure]:
    module = importlib.import_module(f"bench.{name}")
    figures: list[Figure] = await module.run(backend, scratch, quick=quick)
    return figures


def _failed(name: str, backend: str, exc: BaseException) -> Figure:
    failed = figure(name, backend, None, "-", None, note=f"failed: {type(exc).__name__}: {exc}")
    failed["ok"] = False
    return failed


async def _run(args: argparse.Namespace, names: list[str]) -> list[Figure]:
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    results: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="privacybot-bench-") as folder:
        for name in names:
            if name == "classify":
                found = _classify(args.quick)
                results += found
                _emit(found, args.json)
                continue
            for backend in backends:
                scratch = seeding.Scratch(backend, args.pg_url, Path(folder))
                try:
                    found = await _database_benchmark(name, backend, scratch, args.quick)
                except Exception as exc:  # report it and go on with the other benchmarks
                    progress(f"{name}/{backend} failed: {type(exc).__name__}: {exc}")
                    found = [_failed(name, backend, exc)]
                finally:
                    await scratch.close()
                results += found
                _emit(found, args.json)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    names = _selected(parser, args.only)
    try:
        seeding.check_local(args.pg_url)
    except ValueError as exc:
        parser.error(f"--pg-url: {exc}")
    progress(f"machine: {machine()}")
    figures = asyncio.run(_run(args, names))
    if not args.json:
        print(f"machine: {machine()}")
        print(format_table(figures))
        missed = [f for f in figures if f.get("ok") is False]
        if missed:
            print(f"\n{len(missed)} figure(s) miss their goal.")
    return 1 if any(f.get("ok") is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
