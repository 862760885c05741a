"""Batches sized by time: each transaction changes as many rows as fit in a target time.

A fixed row count is too big on a busy machine (a lock held for seconds) and too small
on a quiet one (the per-batch cost dominates). After each batch the next size is
scaled by target / elapsed: it grows at most twofold per step (costs are not linear,
and a busy neighbour can double them at any moment) and shrinks at once by as much as
the overrun says, between the policy's bounds.

On PostgreSQL the longest transaction also has a hard cap: each statement of a batch
runs with `statement_timeout` set to what is left of the cap, so a batch that would
overrun (a sudden load spike, a cold cache) is cancelled and rolled back, and the same
range is tried again at a quarter of the size. The change itself is a plain ranged
UPDATE or DELETE with a short `lock_timeout`; only when a row of the range is held by
someone else (an erasure in flight) is the range redone row by row with SKIP LOCKED,
so the common case does not pay for locking every row twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, and_, delete, func, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import BulkWriter
from storage.db import Database
from workflow.retention_rules import CompiledRule


@dataclass
class BatchSize:
    """The current batch size, adapted to the time each batch took."""

    rows: int
    target_seconds: float
    smallest: int
    largest: int
    cap_seconds: float = 0.8  # no batch's transaction may last longer (PostgreSQL)

    def adapt(self, done: int, seconds: float) -> None:
        if seconds > self.target_seconds:  # too slow, full or not: shrink now
            wanted = int(self.rows * self.target_seconds / seconds)
        elif done < self.rows or seconds <= 0:  # a short batch says nothing about the rate
            return
        else:
            wanted = min(self.rows * 2, int(self.rows * self.target_seconds / seconds))
        self.rows = max(self.smallest, min(self.largest, wanted))

    def overran(self) -> None:
        """The batch hit the hard cap and was rolled back: try a quarter of it."""
        self.rows = max(self.smallest, self.rows // 4)


_LOCK_WAIT_MS = 50  # how long a batch waits for a row someone else holds
_CANCELLED = "57014"  # query_canceled: the statement_timeout (the hard cap) fired
_LOCKED = "55P03"  # lock_not_available: the lock_timeout fired


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


class _Held(Exception):
    """A row of the range is held by another transaction (PostgreSQL lock_timeout)."""


class _Overrun(Exception):
    """The batch reached the hard cap and was cancelled."""


def _key(rule: CompiledRule) -> Any:
    return rule.keys[0] if len(rule.keys) == 1 else tuple_(*rule.keys)


@dataclass
class RuleRun:
    """Walks one rule's due rows in key order, a batch per transaction."""

    rule: CompiledRule
    db: Database
    size: BatchSize
    writer: BulkWriter  # the batches' transactions (`storage.bulk`)
    after: Any = None  # the last key of the previous batch
    skipped: bool = False  # rows held by someone else (an erasure) were left for later

    def _due(self) -> list[Any]:
        where = [self.rule.due]
        if self.after is not None:
            where.append(_key(self.rule) > self.after)
        return where

    async def count(self, session: AsyncSession) -> int:
        stmt: Select[Any] = select(func.count()).select_from(self.rule.table).where(self.rule.due)
        return int(await session.scalar(stmt) or 0)

    def _ranged(self) -> bool:
        return self.db.is_postgres and len(self.rule.keys) == 1

    def _capped(self) -> bool:
        """PostgreSQL ranged batches run under the hard cap; one already at the smallest
        size runs uncapped, so the sweep still moves on a machine that slow."""
        return self._ranged() and self.size.rows > self.size.smallest

    async def _budget(self, session: AsyncSession, started: float, lock_wait: bool = False) -> None:
        """The next statement may use only what is left of the hard cap (and, with
        `lock_wait`, waits at most briefly for a row lock); one round trip."""
        settings: dict[str, str] = {}
        if lock_wait:
            settings["lock_timeout"] = str(_LOCK_WAIT_MS)
        if self._capped():
            left_ms = int((self.size.cap_seconds - (time.perf_counter() - started)) * 1000)
            if left_ms < 10:
                raise _Overrun
            settings["statement_timeout"] = str(left_ms)
        if settings:
            await session.execute(
                select(*(func.set_config(name, value, True) for name, value in settings.items()))
            )

    async def _single_key_batch(
        self, session: AsyncSession, started: float, skip_locked: bool
    ) -> tuple[int, bool, Any]:
        """One range: up to the `rows`-th due key (found with OFFSET), then one statement."""
        (key,) = self.rule.keys
        lock_wait = self._ranged() and self.rule.values is not None and not skip_locked
        await self._budget(session, started, lock_wait)
        end = await session.scalar(
            select(key).where(*self._due()).order_by(key).offset(self.size.rows - 1).limit(1)
        )
        full = end is not None
        if end is None:
            expected, end = (
                await session.execute(select(func.count(), func.max(key)).where(*self._due()))
            ).one()
            if not expected:
                return 0, False, None
        else:
            expected = self.size.rows
        in_range = [*self._due(), key <= end]
        target: Any = and_(*in_range)
        if skip_locked and self.rule.values is not None:
            # Skip rows someone else is changing (an erasure in flight): waiting on them
            # could deadlock; the erasure erases what it holds anyway.
            target = key.in_(select(key).where(*in_range).with_for_update(skip_locked=True))
        stmt: Any = (
            delete(self.rule.table).where(target)
            if self.rule.values is None
            else update(self.rule.table).where(target).values(self.rule.values)
        )
        await self._budget(session, started)
        result = await session.execute(stmt, execution_options={"synchronize_session": False})
        changed = int(cast(CursorResult[Any], result).rowcount)
        if changed < int(expected):
            self.skipped = True
        return changed, full, end

    async def _key_list_batch(self, session: AsyncSession) -> tuple[int, bool]:
        """Composite keys: the next `rows` due keys, changed by list."""
        keys = [
            tuple(row)
            for row in await session.execute(
                select(*self.rule.keys)
                .where(*self._due())
                .order_by(*self.rule.keys)
                .limit(self.size.rows)
            )
        ]
        if not keys:
            return 0, False
        target = and_(self.rule.due, _key(self.rule).in_(keys))
        stmt: Any = (
            delete(self.rule.table).where(target)
            if self.rule.values is None
            else update(self.rule.table).where(target).values(self.rule.values)
        )
        result = await session.execute(stmt, execution_options={"synchronize_session": False})
        self.after = tuple_(*keys[-1])
        return int(cast(CursorResult[Any], result).rowcount), len(keys) == self.size.rows

    async def _attempt(self, skip_locked: bool) -> tuple[int, bool, float]:
        started = time.perf_counter()
        end = None
        try:
            async with self.writer.transaction() as session:
                if len(self.rule.keys) == 1:
                    done, full, end = await self._single_key_batch(session, started, skip_locked)
                else:
                    done, full = await self._key_list_batch(session)
        except DBAPIError as exc:
            state = _sqlstate(exc)
            if state == _CANCELLED:
                raise _Overrun from None
            if state == _LOCKED:
                raise _Held from None
            raise
        if end is not None:
            self.after = end
        return done, full, time.perf_counter() - started

    async def batch(self) -> tuple[int, bool]:
        """(rows changed, whether more may follow)."""
        skip_locked = False
        while True:
            try:
                done, full, seconds = await self._attempt(skip_locked)
            except _Overrun:
                self.size.overran()
                continue
            except _Held:  # redo this range without waiting for the held rows
                skip_locked = True
                continue
            self.size.adapt(done if full else 0, seconds)
            return done, full


async def run_rule(
    run: RuleRun,
    *,
    dry_run: bool,
    add: Callable[[int], None],
    progress: Callable[[int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> bool:
    """Apply one rule until nothing is due; False when stopped early."""
    if dry_run:
        async with run.db.sessions() as session:
            add(await run.count(session))
        return True
    while True:
        done, more = await run.batch()
        if done:
            add(done)
            if progress is not None:
                progress(done)
        if not more:
            return True
        if should_stop is not None and should_stop():
            return False
