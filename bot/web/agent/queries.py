"""What the console pages read: requests by due date, one request's facts, alerts.

Read-only; decisions go through `workflow.decisions`, exactly as Slack and the CLI do.
A request reaches the pages only as `workflow.agent_view.RequestView`, the policy the
CLI and Slack share: no email, phone number, name or words of the customer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account
from storage.privacy_models import (
    Action,
    AgentAlert,
    Approval,
    AuditEntry,
    PrivacyRequest,
    RequestEvent,
)
from workflow import agent_view, deadlines, lifecycle
from workflow.agent_view import RequestView
from workflow.approvals import ApprovalPolicy
from workflow.lifecycle import Status

LIST_LIMIT = 500
ALERT_LIMIT = 200
AUDIT_LIMIT = 500
FILTERS = agent_view.FILTERS


def is_overdue(request: RequestView, now: datetime) -> bool:
    return request.is_open and deadlines.is_overdue(request.due_at, now)


async def request_list(session: AsyncSession, wanted: str) -> list[RequestView]:
    """Requests by due date (soonest first); `wanted` is 'open', 'all' or a status."""
    return await agent_view.request_list(session, wanted, limit=LIST_LIMIT)


async def failed_count(session: AsyncSession) -> int:
    """Requests stopped by an error: what the alerts page asks an agent to follow up."""
    stmt = select(func.count()).where(PrivacyRequest.status == Status.FAILED)
    return int(await session.scalar(stmt) or 0)


@dataclass(frozen=True, slots=True)
class Detail:
    request: RequestView
    company: str | None
    account_status: str | None
    restricted: bool
    needed: int
    approvals: Sequence[Approval]
    actions: Sequence[Action]
    events: Sequence[RequestEvent]
    audit: Sequence[AuditEntry]

    @property
    def given(self) -> int:
        return sum(1 for a in self.approvals if a.decision == "approve")

    def shown_details(self) -> agent_view.Details:
        """(key, value) pairs; a value of None means 'hidden'."""
        return self.request.details


async def detail(session: AsyncSession, reference: str, policy: ApprovalPolicy) -> Detail | None:
    try:
        request = await lifecycle.load(session, reference=reference, lock=False)
    except lifecycle.NotFound:
        return None
    account = (
        await session.execute(
            select(Account.company, Account.status, Account.restricted).where(
                Account.id == request.account_id
            )
        )
    ).first()

    async def rows(stmt: Any) -> Sequence[Any]:
        return (await session.execute(stmt)).scalars().all()

    return Detail(
        request=RequestView.of(request),
        company=account.company if account else None,
        account_status=account.status if account else None,
        restricted=bool(account.restricted) if account else False,
        needed=policy.approvals_needed(request.kind),
        approvals=await rows(
            select(Approval).where(Approval.request_id == request.id).order_by(Approval.id)
        ),
        actions=await rows(
            select(Action).where(Action.request_id == request.id).order_by(Action.id)
        ),
        events=await rows(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .order_by(RequestEvent.id)
        ),
        audit=await rows(
            select(AuditEntry)
            .where(AuditEntry.request_id == request.id)
            .order_by(AuditEntry.id)
            .limit(AUDIT_LIMIT)
        ),
    )


@dataclass(frozen=True, slots=True)
class FailedAlert:
    alert: AgentAlert
    reference: str | None
    kind: str | None
    status: str | None


async def failed_alerts(session: AsyncSession) -> list[FailedAlert]:
    """The failed-request alerts (newest first) with their request's current status."""
    stmt = (
        select(AgentAlert, PrivacyRequest)
        .outerjoin(PrivacyRequest, PrivacyRequest.id == AgentAlert.request_id)
        .where(AgentAlert.event == "action_failed")
        .order_by(AgentAlert.created_at.desc(), AgentAlert.id.desc())
        .limit(ALERT_LIMIT)
    )
    found: list[FailedAlert] = []
    for alert, request in (await session.execute(stmt)).all():
        params = alert.params or {}
        found.append(
            FailedAlert(
                alert=alert,
                reference=request.reference if request else params.get("reference"),
                kind=request.kind if request else params.get("kind"),
                status=request.status if request else None,
            )
        )
    return found
