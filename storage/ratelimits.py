"""Fixed-window hit counters in the database, shared by every web process.

One row per (limiter, key, window); the key is hashed by the caller, so no address is
stored. `add_hit` is one atomic upsert, so two processes counting at the same instant
both see the sum (a process may count several hits at once: a lease it then spends
locally, see `bot.web.ratelimit.SharedLimiter`).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import driver_sql
from storage.db import Database
from storage.security_models import RateLimitCounter


@functools.cache
def _upsert(dialect: str) -> Any:
    """The counting upsert, built once per dialect (it runs on every web chat request)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(RateLimitCounter)
        .values(bucket=bindparam("bucket"), hits=bindparam("n"), expires_at=bindparam("expires_at"))
        .on_conflict_do_update(
            index_elements=["bucket"], set_={"hits": RateLimitCounter.hits + bindparam("n")}
        )
        .returning(RateLimitCounter.hits)
    )


async def add_hit(session: AsyncSession, bucket: str, expires_at: datetime, n: int = 1) -> int:
    """Count `n` hits in `bucket`; returns the bucket's hits including these."""
    stmt = _upsert(session.get_bind().dialect.name)
    found = await session.execute(stmt, {"bucket": bucket, "expires_at": expires_at, "n": n})
    return int(found.scalar_one())


async def count_hits(db: Database, bucket: str, expires_at: datetime, n: int = 1) -> int:
    """`add_hit` in its own transaction, on the driver (`storage.driver_sql`), as it runs
    for many web chat requests: on PostgreSQL one statement; on SQLite one write
    transaction, on the event loop's connection unless another process is writing."""
    params = {"bucket": bucket, "expires_at": expires_at, "n": n}
    dialect = db.engine.dialect
    if db.is_postgres:
        async with db.driver() as connection:
            return int(
                await driver_sql.pg_fetch_value(connection, _upsert("postgresql"), dialect, params)
            )
    if (on_loop := db.on_loop()) is not None:
        async with db.write_lock(), db.driver() as connection:
            upsert, write = _upsert("sqlite"), driver_sql.sqlite_write_value
            return int(await write(connection, upsert, dialect, params, on_loop))
    async with db.autocommit() as session:
        return await add_hit(session, bucket, expires_at, n)


async def hits(session: AsyncSession, bucket: str) -> int:
    found = await session.scalar(
        select(RateLimitCounter.hits).where(RateLimitCounter.bucket == bucket)
    )
    return int(found or 0)


async def purge(session: AsyncSession, now: datetime) -> None:
    """Drop the counters of windows that have ended."""
    await session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < now))
