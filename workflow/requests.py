"""The API the conversation handlers call: open a request, list a customer's, cancel one.

Everything happens in the caller's transaction (the conversation turn), so the request,
its history, its audit entries, its notifications and, when no agent is needed, its
queued action are stored together or not at all (transactional outbox).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import Action, Notification, PrivacyRequest, RequestEvent
from storage.types import utcnow
from workflow import alerts, audit, deadlines, lifecycle, notifications, queue
from workflow.approvals import ApprovalPolicy
from workflow.lifecycle import ActionStatus, Status

RECENT = timedelta(days=90)
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed safely
CUSTOMER = "customer"


class NotVerified(Exception):
    """A request cannot reach approval unless the customer was verified (Art. 12(6))."""


def new_reference(prefix: str = "PR") -> str:
    """A short, unguessable, human-friendly reference such as PR-7K3F9Q (RF-… a referral)."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


async def _unique_reference(session: AsyncSession) -> str:
    for _attempt in range(10):
        reference = new_reference()
        taken = await session.scalar(
            select(PrivacyRequest.id).where(PrivacyRequest.reference == reference)
        )
        if taken is None:
            return reference
    raise RuntimeError("could not find a free request reference")


async def open_request(
    session: AsyncSession,
    *,
    kind: str,
    account_id: int,
    conversation_id: str | None,
    channel: str,
    language: str,
    verified_via: str | None,
    details: dict[str, Any],
    requester_ref: str,
    now: datetime | None = None,
    policy: ApprovalPolicy | None = None,
    said_in_turn: bool = True,
) -> PrivacyRequest:
    """Record a verified customer's request and route it by the approval policy.

    `said_in_turn`: the handler tells the customer the reference and due date in the
    same turn (handlers.privacy.submit does), so those notifications are recorded as
    delivered instead of being sent a second time.
    """
    if kind not in lifecycle.KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    if not verified_via:
        raise NotVerified("a request cannot reach approval unless the customer was verified")
    now = now or utcnow()
    policy = policy or ApprovalPolicy()
    request = PrivacyRequest(
        reference=await _unique_reference(session),
        kind=kind,
        status=Status.RECEIVED,
        account_id=account_id,
        channel=channel,
        conversation_id=conversation_id,
        language=language,
        verified_via=verified_via,
        requester_ref=requester_ref,
        details=dict(details),
        received_at=now,
        due_at=deadlines.due_date(now),
        extended=False,
        extension_months=0,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    session.add(
        RequestEvent(
            request_id=request.id,
            at=now,
            from_status=None,
            to_status=Status.RECEIVED,
            actor=CUSTOMER,
        )
    )
    await audit.append(
        session,
        actor=CUSTOMER,
        event="received",
        request_id=request.id,
        data={
            "kind": kind,
            "channel": channel,
            "detail_fields": sorted(details),
            "requester": requester_ref[:16],
        },
        now=now,
    )
    notifications.notify(session, request, "received", now=now, delivered=said_in_turn)
    await lifecycle.transition(
        session, request, Status.AWAITING_VERIFICATION, actor="system", now=now
    )
    await lifecycle.transition(
        session,
        request,
        Status.VERIFIED,
        actor=CUSTOMER,
        now=now,
        audit_data={"verified_via": verified_via},
    )
    if policy.needs_agent(kind):
        await lifecycle.transition(
            session, request, Status.AWAITING_APPROVAL, actor="policy", now=now
        )
        notifications.notify(session, request, "awaiting_approval", now=now, delivered=said_in_turn)
        await alerts.raise_alert(
            session,
            "awaiting_approval",
            now=now,
            request=request,
            params={"approvals_needed": policy.approvals_needed(kind)},
        )
    else:
        await lifecycle.transition(session, request, Status.APPROVED, actor="policy", now=now)
        queue.enqueue(session, request, now=now, max_attempts=policy.max_attempts)
        notifications.notify(session, request, "approved", now=now, delivered=said_in_turn)
    return request


async def customer_requests(
    session: AsyncSession, account_id: int, now: datetime | None = None
) -> Sequence[PrivacyRequest]:
    """The account's open requests and those closed in the last 90 days, newest first."""
    since = (now or utcnow()) - RECENT
    stmt = (
        select(PrivacyRequest)
        .where(
            PrivacyRequest.account_id == account_id,
            or_(
                PrivacyRequest.status.in_(lifecycle.OPEN),
                PrivacyRequest.updated_at >= since,
            ),
        )
        .order_by(PrivacyRequest.received_at.desc(), PrivacyRequest.id.desc())
    )
    return (await session.execute(stmt)).scalars().all()


async def cancel_by_customer(
    session: AsyncSession, reference: str, account_id: int, now: datetime | None = None
) -> PrivacyRequest | None:
    """Withdraw a request before the work starts; None when it cannot be cancelled
    (unknown, someone else's, already being carried out, or closed).
    """
    now = now or utcnow()
    try:
        request = await lifecycle.load(session, reference=reference)
    except lifecycle.NotFound:
        return None
    if request.account_id != account_id or request.status not in lifecycle.CANCELLABLE:
        return None
    await cancel_actions(session, request.id, now=now, why="request cancelled")
    await lifecycle.transition(session, request, Status.CANCELLED, actor=CUSTOMER, now=now)
    notifications.notify(session, request, "cancelled", now=now, delivered=True)
    return request


async def cancel_actions(session: AsyncSession, request_id: int, *, now: datetime, why: str) -> int:
    """Take the request's queued actions off the queue (a claimed one stops at its start)."""
    result = await session.execute(
        update(Action)
        .where(Action.request_id == request_id, Action.status == ActionStatus.READY)
        .values(status=ActionStatus.FAILED, last_error=why, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def result_links(
    session: AsyncSession, request_ids: Sequence[int], now: datetime
) -> dict[int, str]:
    """The download link each finished request delivered, while it is still valid."""
    if not request_ids:
        return {}
    rows = (
        await session.execute(
            select(Notification.request_id, Notification.params)
            .where(
                Notification.request_id.in_(list(request_ids)), Notification.event == "completed"
            )
            .order_by(Notification.id)
        )
    ).all()
    links: dict[int, str] = {}
    for request_id, params in rows:
        url = (params or {}).get("download_url") or (params or {}).get("receipt_url")
        expires = (params or {}).get("expires_at")
        if url and (not isinstance(expires, str) or datetime.fromisoformat(expires) > now):
            links[int(request_id)] = str(url)
    return links
