"""Running the retention sweep: one at a time across every process, on a schedule, audited.

- One at a time: on PostgreSQL a session-level advisory lock, held on its own
  connection for the length of the sweep; on SQLite (one machine by nature) an
  exclusive `flock` on a file next to the database. Both are released by the operating
  system or the server when the holder dies, so a killed worker leaves no stale lease.
- On a schedule: every worker asks, at most once per interval, when the last completed
  sweep was (the audit log is the record) and sweeps only when it is due, re-checking
  under the lock, so N workers still sweep once per interval between them.
- Audited: each sweep appends one audit entry with the rows changed per category, the
  running totals (read by `/metrics`), and the cutoffs the next sweep starts from. A
  sweep stopped between batches (SIGTERM) is audited as interrupted; the next one
  resumes, because every batch only selects rows not yet processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.privacy_models import AuditEntry
from storage.types import utcnow
from workflow import audit
from workflow.retention import RetentionPolicy, RetentionReport, sweep

log = logging.getLogger(__name__)

ACTOR = "retention"
DONE = "retention_sweep"
INTERRUPTED = "retention_sweep_interrupted"
_LOCK_KEY = 0x52455445_4E54494F & 0x7FFFFFFFFFFFFFFF  # "RETENTIO": one sweep at a time
_local_locks: dict[str, asyncio.Lock] = {}  # an in-memory SQLite database: one process


@contextlib.asynccontextmanager
async def exclusive(db: Database) -> AsyncIterator[bool]:
    """Yields True while this process holds the sweep lock, False when another does."""
    if db.is_postgres:
        async with _pg_lock(db) as got:
            yield got
        return
    path = make_url(db.url).database
    if not path or path == ":memory:":
        lock = _local_locks.setdefault(db.url, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True
        return
    with _file_lock(Path(f"{path}.retention-lock")) as got:
        yield got


@contextlib.asynccontextmanager
async def _pg_lock(db: Database) -> AsyncIterator[bool]:
    async with db.engine.connect() as raw:
        conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}))
        try:
            yield got
        finally:
            if got:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                except Exception as exc:  # never hand a connection that may hold the lock back
                    log.warning("retention lock release failed: %s", type(exc).__name__)
                    await raw.invalidate()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


async def last_sweep(session: AsyncSession, *, completed: bool = True) -> AuditEntry | None:
    """The newest sweep entry: completed ones only, or interrupted ones too."""
    events = [DONE] if completed else [DONE, INTERRUPTED]
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.event.in_(events))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _cutoffs(entry: AuditEntry | None) -> dict[str, datetime]:
    raw = (entry.data or {}).get("cutoffs") if entry is not None else None
    if not isinstance(raw, dict):
        return {}
    found = {}
    for key, value in raw.items():
        with contextlib.suppress(TypeError, ValueError):
            found[str(key)] = datetime.fromisoformat(str(value))
    return found


def _totals(entry: AuditEntry | None) -> dict[str, int]:
    raw = (entry.data or {}).get("totals") if entry is not None else None
    if not isinstance(raw, dict):
        return {}
    return {str(k): int(v) for k, v in raw.items() if isinstance(v, int)}


@dataclass(frozen=True, slots=True)
class SweepTotals:
    """What `/metrics` shows: rows changed by every sweep so far, and the last sweep."""

    totals: dict[str, int]
    last_at: datetime | None
    last_counts: dict[str, int]


async def totals(session: AsyncSession) -> SweepTotals:
    entry = await last_sweep(session, completed=False)
    if entry is None:
        return SweepTotals({}, None, {})
    counts = (entry.data or {}).get("counts") or {}
    return SweepTotals(_totals(entry), entry.at, {str(k): int(v) for k, v in counts.items()})


async def run_sweep(
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    policy: RetentionPolicy | None = None,
    data_dir: Path | None = None,
    dry_run: bool = False,
    full: bool = False,
    progress: Callable[[str, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    unless_swept_since: datetime | None = None,
) -> RetentionReport | None:
    """One audited sweep under the lock; None when another process is sweeping (or,
    with `unless_swept_since`, has completed a sweep since then).

    `full` ignores the previous sweep's cutoffs and looks at every row.
    """
    async with exclusive(db) as got:
        if not got:
            return None
        async with db.sessions() as session:
            previous = await last_sweep(session)
            counted = await last_sweep(session, completed=False)
        if (
            unless_swept_since is not None
            and previous is not None
            and previous.at >= unless_swept_since
        ):
            return None
        started = time.monotonic()
        report = await sweep(
            db,
            now=clock(),
            dry_run=dry_run,
            policy=policy,
            progress=progress,
            since=None if full else _cutoffs(previous),
            should_stop=should_stop,
            data_dir=data_dir,
        )
        if dry_run:
            return report
        running = _totals(counted)
        for category, rows in report.counts.items():
            running[category] = running.get(category, 0) + rows
        data: dict[str, Any] = {
            "counts": report.counts,
            "totals": running,
            "seconds": round(time.monotonic() - started, 3),
        }
        if not report.interrupted:  # an interrupted sweep has not reached its cutoffs
            data["cutoffs"] = report.cutoffs
        async with db.transaction() as session:
            await audit.append(
                session,
                actor=ACTOR,
                event=INTERRUPTED if report.interrupted else DONE,
                request_id=None,
                data=data,
                now=clock(),
            )
        return report


@dataclass
class Scheduler:
    """The worker's retention timer. `tick` sweeps when due and says how long to wait."""

    interval: timedelta
    policy: RetentionPolicy
    data_dir: Path | None = None
    progress: Callable[[str], None] | None = None
    retry_after: timedelta = timedelta(minutes=1)
    next_check: datetime | None = None

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    async def tick(
        self,
        db: Database,
        clock: Callable[[], datetime],
        should_stop: Callable[[], bool] | None = None,
    ) -> float:
        now = clock()
        if self.next_check is not None and now < self.next_check:
            return (self.next_check - now).total_seconds()
        retry = now + min(self.interval, self.retry_after)
        try:
            async with db.sessions() as session:
                previous = await last_sweep(session)
            if previous is not None and now < previous.at + self.interval:
                self.next_check = previous.at + self.interval
            else:
                report = await run_sweep(
                    db,
                    clock=clock,
                    policy=self.policy,
                    data_dir=self.data_dir,
                    progress=lambda category, rows: self._say(
                        f"retention: {category} {rows} rows so far"
                    ),
                    should_stop=should_stop,
                    unless_swept_since=now - self.interval,
                )
                if report is None:  # another worker is sweeping or just swept
                    self.next_check = retry
                else:
                    state = "interrupted" if report.interrupted else "done"
                    self._say(f"retention sweep {state}: {report.counts or 'nothing to change'}")
                    self.next_check = clock() + self.interval
        except Exception as exc:  # no traceback: database errors can quote row values
            log.warning("retention sweep failed: %s; retried later", type(exc).__name__)
            self.next_check = retry
        return max(0.0, (self.next_check - clock()).total_seconds())
