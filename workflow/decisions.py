"""What agents do with a request: approve, reject, extend the deadline, answer a review.

Used by the CLI now and by Slack or a web console later, so every refusal is a domain
exception with a message fit to show an agent (no personal data). Each operation runs
in the caller's transaction and locks the request row first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import Action, Approval, PrivacyRequest, RequestEvent
from storage.types import utcnow
from workflow import agent_identities, audit, deadlines, lifecycle, notifications, queue
from workflow.approvals import Agent, ApprovalPolicy
from workflow.lifecycle import (
    ActionStatus,
    InvalidTransition,
    NotFound,
    Status,
    WorkflowError,
)
from workflow.requests import cancel_actions

__all__ = [
    "AlreadyDecided",
    "ExtensionRefused",
    "InvalidTransition",
    "NotFound",
    "ReasonRequired",
    "SelfApprovalRefused",
    "WorkflowError",
    "answer",
    "approve",
    "extend",
    "reject",
]

MAX_REASON = 1000


class SelfApprovalRefused(WorkflowError):
    """The agent is the person who made the request."""


class AlreadyDecided(WorkflowError):
    """The request was decided already, or this agent has already approved it."""


class ReasonRequired(WorkflowError):
    """Rejections, extensions and review answers must say why; the customer reads it."""


class ExtensionRefused(WorkflowError):
    """Past the original deadline, beyond three months in total, or on a closed request."""


def _actor(agent: Agent) -> str:
    return f"agent:{agent.name}"[:100]


def _reason(reason: str | None, what: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ReasonRequired(f"{what} needs a reason; the customer is told it")
    return cleaned[:MAX_REASON]


async def _load_for(
    session: AsyncSession, reference: str, agent: Agent
) -> tuple[PrivacyRequest, agent_identities.Identities]:
    """The request, locked, unless the agent made it (through any of their identities) or
    it concerns an account with one of their contacts."""
    request = await lifecycle.load(session, reference=reference)
    mine = await agent_identities.of(session, agent)
    if await agent_identities.is_own_request(session, agent, request, mine):
        raise SelfApprovalRefused(
            f"{request.reference} was requested by you or concerns your own account; "
            "another agent must decide it"
        )
    return request, mine


def _awaiting(request: PrivacyRequest) -> None:
    if request.status == Status.AWAITING_APPROVAL:
        return
    if request.status in lifecycle.CLOSED or request.status in (
        Status.APPROVED,
        Status.IN_PROGRESS,
    ):
        raise AlreadyDecided(f"{request.reference} is already {request.status}")
    raise InvalidTransition(request.reference, request.status, Status.APPROVED)


async def approve(
    session: AsyncSession,
    reference: str,
    agent: Agent,
    now: datetime | None = None,
    *,
    policy: ApprovalPolicy | None = None,
) -> PrivacyRequest:
    """Record the agent's approval; with enough approvers, approve and enqueue the work."""
    now = now or utcnow()
    policy = policy or ApprovalPolicy()
    request, identities = await _load_for(session, reference, agent)
    _awaiting(request)
    given_by = await session.scalars(
        select(Approval.approver).where(
            Approval.request_id == request.id, Approval.decision == "approve"
        )
    )
    if any(agent_identities.is_mine(agent, identities, name) for name in given_by):
        raise AlreadyDecided(
            f"you have already approved {request.reference}; a different agent must approve it"
        )
    session.add(Approval(request_id=request.id, approver=agent.name, decision="approve", at=now))
    await session.flush()
    given = int(
        await session.scalar(
            select(func.count()).where(
                Approval.request_id == request.id, Approval.decision == "approve"
            )
        )
        or 0
    )
    needed = policy.approvals_needed(request.kind)
    if given < needed:
        await audit.append(
            session,
            actor=_actor(agent),
            event="approval_recorded",
            request_id=request.id,
            data={"kind": request.kind, "approvals": given, "needed": needed},
            now=now,
        )
        return request
    names = (
        await session.scalars(
            select(Approval.approver)
            .where(Approval.request_id == request.id, Approval.decision == "approve")
            .order_by(Approval.id)
        )
    ).all()
    request.decided_by = ", ".join(names)[:100]
    await lifecycle.transition(
        session,
        request,
        Status.APPROVED,
        actor=_actor(agent),
        now=now,
        audit_data={"approvals": given},
    )
    queue.enqueue(session, request, now=now, max_attempts=policy.max_attempts)
    notifications.notify(session, request, "approved", now=now)
    return request


