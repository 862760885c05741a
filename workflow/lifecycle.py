"""The request lifecycle: which status may follow which, and the one door to change it.

received → awaiting_verification → verified → awaiting_approval → approved →
in_progress → completed, with rejected, cancelled and failed as ends (DESIGN.md).
Every change goes through `transition`, which refuses what the table does not allow
and writes the status history row and the audit entry in the caller's transaction.

The statuses of requests (`Status`) and of their queued actions (`ActionStatus`) are
named here, once; the database keeps their string values, and code elsewhere compares
with the members, never with string literals.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import PrivacyRequest, RequestEvent
from workflow import audit

KINDS = (
    "access",
    "portability",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "human_review",
)


class Status(StrEnum):
    """A privacy request's status (`privacy_requests.status`)."""

    RECEIVED = "received"
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ActionStatus(StrEnum):
    """A queued action's status (`actions.status`)."""

    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_S = Status
ALLOWED: dict[str, frozenset[str]] = {
    _S.RECEIVED: frozenset({_S.AWAITING_VERIFICATION, _S.REJECTED, _S.CANCELLED}),
    _S.AWAITING_VERIFICATION: frozenset({_S.VERIFIED, _S.REJECTED, _S.CANCELLED}),
    _S.VERIFIED: frozenset({_S.AWAITING_APPROVAL, _S.APPROVED, _S.REJECTED, _S.CANCELLED}),
    _S.AWAITING_APPROVAL: frozenset({_S.APPROVED, _S.REJECTED, _S.CANCELLED}),
    _S.APPROVED: frozenset({_S.IN_PROGRESS, _S.CANCELLED, _S.FAILED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.FAILED}),
    _S.COMPLETED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.FAILED: frozenset(),
}
STATUSES = tuple(ALLOWED)
CLOSED = frozenset(status for status, nexts in ALLOWED.items() if not nexts)
OPEN = frozenset(STATUSES) - CLOSED
# Before the work starts the customer may still withdraw the request.
CANCELLABLE = frozenset(
    {_S.RECEIVED, _S.AWAITING_VERIFICATION, _S.VERIFIED, _S.AWAITING_APPROVAL, _S.APPROVED}
)
# Parameters that tell an agent or executor what to do without being personal data:
# all that agents see of `details` (workflow.agent_view) and all a closed request keeps.
NON_PERSONAL_DETAILS = frozenset({"field", "fields", "purposes", "lift", "format", "confirmed"})


class WorkflowError(Exception):
    """A domain refusal; the message is shown to agents and holds no personal data."""


class NotFound(WorkflowError):
    """No request with that reference."""


class InvalidTransition(WorkflowError):
    """The lifecycle does not allow this change (the message names both statuses)."""

    def __init__(self, reference: str, current: str, target: str) -> None:
        super().__init__(f"request {reference} cannot go from {current} to {target}")
        self.current = current
        self.target = target


async def load(
    session: AsyncSession,
    *,
    reference: str | None = None,
    request_id: int | None = None,
    lock: bool = True,
) -> PrivacyRequest:
    """The request by reference or id, row-locked on PostgreSQL; NotFound otherwise.

    Lock order, everywhere: the request row, then its action rows, then the audit chain.
    """
    stmt = select(PrivacyRequest)
    if reference is not None:
        stmt = stmt.where(PrivacyRequest.reference == reference.strip().upper())
    elif request_id is not None:
        stmt = stmt.where(PrivacyRequest.id == request_id)
    else:
        raise ValueError("give a reference or a request id")
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt.execution_options(populate_existing=True))).scalar()
    if found is None:
        raise NotFound(f"no request {reference or request_id}")
    return found


async def load_unless_locked(session: AsyncSession, request_id: int) -> PrivacyRequest | None:
    """The request, row-locked on PostgreSQL, or None when another transaction holds it
    (SKIP LOCKED): for a caller that already holds action rows and must not wait for a
    request lock out of the usual order."""
    stmt = (
        select(PrivacyRequest)
        .where(PrivacyRequest.id == request_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar()


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED.get(current, frozenset())


def scrub_details(details: dict[str, Any]) -> dict[str, Any]:
    """Keep only the non-personal parameters (e.g. a rectification keeps the field name)."""
    return {key: value for key, value in details.items() if key in NON_PERSONAL_DETAILS}


async def transition(
    session: AsyncSession,
    request: PrivacyRequest,
    target: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    audit_data: dict[str, Any] | None = None,
) -> None:
    """Move `request` to `target`, or raise InvalidTransition.

    `reason` goes to the status history (agents read it); `audit_data` must hold no
    personal data. Closing a request scrubs its details.
    """
    data = move(session, request, target, actor=actor, now=now, reason=reason)
    await audit_move(session, request, data, actor=actor, now=now, extra=audit_data)


def move(
    session: AsyncSession,
    request: PrivacyRequest,
    target: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """The row changes of `transition` without its audit entry, which the caller appends
    with `audit_move` (a caller that must audit something else first, and wants these
    rows written before it takes the audit chain's lock). Returns the entry's data."""
    current = request.status
    if not can_move(current, target):
        raise InvalidTransition(request.reference, current, target)
    request.status = target
    request.updated_at = now
    if target in CLOSED:
        request.details = scrub_details(request.details or {})
        if target == Status.COMPLETED:
            request.completed_at = now
    session.add(
        RequestEvent(
            request_id=request.id,
            at=now,
            from_status=current,
            to_status=target,
            actor=actor,
            reason=reason,
        )
    )
    return {"kind": request.kind, "from": current, "to": target}


async def audit_move(
    session: AsyncSession,
    request: PrivacyRequest,
    data: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """The audit entry of a `move`."""
    data = {**data, **(extra or {})}
    await audit.append(
        session, actor=actor, event="status", request_id=request.id, data=data, now=now
    )
