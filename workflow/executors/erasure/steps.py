"""The step engine: each table's rows erased in batches, one transaction per batch.

A batch is a range of the table's key, cut from one pass over the rows in scope
(every BATCH-th key, and the last), changed as `key > previous AND key <= bound` plus
"not yet erased": a repeated batch is a no-op and a re-run resumes by walking the
ranges again. A last look erases rows added meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, literal, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.executors.erasure import custom, sql
from workflow.executors.erasure.work import Work

BATCH = 10_000


def after_batch(step: str, rows: int) -> None:
    """Called after every committed batch. Tests replace it to simulate a crash."""


def _key(columns: list[Any]) -> Any:
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _bound(columns: list[Any], values: Any) -> Any:
    if len(columns) == 1:
        return values[0]
    return tuple_(*(literal(v, c.type) for v, c in zip(values, columns, strict=True)))


@dataclass(frozen=True)
class RangeStep:
    """The rows of one table in scope, erased in place (SQL values) or deleted."""

    name: str
    work: Work
    contacts: list[str]

    @property
    def table(self) -> Table:
        return self.work.tables[self.name]

    @property
    def deletes(self) -> bool:
        return self.work.data_map.deletes_rows(self.name)

    def _keys(self) -> list[Any]:
        return [self.table.c[k] for k in self.work.data_map.tables[self.name].key]

    def _scope(self) -> ColumnElement[bool]:
        return self.work.scope(self.contacts).condition(self.name)

    def _sql(self) -> tuple[dict[str, Any], ColumnElement[bool] | None]:
        return sql.in_place(
            self.work.data_map,
            self.name,
            self.table,
            self.work.ctx.now(),
            self.work.dialect(self.name),
        )

    def pending(self) -> Any:
        keys = self._keys()
        stmt = select(*keys).where(self._scope())
        if not self.deletes:
            _values, condition = self._sql()
            if condition is None:
                return None
            stmt = stmt.where(condition)
        return stmt

    async def bounds(self, session: AsyncSession) -> list[tuple[Any, ...]]:
        """The keys that end each batch: every BATCH-th key in scope, and the last one."""
        keys = self._keys()
        numbered = (
            select(*keys, func.row_number().over(order_by=keys).label("n_"))
            .where(self._scope())
            .subquery()
        )
        inner = [numbered.c[k.name] for k in keys]
        ends = [
            tuple(row)
            for row in await session.execute(
                select(*inner).where(numbered.c.n_ % BATCH == 0).order_by(*inner)
            )
        ]
        last = (
            await session.execute(
                select(*keys).where(self._scope()).order_by(*(k.desc() for k in keys)).limit(1)
            )
        ).first()
        if last is not None and (not ends or tuple(last) > ends[-1]):
            ends.append(tuple(last))
        return ends

    async def anything_pending(self, session: AsyncSession, after: Any) -> bool:
        """Whether a row still needs erasing after a round whose last bound was `after`.

        SQLite has one writer and gives a new row the highest key yet; PostgreSQL and
        MariaDB hand out keys before commit, so there the look covers every row.
        """
        stmt = self.pending()
        if stmt is None:
            return False
        if after is not None and self.work.dialect(self.name) == "sqlite":
            keys = self._keys()
            stmt = stmt.where(_key(keys) > _bound(keys, after))
        return await session.scalar(stmt.limit(1)) is not None

    async def batch(self, session: AsyncSession, after: Any, last: Any) -> int:
        keys = self._keys()
        where = [self._scope(), _key(keys) <= _bound(keys, last)]
        if after is not None:
            where.append(_key(keys) > _bound(keys, after))
        if self.deletes:
            stmt: Any = delete(self.table).where(*where)
        else:
            values, condition = self._sql()
            assert condition is not None  # pending() said there is SQL to run
            stmt = update(self.table).where(*where, condition).values(values)
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        return int(cast(CursorResult[Any], result).rowcount)

    async def run(self) -> None:
        if self.pending() is None:
            return
        database = self.work.database(self.name)
        after: Any = None
        for round_ in range(3):
            async with database.transaction() as session:
                if round_ and not await self.anything_pending(session, after):
                    break
                bounds = await self.bounds(session)
            after = None
            for last in bounds:
                async with database.transaction() as session:
                    done = await self.batch(session, after, last)
                after_batch(self.name, done)
                after = last


async def run_all(work: Work, contacts: list[str]) -> None:
    """Every table but the account and the tables holding its contacts (see finish)."""
    data_map = work.data_map
    last = {data_map.account.table, *data_map.identifier_tables()}
    for name in data_map.tables:
        if name in last:
            continue
        await RangeStep(name, work, contacts).run()
        for step in custom.steps_for(work, name, contacts):
            while True:
                async with work.database(name).transaction() as session:
                    done = await step(session, BATCH)
                after_batch(name, done)
                if done < BATCH:
                    break
