"""Retention: the sweep over 1,000,000 messages, two thirds older than 30 days.

Timed: `workflow.retention.sweep` (every category; only SMS has work here), batch by
batch as the worker runs it. Every transaction it opens is timed through the engine's
begin/commit events, so the longest one is the longest any lock was held.
Baseline, on a copy of the same rows: one raw `UPDATE` doing the same anonymisation
(content, recipient's last 4 digits, anonymised_at) in a single statement.
Goals: >= 0.8 x the baseline's rows/s; no transaction longer than 1 s.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event, text

from bench import seeding
from bench.measure import Figure, below, figure, progress, ratio_at_least
from storage import datamap
from storage.db import Database, Timeouts
from workflow import retention

SMS_DAYS = datamap.sms_retention_days()

MESSAGES = 1_000_000
QUICK_MESSAGES = 30_000
ACCOUNTS = 1_000
_UPDATE = (
    "UPDATE sms_messages SET content = '{anonymised}', anonymised_at = {now}, "
    "recipient = CASE WHEN length(recipient) > 4 "
    "THEN substr(recipient, 1, length(recipient) - 4) || 'XXXX' ELSE 'XXXX' END "
    "WHERE sent_at < {cutoff} AND anonymised_at IS NULL"
)


async def _baseline(url: str, now: datetime) -> tuple[int, float]:
    """Rows and seconds of one raw UPDATE anonymising every message older than 30 days."""
    cutoff = now - timedelta(days=SMS_DAYS)
    db = Database(url, timeouts=Timeouts(command=None))  # one statement, however long
    try:
        async with db.sessions() as session:
            await session.connection()
            if db.is_postgres:
                sql = _UPDATE.format(anonymised=retention.ANONYMISED, now=":now", cutoff=":cut")
                params: dict[str, Any] = {"now": now, "cut": cutoff}
            else:
                sql = _UPDATE.format(anonymised=retention.ANONYMISED, now=":now", cutoff=":cut")
                params = {"now": seeding.sqlite_time(now), "cut": seeding.sqlite_time(cutoff)}
            start = time.perf_counter()
            result = await session.execute(text(sql), params)
            await session.commit()
            seconds = time.perf_counter() - start
        return int(result.rowcount), seconds  # type: ignore[attr-defined]
    finally:
        await db.dispose()


class TransactionClock:
    """The duration of every transaction on an engine, from its begin until its commit
    or rollback has returned. (SQLAlchemy's own "commit" event fires before the commit
    runs, and on SQLite a batch's commit writes its changes to the log: its lock is held
    through it.) Timed around the dialect's commit and rollback, by pooled connection."""

    def __init__(self, db: Database) -> None:
        self.longest = 0.0
        self.count = 0
        self._open: dict[int, float] = {}
        event.listen(db.engine.sync_engine, "begin", self._begin)
        dialect = db.engine.dialect
        for name in ("do_commit", "do_rollback"):
            setattr(dialect, name, self._timed(getattr(dialect, name)))

    def _begin(self, connection: Any) -> None:
        self._open[id(connection.connection)] = time.perf_counter()

    def _timed(self, ends: Any) -> Any:
        def call(pooled: Any) -> None:
            try:
                ends(pooled)
            finally:
                started = self._open.pop(id(pooled), None)
                if started is not None:
                    self.count += 1
                    self.longest = max(self.longest, time.perf_counter() - started)

        return call


async def _product(url: str, now: datetime) -> tuple[int, float, TransactionClock]:
    db = Database(url)
    clock = TransactionClock(db)
    last = [0]

    def report(category: str, rows: int) -> None:
        if category == "sms_messages_anonymised" and rows - last[0] >= 100_000:
            last[0] = rows
            progress(f"retention: {rows:,} messages anonymised")

    try:
        async with db.sessions() as session:  # connect before timing
            await session.connection()
        start = time.perf_counter()
        report_ = await retention.sweep(db, now=now, progress=report)
        seconds = time.perf_counter() - start
    finally:
        await db.dispose()
    return report_.counts.get("sms_messages_anonymised", 0), seconds, clock


async def _check(url: str, expected: int) -> None:
    """The sweep really anonymised what the baseline did (and nothing else)."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(seeding.sqlite_path(url)) as connection:
            row = connection.execute(
                "SELECT count(*) FROM sms_messages WHERE anonymised_at IS NOT NULL "
                "AND content = ? AND recipient LIKE '%XXXX'",
                (retention.ANONYMISED,),
            ).fetchone()
        found = int(row[0])
    else:
        connection = await asyncpg.connect(seeding.plain_pg_url(url))
        try:
            found = int(
                await connection.fetchval(
                    "SELECT count(*) FROM sms_messages WHERE anonymised_at IS NOT NULL "
                    "AND content = $1 AND recipient LIKE '%XXXX'",
                    retention.ANONYMISED,
                )
            )
        finally:
            await connection.close()
    if found != expected:
        raise RuntimeError(f"the sweep anonymised {found} messages, expected {expected}")


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = QUICK_MESSAGES if quick else MESSAGES
    now = datetime.now(UTC)
    source = await scratch.create("retention")
    db = Database(source)
    try:
        accounts = await seeding.add_accounts(db, ACCOUNTS, now)
    finally:
        await db.dispose()
    progress(f"retention/{backend}: seeding {count:,} messages over 90 days")
    await seeding.add_messages(source, accounts, count, now)
    await seeding.analyse(source)
    copy = await scratch.create("retention_raw", source)
    progress(f"retention/{backend}: baseline (one raw UPDATE)")
    base_rows, base_seconds = await _baseline(copy, now)
    await scratch.drop(copy)
    progress(f"retention/{backend}: sweep of {base_rows:,} old messages")
    rows, seconds, clock = await _product(source, now)
    await _check(source, base_rows)
    await scratch.drop(source)
    if rows != base_rows:
        raise RuntimeError(f"the sweep anonymised {rows} messages, the baseline {base_rows}")
    rate, baseline = rows / seconds, base_rows / base_seconds
    progress(
        f"retention/{backend}: {rows:,} rows in {seconds:.1f}s ({rate:,.0f}/s; baseline "
        f"{baseline:,.0f}/s), {clock.count} transactions, longest {clock.longest * 1000:.0f} ms"
    )
    return [
        figure("retention.rows_per_s", backend, rate, "rows/s", baseline, ratio_at_least(0.8)),
        figure(
            "retention.longest_transaction",
            backend,
            clock.longest * 1000,
            "ms",
            base_seconds * 1000,
            below(1000, "ms"),
            note="baseline: the one raw UPDATE's transaction",
        ),
    ]
