"""GDPR Art. 12(3) deadlines: one calendar month from receipt, extendable by two more.

Month arithmetic is done by hand (no dateutil): the same day next month, clamped to
the month's last day, so a request received on 31 January is due on 28 (or 29)
February. An extended deadline is always computed from the receipt, never from the
previous due date, so clamping never accumulates (31 Jan + 2 months is 31 March).
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import PrivacyRequest
from workflow import alerts, lifecycle

MAX_EXTENSION_MONTHS = 2
REMIND_BEFORE = timedelta(days=7)
_LOCAL = ZoneInfo("Europe/Copenhagen")


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months, the day clamped to the month's end."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_date(received_at: datetime, extension_months: int = 0) -> datetime:
    """When the answer is due: one month after receipt plus any extension."""
    return add_months(received_at, 1 + extension_months)


def days_left(due_at: datetime, now: datetime) -> int:
    """Calendar days until the due date in Danish time (negative once it has passed)."""
    return (due_at.astimezone(_LOCAL).date() - now.astimezone(_LOCAL).date()).days


def is_overdue(due_at: datetime, now: datetime) -> bool:
    return now > due_at


def reminder_due(due_at: datetime, now: datetime) -> str | None:
    """Which agent reminder is due now, if any: 'deadline_passed' or 'deadline_soon'."""
    if is_overdue(due_at, now):
        return "deadline_passed"
    if now >= due_at - REMIND_BEFORE:
        return "deadline_soon"
    return None


async def send_reminders(session: AsyncSession, now: datetime) -> int:
    """Agent reminders 7 days before the due date and once it has passed, each sent once
    per due date (the alert's dedup key records it; an extension earns new reminders).
    """
    stmt = select(PrivacyRequest).where(
        PrivacyRequest.status.in_(lifecycle.OPEN), PrivacyRequest.due_at <= now + REMIND_BEFORE
    )
    sent = 0
    for request in (await session.execute(stmt)).scalars():
        event = reminder_due(request.due_at, now)
        if event is None:
            continue
        key = f"{event}:{request.id}:{request.due_at.isoformat()}"
        if await alerts.raise_alert(session, event, now=now, request=request, dedup_key=key):
            sent += 1
    return sent
