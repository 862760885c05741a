"""Steps whose values differ per row: revoked and hashed credentials, legal-hold dates.

Each selects up to a batch of rows still to do, computes their values in Python and
writes them by key in one statement; a row done is never selected again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap import REVOKED_PREFIX, Strategy, keyed_hash
from workflow.executors.erasure import sql
from workflow.executors.erasure.plan import as_date
from workflow.executors.erasure.work import Work

Step = Callable[[AsyncSession, int], Awaitable[int]]


def _by_key(table: Table, key: list[str]) -> Any:
    return and_(*(table.c[k] == bindparam(f"k_{k}") for k in key))


def _per_row_value(strategy: Strategy, value: Any, secret: bytes) -> Any:
    if strategy is Strategy.REVOKE:
        return REVOKED_PREFIX + hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    if value is None:
        return None
    return sql.HASHED_PREFIX + keyed_hash(secret, str(value))


def _credentials(work: Work, name: str, contacts: list[str]) -> Step | None:
    data_map, table = work.data_map, work.tables[name]
    pending = sql.per_row_pending(data_map, name, table)
    if pending is None:
        return None
    columns = [c for c in data_map.personal(name) if c.erasure in sql.PER_ROW]
    key = data_map.tables[name].key

    async def step(session: AsyncSession, limit: int) -> int:
        scope = work.scope(contacts).condition(name)
        rows = (
            await session.execute(
                select(*(table.c[k] for k in key), *(table.c[c.name] for c in columns))
                .where(scope, pending)
                .order_by(*(table.c[k] for k in key))
                .limit(limit)
            )
        ).all()
        if rows:
            extra, _pending = sql.extra_values(data_map, name, table, work.ctx.now())
            stmt = (
                update(table)
                .where(_by_key(table, key))
                .values(**{c.name: bindparam(f"v_{c.name}") for c in columns}, **extra)
            )
            await session.execute(
                stmt,
                [
                    {
                        **{f"k_{k}": row[i] for i, k in enumerate(key)},
                        **{
                            f"v_{c.name}": _per_row_value(
                                c.erasure, row[len(key) + j], work.ctx.secret
                            )
                            for j, c in enumerate(columns)
                        },
                    }
                    for row in rows
                ],
                execution_options={"synchronize_session": False},
            )
        return len(rows)

    return step


def _hold_dates(work: Work, name: str, contacts: list[str]) -> Step | None:
    """Each held row gets its own hold date, from its own financial year."""
    hold = work.data_map.tables[name].legal_hold
    if hold is None:
        return None
    table, key = work.tables[name], work.data_map.tables[name].key
    until = table.c[hold.until_column]

    async def step(session: AsyncSession, limit: int) -> int:
        rows = (
            await session.execute(
                select(*(table.c[k] for k in key), table.c[hold.counted_from])
                .where(work.scope(contacts).condition(name), until.is_(None))
                .order_by(*(table.c[k] for k in key))
                .limit(limit)
            )
        ).all()
        if rows:
            await session.execute(
                update(table).where(_by_key(table, key)).values({until: bindparam("v_until")}),
                [
                    {
                        **{f"k_{k}": row[i] for i, k in enumerate(key)},
                        "v_until": work.data_map.legal_hold_until(as_date(row[len(key)])),
                    }
                    for row in rows
                ],
                execution_options={"synchronize_session": False},
            )
        return len(rows)

    return step


def steps_for(work: Work, name: str, contacts: list[str]) -> list[Step]:
    found = [_credentials(work, name, contacts), _hold_dates(work, name, contacts)]
    return [s for s in found if s is not None]
