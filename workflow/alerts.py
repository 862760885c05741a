"""Alerts for the privacy team (approval needed, failures, deadlines, reviews).

Rows in `agent_alerts`, written in the transaction that causes them; the CLI lists
them and a Slack channel will deliver them later. A `dedup_key` makes an alert that
several workers may race to raise (a deadline reminder) exist exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import AgentAlert, PrivacyRequest, SupportCase

EVENTS = (
    "awaiting_approval",
    "human_review",
    "action_failed",
    "deadline_soon",
    "deadline_passed",
    "handover",
    "code_locked",
    "referral",  # a recipient's request forwarded to a sending account (workflow.referrals)
)


def _params(request: PrivacyRequest | None, params: dict[str, Any] | None) -> dict[str, Any]:
    base: dict[str, Any] = {}
    if request is not None:
        base = {
            "reference": request.reference,
            "kind": request.kind,
            "due_at": request.due_at.isoformat(),
        }
    return {**base, **(params or {})}


async def raise_alert(
    session: AsyncSession,
    event: str,
    *,
    now: datetime,
    request: PrivacyRequest | None = None,
    params: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> bool:
    """Record an alert; with `dedup_key`, only if none with that key exists. True if new."""
    if dedup_key is None:
        new_alert(session, event, now=now, request=request, params=params)
        return True
    if event not in EVENTS:
        raise ValueError(f"unknown alert event {event!r}")
    values = {
        "request_id": request.id if request is not None else None,
        "event": event,
        "params": _params(request, params),
        "dedup_key": dedup_key,
        "status": "pending",
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(AgentAlert).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    result = await session.execute(stmt.returning(AgentAlert.id))
    return result.first() is not None


def new_alert(
    session: AsyncSession,
    event: str,
    *,
    now: datetime,
    request: PrivacyRequest | None = None,
    params: dict[str, Any] | None = None,
) -> AgentAlert:
    """Record an alert and return its row (flush the session to learn its id)."""
    if event not in EVENTS:
        raise ValueError(f"unknown alert event {event!r}")
    alert = AgentAlert(
        request_id=request.id if request is not None else None,
        event=event,
        params=_params(request, params),
        status="pending",
        created_at=now,
    )
    session.add(alert)
    return alert


OPEN = ("pending", "delivered")  # delivered: posted to Slack, not yet handled


async def mark_done(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    """An agent has handled these alerts; a support case they opened closes with them."""
    if not ids:
        return 0
    result = await session.execute(
        update(AgentAlert)
        .where(AgentAlert.id.in_(list(ids)), AgentAlert.status.in_(OPEN))
        .values(status="done", delivered_at=now)
    )
    await session.execute(
        update(SupportCase)
        .where(SupportCase.alert_id.in_(list(ids)), SupportCase.closed_at.is_(None))
        .values(closed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def pending(session: AsyncSession, limit: int = 100) -> Sequence[AgentAlert]:
    stmt = (
        select(AgentAlert)
        .where(AgentAlert.status == "pending")
        .order_by(AgentAlert.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()
