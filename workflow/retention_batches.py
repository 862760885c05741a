"""Batches sized by time: each transaction changes as many rows as fit in a target time.

A fixed row count is too big on a busy machine (a lock held for seconds) and too small
on a quiet one (the per-batch cost dominates). After each batch the next size is
scaled by target / elapsed, within a factor of 4 per step and between the policy's
bounds, so the longest transaction stays near the target whatever the machine does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, and_, delete, func, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from workflow.retention_rules import CompiledRule


@dataclass
class BatchSize:
    """The current batch size, adapted to the time each batch took."""

    rows: int
    target_seconds: float
    smallest: int
    largest: int

    def adapt(self, done: int, seconds: float) -> None:
        if done < self.rows or seconds <= 0:  # a short batch says nothing about the rate
            return
        wanted = int(self.rows * self.target_seconds / seconds)
        wanted = max(self.rows // 4, min(self.rows * 4, wanted))
        self.rows = max(self.smallest, min(self.largest, wanted))


def _key(rule: CompiledRule) -> Any:
    return rule.keys[0] if len(rule.keys) == 1 else tuple_(*rule.keys)


@dataclass
class RuleRun:
    """Walks one rule's due rows in key order, a batch per transaction."""

    rule: CompiledRule
    db: Database
    size: BatchSize
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

    async def _single_key_batch(self, session: AsyncSession) -> tuple[int, bool]:
        """One range: up to the `rows`-th due key (found with OFFSET), then one statement."""
        (key,) = self.rule.keys
        end = await session.scalar(
            select(key).where(*self._due()).order_by(key).offset(self.size.rows - 1).limit(1)
        )
        full = end is not None
        if end is None:
            expected, end = (
                await session.execute(select(func.count(), func.max(key)).where(*self._due()))
            ).one()
            if not expected:
                return 0, False
        else:
            expected = self.size.rows
        in_range = [*self._due(), key <= end]
        target: Any = and_(*in_range)
        if self.db.is_postgres and self.rule.values is not None:
            # Skip rows someone else is changing (an erasure in flight): waiting on them
            # could deadlock; the erasure erases what it holds anyway.
            target = key.in_(select(key).where(*in_range).with_for_update(skip_locked=True))
        stmt: Any = (
            delete(self.rule.table).where(target)
            if self.rule.values is None
            else update(self.rule.table).where(target).values(self.rule.values)
        )
        result = await session.execute(stmt, execution_options={"synchronize_session": False})
        changed = int(cast(CursorResult[Any], result).rowcount)
        if changed < int(expected):
            self.skipped = True
        self.after = end
        return changed, full

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

    async def batch(self) -> tuple[int, bool]:
        """(rows changed, whether more may follow)."""
        started = time.perf_counter()
        async with self.db.transaction() as session:
            if len(self.rule.keys) == 1:
                done, full = await self._single_key_batch(session)
            else:
                done, full = await self._key_list_batch(session)
        self.size.adapt(done if full else 0, time.perf_counter() - started)
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
