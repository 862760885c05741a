"""The request lifecycle: which status may follow which, and the one door to change it.

received → awaiting_verification → verified → awaiting_approval → approved →
in_progress → completed, with rejected, cancelled and failed as ends (DESIGN.md).
Every change goes through `transition`, which refuses what the table does not allow
and writes the status history row and the audit entry in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
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

ALLOWED: dict[str, frozenset[str]] = {
    "received": frozenset({"awaiting_verification", "rejected", "cancelled"}),
    "awaiting_verification": frozenset({"verified", "rejected", "cancelled"}),
    "verified": frozenset({"awaiting_approval", "approved", "rejected", "cancelled"}),
    "awaiting_approval": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"in_progress", "cancelled", "failed"}),
    "in_progress": frozenset({"completed", "failed"}),
    "completed": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset(),
}
STATUSES = tuple(ALLOWED)
CLOSED = frozenset(status for status, nexts in ALLOWED.items() if not nexts)
OPEN = frozenset(STATUSES) - CLOSED
# Before the work starts the customer may still withdraw the request.
CANCELLABLE = frozenset(
    {"received", "awaiting_verification", "verified", "awaiting_approval", "approved"}
)
# Parameters that tell an agent or executor what to do without being personal data;
# everything else in `details` is dropped when the request closes.
_KEPT_DETAILS = frozenset({"field", "fields", "purposes", "lift", "format"})


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
    return {key: value for key, value in details.items() if key in _KEPT_DETAILS}


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
        if target == "completed":
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
