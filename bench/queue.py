"""Queue: 10,000 no-op actions through 4 worker slots, against a raw SKIP LOCKED loop.

Timed: `workflow.worker.run_worker` with 4 claim loops (4 connections) in one process,
an executor that does nothing, from start until every action was processed — claim,
start (request approved -> in_progress, audited), finish (action done, request
completed, audited, notification queued): the worker's whole per-action path.
Baseline, on a copy of the same rows: the least a queue can do — 4 connections, each
claiming one ready action (PostgreSQL: `UPDATE ... WHERE id = (SELECT ... FOR UPDATE
SKIP LOCKED)`; SQLite: `BEGIN IMMEDIATE` and `UPDATE ... RETURNING`) and marking it
done in a second statement, using the same partial index on ready rows.
Goal: >= 0.5 x the baseline's jobs/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select

from bench import seeding
from bench.measure import Figure, figure, progress, ratio_at_least
from storage.db import Database
from storage.privacy_models import Action, PrivacyRequest
from workflow import worker
from workflow.executors import ActionContext, ExecutorResult
from workflow.executors import registry as executors
from workflow.worker_deps import Observer

ACTIONS = 10_000
QUICK_ACTIONS = 600
WORKERS = 4
ACCOUNTS = 2_500
KIND = "bench_noop"
TIMEOUT = 600.0


async def _noop(_ctx: ActionContext) -> ExecutorResult:
    return ExecutorResult(effects={"noop": 1})


async def _seed(url: str, count: int, now: datetime) -> None:
    """`count` approved requests, each with one ready action, over `ACCOUNTS` accounts."""
    db = Database(url)
    try:
        accounts = await seeding.add_accounts(db, min(ACCOUNTS, count), now)
        requests = [
            {
                "id": index + 1,
                "reference": f"PR-B{index:07d}",
                "kind": "access",
                "status": "approved",
                "account_id": accounts[index % len(accounts)],
                "channel": "webchat",
                "language": "da",
                "requester_ref": f"bench-{index}",
                "details": {},
                "received_at": now - timedelta(hours=1),
                "due_at": now + timedelta(days=30),
                "updated_at": now - timedelta(hours=1),
                "version": 1,
            }
            for index in range(count)
        ]
        actions = [
            {
                "request_id": index + 1,
                "account_id": requests[index]["account_id"],
                "kind": KIND,
                "status": "ready",
                "attempts": 0,
                "max_attempts": 5,
                "run_after": now - timedelta(minutes=1),
                "created_at": now - timedelta(minutes=1),
            }
            for index in range(count)
        ]
        async with db.transaction() as session:
            for start in range(0, count, 2000):
                await session.execute(insert(PrivacyRequest), requests[start : start + 2000])
                await session.execute(insert(Action), actions[start : start + 2000])
    finally:
        await db.dispose()


async def _count_done(url: str) -> int:
    db = Database(url)
    try:
        async with db.sessions() as session:
            done = await session.scalar(
                select(func.count()).select_from(Action).where(Action.status == "done")
            )
        return int(done or 0)
    finally:
        await db.dispose()


def worker_deps(
    db: Database, data_dir: Path, *, name: str, observe: Observer | None = None
) -> worker.WorkerDeps:
    """A worker as the benchmarks run it: the no-op executor, default settings."""
    executors.register(KIND, _noop)
    return worker.WorkerDeps(
        db=db,
        secret=b"bench-secret-key-for-signed-links-only",
        public_url="http://127.0.0.1:8080",
        data_dir=data_dir,
        config=worker.WorkerConfig(),
        observe=observe,
        name=name,
    )


async def _product(url: str, count: int, data_dir: Path) -> float:
    """Seconds for the worker to process all `count` actions with `WORKERS` slots."""
    db = Database(url)
    processed = 0
    stop = asyncio.Event()

    def observe(_kind: str, _outcome: str, _seconds: float) -> None:
        nonlocal processed
        processed += 1
        if processed >= count:
            stop.set()

    deps = worker_deps(db, data_dir, name="bench", observe=observe)
    try:
        async with db.sessions() as session:  # connect before timing
            await session.connection()
        start = time.perf_counter()
        runner = asyncio.create_task(worker.run_worker(deps, stop=stop, concurrency=WORKERS))
        try:
            await asyncio.wait_for(stop.wait(), timeout=TIMEOUT)
        finally:
            stop.set()
            await runner
        return time.perf_counter() - start
    finally:
        executors.unregister(KIND)
        await db.dispose()


_PG_CLAIM = (
    "UPDATE actions SET status = 'running', lease_owner = $1, attempts = attempts + 1, "
    "lease_expires_at = now() + interval '60 seconds' "
    "WHERE id = (SELECT id FROM actions WHERE status = 'ready' AND run_after <= now() "
    "ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)
_PG_DONE = (
    "UPDATE actions SET status = 'done', finished_at = now(), lease_owner = NULL, "
    "lease_expires_at = NULL WHERE id = $1"
)


async def _pg_baseline(url: str) -> tuple[int, float]:
    connections = [await asyncpg.connect(seeding.plain_pg_url(url)) for _ in range(WORKERS)]
    done = 0

    async def loop(connection: asyncpg.Connection, owner: str) -> None:
        nonlocal done
        while True:
            claimed = await connection.fetchval(_PG_CLAIM, owner)
            if claimed is None:
                return
            await connection.execute(_PG_DONE, claimed)
            done += 1

    try:
        start = time.perf_counter()
        await asyncio.gather(*(loop(c, f"raw/{i}") for i, c in enumerate(connections)))
        return done, time.perf_counter() - start
    finally:
        for connection in connections:
            await connection.close()


_SQLITE_CLAIM = (
    "UPDATE actions SET status = 'running', lease_owner = ?, attempts = attempts + 1, "
    "lease_expires_at = ? WHERE id = (SELECT id FROM actions WHERE status = 'ready' "
    "AND run_after <= ? ORDER BY run_after, id LIMIT 1) RETURNING id"
)
_SQLITE_DONE = (
    "UPDATE actions SET status = 'done', finished_at = ?, lease_owner = NULL, "
    "lease_expires_at = NULL WHERE id = ?"
)


def _sqlite_baseline(path: Path) -> tuple[int, float]:
    done = [0] * WORKERS

    def loop(index: int) -> None:
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        with contextlib.closing(connection):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            while True:
                now = datetime.now(UTC)
                connection.execute("BEGIN IMMEDIATE")
                row = connection.execute(
                    _SQLITE_CLAIM,
                    (
                        f"raw/{index}",
                        seeding.sqlite_time(now + timedelta(seconds=60)),
                        seeding.sqlite_time(now),
                    ),
                ).fetchone()
                connection.execute("COMMIT")
                if row is None:
                    return
                connection.execute(_SQLITE_DONE, (seeding.sqlite_time(now), row[0]))
                done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(WORKERS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return sum(done), time.perf_counter() - start


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = QUICK_ACTIONS if quick else ACTIONS
    now = datetime.now(UTC)
    source = await scratch.create("queue")
    progress(f"queue/{backend}: seeding {count:,} approved requests with ready actions")
    await _seed(source, count, now)
    await seeding.analyse(source)
    baseline_url = await scratch.create("queue_raw", source)
    progress(f"queue/{backend}: baseline (raw claim-and-complete, {WORKERS} connections)")
    if backend == "sqlite":
        base_done, base_seconds = await asyncio.to_thread(
            _sqlite_baseline, seeding.sqlite_path(baseline_url)
        )
    else:
        base_done, base_seconds = await _pg_baseline(baseline_url)
    await scratch.drop(baseline_url)
    if base_done != count:
        raise RuntimeError(f"the baseline completed {base_done} of {count} actions")
    progress(f"queue/{backend}: worker with {WORKERS} slots")
    seconds = await _product(source, count, scratch.folder / f"queue-{backend}-data")
    done = await _count_done(source)
    await scratch.drop(source)
    if done != count:
        raise RuntimeError(f"the worker completed {done} of {count} actions")
    rate, baseline = count / seconds, base_done / base_seconds
    progress(f"queue/{backend}: {rate:,.0f} actions/s (baseline {baseline:,.0f} jobs/s)")
    return [
        figure(
            "queue.actions_per_s",
            backend,
            rate,
            "actions/s",
            baseline,
            ratio_at_least(0.5),
            note=f"{count:,} no-op actions, {WORKERS} worker slots",
        )
    ]
