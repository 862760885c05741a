"""Every figure of the dashboard and the report, collected in one read-only session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from workflow.accountability import operations
from workflow.accountability import requests as figures
from workflow.accountability.period import Period
from workflow.accountability.requests import Reasons, Timeliness, percentile


@dataclass(frozen=True, slots=True)
class Figures:
    period: Period
    now: datetime
    by_month_kind: dict[tuple[str, str], int]
    by_channel_language: dict[tuple[str, str], int]
    timeliness: list[Timeliness]
    open_now: dict[str, int]
    extensions: Reasons
    rejections: Reasons
    cancelled: int
    retention_rows: dict[str, int]
    verification_failures: dict[str, int]
    lockouts: dict[str, int]

    @property
    def received(self) -> int:
        return sum(self.by_month_kind.values())

    @property
    def answered(self) -> int:
        return sum(t.answered for t in self.timeliness)

    @property
    def on_time(self) -> int:
        return sum(t.on_time for t in self.timeliness)

    @property
    def overdue(self) -> int:
        return self.open_now.get("overdue", 0)

    def days_to_answer(self) -> dict[int, int]:
        merged: dict[int, int] = {}
        for month in self.timeliness:
            for days, n in month.days.items():
                merged[days] = merged.get(days, 0) + n
        return merged

    def summary(self) -> dict[str, Any]:
        """The headline numbers (also the JSON report's `summary`)."""
        histogram = self.days_to_answer()
        return {
            "received": self.received,
            "answered": self.answered,
            "answered_on_time": self.on_time,
            "on_time_share": round(self.on_time / self.answered, 4) if self.answered else None,
            "median_days": percentile(histogram, 0.5),
            "p90_days": percentile(histogram, 0.9),
            "open_now": sum(self.open_now.values()),
            "overdue_now": self.overdue,
            "extended": self.extensions.total,
            "rejected": self.rejections.total,
            "cancelled": self.cancelled,
        }


async def collect(session: AsyncSession, period: Period, now: datetime) -> Figures:
    return Figures(
        period=period,
        now=now,
        by_month_kind=await figures.by_month_and_kind(session, period),
        by_channel_language=await figures.by_channel_and_language(session, period),
        timeliness=await figures.timeliness(session, period),
        open_now=await figures.open_now(session, now),
        extensions=await figures.reasons(session, period, "extension"),
        rejections=await figures.reasons(session, period, "rejection"),
        cancelled=await figures.cancelled(session, period),
        retention_rows=await operations.retention_rows_per_day(session, period),
        verification_failures=await operations.verification_failures_per_day(session, period),
        lockouts=await operations.lockouts_per_day(session, period),
    )
