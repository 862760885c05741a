"""Fixed-window hit counters in the database, shared by every web process.

One row per (limiter, key, window); the key is hashed by the caller, so no address is
stored. `add_hit` is one atomic upsert, so two processes counting at the same instant
both see the sum.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.security_models import RateLimitCounter


async def add_hit(session: AsyncSession, bucket: str, expires_at: datetime) -> int:
    """Count one hit in `bucket`; returns the bucket's hits including this one."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(RateLimitCounter)
        .values(bucket=bucket, hits=1, expires_at=expires_at)
        .on_conflict_do_update(index_elements=["bucket"], set_={"hits": RateLimitCounter.hits + 1})
        .returning(RateLimitCounter.hits)
    )
    return int((await session.execute(stmt)).scalar_one())


async def hits(session: AsyncSession, bucket: str) -> int:
    found = await session.scalar(
        select(RateLimitCounter.hits).where(RateLimitCounter.bucket == bucket)
    )
    return int(found or 0)


async def purge(session: AsyncSession, now: datetime) -> None:
    """Drop the counters of windows that have ended."""
    await session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < now))