async def reject(
    session: AsyncSession,
    reference: str,
    agent: Agent,
    reason: str,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Refuse the request; the customer receives the reason (and their right to complain)."""
    now = now or utcnow()
    why = _reason(reason, "a rejection")
    request, _identities = await _load_for(session, reference, agent)
    _awaiting(request)
    mine = await session.scalar(
        select(Approval).where(Approval.request_id == request.id, Approval.approver == agent.name)
    )
    if mine is None:
        session.add(Approval(request_id=request.id, approver=agent.name, decision="reject", at=now))
    else:  # an agent who approved first (of two) may still change their mind
        mine.decision, mine.at = "reject", now
    request.decided_by = agent.name[:100]
    request.decision_reason = why
    await cancel_actions(session, request.id, now=now, why="request rejected")
    await lifecycle.transition(
        session,
        request,
        Status.REJECTED,
        actor=_actor(agent),
        now=now,
        reason=why,
        audit_data={"reason_length": len(why)},
    )
    notifications.notify(session, request, "rejected", now=now, params={"reason": why})
    return request


async def extend(
    session: AsyncSession,
    reference: str,
    agent: Agent,
    reason: str,
    months: int = 1,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Extend the deadline by one or two months (three in all), before the first one ends."""
    now = now or utcnow()
    why = _reason(reason, "an extension")
    if months not in (1, 2):
        raise ExtensionRefused("an extension is by 1 or 2 months")
    request, _identities = await _load_for(session, reference, agent)
    if request.status in lifecycle.CLOSED:
        raise ExtensionRefused(f"{request.reference} is already {request.status}")
    original = deadlines.due_date(request.received_at)
    if now >= original:
        raise ExtensionRefused(
            f"the original deadline of {request.reference} has passed; "
            "an extension must be announced within the first month"
        )
    total = request.extension_months + months
    if total > deadlines.MAX_EXTENSION_MONTHS:
        raise ExtensionRefused(
            f"{request.reference} is already extended by {request.extension_months} "
            f"month(s); at most {deadlines.MAX_EXTENSION_MONTHS} in total"
        )
    request.extension_months = total
    request.extended = True
    request.extension_reason = why
    request.due_at = deadlines.due_date(request.received_at, total)
    request.updated_at = now
    session.add(
        RequestEvent(
            request_id=request.id,
            at=now,
            from_status=request.status,
            to_status=request.status,
            actor=_actor(agent),
            reason=f"deadline extended by {months} month(s): {why}",
        )
    )
    await audit.append(
        session,
        actor=_actor(agent),
        event="extended",
        request_id=request.id,
        data={"kind": request.kind, "months": months, "total_months": total},
        now=now,
    )
    notifications.notify(session, request, "extended", now=now, params={"reason": why})
    return request


async def waits_for_a_person(session: AsyncSession, request: PrivacyRequest) -> bool:
    """A human review, or a request whose action handed it to a person (`needs_person`)."""
    if request.kind == "human_review":
        return True
    results = (
        await session.scalars(
            select(Action.result).where(
                Action.request_id == request.id, Action.status == ActionStatus.DONE
            )
        )
    ).all()
    return any(
        isinstance(r, dict) and isinstance(r.get("effects"), dict) and r["effects"].get("by_person")
        for r in results
    )


async def answer(
    session: AsyncSession,
    reference: str,
    agent: Agent,
    text: str,
    now: datetime | None = None,
) -> PrivacyRequest:
    """An agent's answer to a request only a person can answer: a human review (Art. 22)
    or a correction the system cannot make itself. It completes the request."""
    now = now or utcnow()
    reply = _reason(text, "an answer")
    request, _identities = await _load_for(session, reference, agent)
    if not await waits_for_a_person(session, request):
        raise InvalidTransition(request.reference, request.status, Status.COMPLETED)
    if request.status in lifecycle.CLOSED:
        raise AlreadyDecided(f"{request.reference} is already {request.status}")
    if request.status != Status.IN_PROGRESS:
        raise InvalidTransition(request.reference, request.status, Status.COMPLETED)
    request.decided_by = agent.name[:100]
    request.decision_reason = reply
    await lifecycle.transition(
        session,
        request,
        Status.COMPLETED,
        actor=_actor(agent),
        now=now,
        audit_data={"answer_length": len(reply)},
    )
    notifications.notify(session, request, "completed", now=now, params={"answer": reply})
    return request
