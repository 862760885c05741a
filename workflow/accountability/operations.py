"""Figures about the machinery around requests: the retention sweep and verification.

- Retention: each sweep's audit entry holds the rows it changed per category
  (`workflow.retention_runs`); the day's rows are summed in SQL from that JSON.
- Verification failures: wrong codes typed, the `attempts` of `verification_codes`.
  The retention sweep deletes a code once it has expired (10 minutes), so these counts
  only cover codes not swept yet: a history of failures needs the sweep to keep a daily
  tally first (see the report in the branch notes).
- Lock-outs: an account whose codes were paused after too many wrong ones
  (`workflow.code_guard`), counted from the `code_locked` alert raised each time.
"""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import VerificationCode
from storage.privacy_models import AgentAlert, AuditEntry
from workflow.accountability.period import Period, bucket
from workflow.retention_runs import DONE, INTERRUPTED


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def retention_rows_per_day(session: AsyncSession, period: Period) -> dict[str, int]:
    """Rows the retention sweep changed (all categories), per UTC day.

    Each sweep's `counts` object is expanded once by the database's own JSON function
    (json_each / json_each_text) and summed, whatever categories it holds.
    """
    dialect = _dialect(session)
    day = bucket(AuditEntry.at, "day", dialect)
    if dialect == "postgresql":
        counts = func.json_each_text(AuditEntry.data["counts"]).table_valued("key", "value")
    else:
        counts = func.json_each(AuditEntry.data, "$.counts").table_valued("key", "value")
    stmt = (
        select(day, func.sum(cast(counts.c.value, Integer)))
        .select_from(AuditEntry)
        .join(counts, true())
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
    """Lock-outs per UTC day: an account's codes paused after too many wrong ones, as
    recorded by the `code_locked` alert raised each time (alerts are kept)."""
    day = bucket(AgentAlert.created_at, "day", _dialect(session))
    stmt = (
        select(day, func.count())
        .where(
            AgentAlert.event == "code_locked",
            AgentAlert.created_at >= period.start,
            AgentAlert.created_at < period.end,
        )
        .group_by(day)
    )
    return {str(d): int(n) for d, n in (await session.execute(stmt)).all()}
