"""Queue drain: a burst of 10,000 approved requests through 1, 2 and 4 worker processes.

Each worker process (`python -m bench.queue_drain URL`) runs `workflow.worker.run_worker`
with 4 claim loops and `once` (it exits when nothing is due any more), with a no-op
executor; the driver starts them together on one copy of the burst per process count
and times from the start until the last one exits. Every action goes through the whole
path (claim and start, audited; finish with its audit entry, the request completed
and the notification queued); afterwards the audit chain must verify.
Baseline, on a copy of the same rows: the raw SKIP LOCKED loop of `bench.queue` with
4 connections (one process). Reported: actions/s per process count; no goal, the curve
is the figure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import queue as queue_bench
from bench import seeding
from bench.measure import Figure, figure, progress
from storage.db import Database
from workflow import audit

PROCESSES = (1, 2, 4)
SLOTS = 4
_ROOT = str(Path(__file__).resolve().parents[1])


async def _child(url: str, data_dir: Path) -> int:
    from workflow import worker

    db = Database(url)
    deps = queue_bench.worker_deps(db, data_dir, name=f"drain-{os.getpid()}")
    try:
        return await worker.run_worker(deps, stop=asyncio.Event(), concurrency=SLOTS, once=True)
    finally:
        await db.dispose()


async def _drain(url: str, processes: int, data_dir: Path) -> float:
    env = dict(os.environ, PYTHONPATH=_ROOT)
    start = time.perf_counter()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.queue_drain", url, str(data_dir), env=env
        )
        for _ in range(processes)
    ]
    codes = [await child.wait() for child in children]
    seconds = time.perf_counter() - start
    if any(codes):
        raise RuntimeError(f"a worker process exited with {codes}")
    return seconds


async def _verified(url: str) -> bool:
    db = Database(url)
    try:
        async with db.sessions() as session:
            return (await audit.verify(session)).ok
    finally:
        await db.dispose()


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = queue_bench.QUICK_ACTIONS if quick else queue_bench.ACTIONS
    source = await scratch.create("drain")
    progress(f"queue_drain/{backend}: seeding {count:,} approved requests")
    await queue_bench._seed(source, count, datetime.now(UTC))
    await seeding.analyse(source)
    raw = await scratch.create("drain_raw", source)
    if backend == "sqlite":
        base_done, base_seconds = await asyncio.to_thread(
            queue_bench._sqlite_baseline, seeding.sqlite_path(raw)
        )
    else:
        base_done, base_seconds = await queue_bench._pg_baseline(raw)
    await scratch.drop(raw)
    baseline = base_done / base_seconds
    figures = []
    for processes in PROCESSES:
        copy = await scratch.create(f"drain_{processes}", source)
        progress(f"queue_drain/{backend}: {processes} worker process(es) x {SLOTS} slots")
        seconds = await _drain(copy, processes, scratch.folder / f"drain-{backend}-{processes}")
        done = await queue_bench._count_done(copy)
        intact = await _verified(copy)
        await scratch.drop(copy)
        if done != count or not intact:
            raise RuntimeError(f"{processes} processes: {done}/{count} done, chain ok={intact}")
        rate = count / seconds
        progress(f"queue_drain/{backend}: {processes} process(es): {rate:,.0f} actions/s")
        figures.append(
            figure(
                f"queue_drain.actions_per_s_{processes}p",
                backend,
                rate,
                "actions/s",
                baseline,
                note=f"{count:,} approved requests, {processes} x {SLOTS} slots, audit verified",
            )
        )
    await scratch.drop(source)
    return figures


if __name__ == "__main__":
    sys.exit(asyncio.run(_child(sys.argv[1], Path(sys.argv[2]))))
