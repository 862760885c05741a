"""Figures about privacy requests, each one GROUP BY query over the period.

Every figure counts requests *received* in the period, except `open_now` (what is open
at `now`, whatever its age). Requests the customer withdrew (cancelled) are left out of
every figure except `cancelled`: nobody had to answer them. "Answered" means completed
or rejected; the answer's time is the status change in the request's history, and it is
on time when it is no later than the due date, extensions included (Art. 12(3)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import PrivacyRequest, RequestEvent
from workflow import lifecycle
from workflow.accountability.period import Period, bucket, whole_days
from workflow.lifecycle import Status

ANSWERED = ("completed", "rejected")
REASONS_SHOWN = 8  # the most frequent reasons; the rest are added up as one line
# (label key, upper bound in days left, exclusive); overdue comes first
OPEN_BUCKETS = (("overdue", 0), ("days_0_7", 8), ("days_8_14", 15), ("days_15_30", 31))
OPEN_LAST = "days_31_plus"


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Requests of one month answered, on time, and a histogram of whole days to answer."""

    month: str
    answered: int
    on_time: int
    days: dict[int, int]  # whole days to answer -> how many requests


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _received(period: Period) -> list[ColumnElement[bool]]:
    return [
        PrivacyRequest.received_at >= period.start,
        PrivacyRequest.received_at < period.end,
        PrivacyRequest.status != Status.CANCELLED,
    ]


async def by_month_and_kind(session: AsyncSession, period: Period) -> dict[tuple[str, str], int]:
    month = bucket(PrivacyRequest.received_at, "month", _dialect(session))
    stmt = (
        select(month, PrivacyRequest.kind, func.count())
        .where(*_received(period))
        .group_by(month, PrivacyRequest.kind)
    )
    return {(m, k): int(n) for m, k, n in (await session.execute(stmt)).all()}


async def by_channel_and_language(
    session: AsyncSession, period: Period
) -> dict[tuple[str, str], int]:
    stmt = (
        select(PrivacyRequest.channel, PrivacyRequest.language, func.count())
        .where(*_received(period))
        .group_by(PrivacyRequest.channel, PrivacyRequest.language)
    )
    return {(c, lang): int(n) for c, lang, n in (await session.execute(stmt)).all()}


async def cancelled(session: AsyncSession, period: Period) -> int:
    stmt = select(func.count()).where(
        PrivacyRequest.received_at >= period.start,
        PrivacyRequest.received_at < period.end,
        PrivacyRequest.status == Status.CANCELLED,
    )
    return int(await session.scalar(stmt) or 0)


async def timeliness(session: AsyncSession, period: Period) -> list[Timeliness]:
    """Per month of receipt: answered, on time, and days to answer as a histogram (the
    median and 90th percentile are read off it; both backends, no per-row fetch)."""
    dialect = _dialect(session)
    month = bucket(PrivacyRequest.received_at, "month", dialect)
    days = whole_days(PrivacyRequest.received_at, RequestEvent.at, dialect)
    on_time = func.sum(case((RequestEvent.at <= PrivacyRequest.due_at, 1), else_=0))
    stmt = (
        select(month, days, func.count(), on_time)
        .join(RequestEvent, RequestEvent.request_id == PrivacyRequest.id)
        .where(
            *_received(period),
            PrivacyRequest.status.in_(ANSWERED),
            RequestEvent.to_status == PrivacyRequest.status,
        )
        .group_by(month, days)
    )
    answered: dict[str, int] = {}
    in_time: dict[str, int] = {}
    histograms: dict[str, dict[int, int]] = {}
    for m, d, n, ok in (await session.execute(stmt)).all():
        answered[m] = answered.get(m, 0) + int(n)
        in_time[m] = in_time.get(m, 0) + int(ok or 0)
        histograms.setdefault(m, {})[int(d)] = int(n)
    return [Timeliness(m, answered[m], in_time[m], histograms[m]) for m in sorted(answered)]


def percentile(histogram: dict[int, int], share: float) -> int | None:
    """The smallest value with at least `share` of the counts at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted, seen = share * total, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= wanted:
            return value
    return max(histogram)


async def open_now(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Open requests by days left until their due date; 'overdue' once it has passed."""
    whens: list[Any] = [(PrivacyRequest.due_at < now, "overdue")]
    whens += [
        (PrivacyRequest.due_at < now + timedelta(days=upper), key)
        for key, upper in OPEN_BUCKETS[1:]
    ]
    label = case(*whens, else_=OPEN_LAST)
    stmt = (
        select(label, func.count())
        .where(PrivacyRequest.status.in_(sorted(lifecycle.OPEN)))
        .group_by(label)
    )
    return {str(k): int(n) for k, n in (await session.execute(stmt)).all()}


@dataclass(frozen=True, slots=True)
class Reasons:
    """The most frequent reasons (the agents' own words) and how many more there were."""

    top: list[tuple[str, int]]
    others: int

    @property
    def total(self) -> int:
        return sum(n for _reason, n in self.top) + self.others


async def reasons(session: AsyncSession, period: Period, which: str) -> Reasons:
    """Extension ('extension') or rejection ('rejection') reasons, most frequent first."""
    where: ColumnElement[bool]
    if which == "extension":
        column, where = PrivacyRequest.extension_reason, PrivacyRequest.extended.is_(True)
    else:
        column, where = PrivacyRequest.decision_reason, PrivacyRequest.status == Status.REJECTED
    reason = func.coalesce(func.trim(column), "")
    stmt = (
        select(reason, func.count())
        .where(*_received(period), where)
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    )
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    return Reasons(
        top=[(str(r), int(n)) for r, n in rows[:REASONS_SHOWN]],
        others=sum(int(n) for _r, n in rows[REASONS_SHOWN:]),
    )
