"""Figures about the machinery around requests: the retention sweep and verification.

- Retention: each sweep's audit entry holds the rows it changed per category
  (`workflow.retention_runs`); the day's rows are summed in SQL from that JSON.
- Verification failures: wrong codes typed, the `attempts` of `verification_codes`.
  The retention sweep deletes a code once it has expired (10 minutes), so these counts
  only cover codes not swept yet: a history of failures needs the sweep to keep a daily
  tally first (see the report in the branch notes).
- Lock-outs: `lockouts_per_day` is kept apart on purpose. Today a lock-out is a code
  that reached MAX_TRIES wrong attempts; a per-account lock-out table replaces that
  query alone, and nothing else here changes.
"""

from __future__ import annotations

from sqlalchemy import Integer, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import VerificationCode
from storage.privacy_models import AuditEntry
from workflow.accountability.period import Period, bucket
from workflow.identity import MAX_TRIES
from workflow.retention import CATEGORIES
from workflow.retention_runs import DONE, INTERRUPTED


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def retention_rows_per_day(session: AsyncSession, period: Period) -> dict[str, int]:
    """Rows the retention sweep changed (all categories), per UTC day."""
    day = bucket(AuditEntry.at, "day", _dialect(session))
    counts = AuditEntry.data["counts"]
    rows = sum(
        (func.coalesce(counts[category].as_integer(), 0) for category in CATEGORIES),
        start=literal(0, Integer),
    )
    stmt = (
        select(day, func.sum(rows))
        .where(
            AuditEntry.event.in_((DONE, INTERRUPTED)),
            AuditEntry.at >= period.start,
            AuditEntry.at < period.end,
        )
        .group_by(day)
    )
    return {str(d): int(n or 0) for d, n in (await session.execute(stmt)).all()}


async def verification_failures_per_day(session: AsyncSession, period: Period) -> dict[str, int]:
    """Wrong one-time codes typed, per UTC day the code was sent."""
    day = bucket(VerificationCode.created_at, "day", _dialect(session))
    stmt = (
        select(day, func.sum(VerificationCode.attempts))
        .where(
            VerificationCode.created_at >= period.start,
            VerificationCode.created_at < period.end,
            VerificationCode.attempts > 0,
        )
        .group_by(day)
    )
    return {str(d): int(n or 0) for d, n in (await session.execute(stmt)).all()}


async def lockouts_per_day(session: AsyncSession, period: Period) -> dict[str, int]:
    """Lock-outs per UTC day. Today: codes whose MAX_TRIES attempts were all wrong.

    The one query to repoint when accounts get their own lock-out records.
    """
    day = bucket(VerificationCode.created_at, "day", _dialect(session))
    stmt = (
        select(day, func.count())
        .where(
            VerificationCode.created_at >= period.start,
            VerificationCode.created_at < period.end,
            VerificationCode.attempts >= MAX_TRIES,
            VerificationCode.used_at.is_(None),
        )
        .group_by(day)
    )
    return {str(d): int(n) for d, n in (await session.execute(stmt)).all()}
