"""A referral's lifecycle: which status may follow which, and the one door to change it.

opened → forwarded → acknowledged → closed, and account_gone when the sending account is
closed or gone. Every change writes the status history row and an audit entry in the
caller's transaction; an ended referral forgets the sealed number and the recipient's
words (the controller has them), keeping the hash, the masked number and the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.referral_models import Referral, ReferralEvent, ReferralStatus
from workflow import audit
from workflow.lifecycle import NotFound, WorkflowError
from workflow.requests import new_reference

S = ReferralStatus
ALLOWED: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    # An agent may acknowledge one never emailed (no contact on the account): they
    # passed it on by hand.
    S.OPENED: frozenset({S.FORWARDED, S.ACKNOWLEDGED, S.CLOSED, S.ACCOUNT_GONE}),
    S.FORWARDED: frozenset({S.ACKNOWLEDGED, S.CLOSED, S.ACCOUNT_GONE}),
    S.ACKNOWLEDGED: frozenset({S.CLOSED, S.ACCOUNT_GONE}),
    S.CLOSED: frozenset(),
    S.ACCOUNT_GONE: frozenset(),
}
ENDED = frozenset(status for status, nexts in ALLOWED.items() if not nexts)
OPEN = frozenset(ReferralStatus) - ENDED
RECIPIENT = "recipient"
SYSTEM = "system"
CONTROLLER = "controller"


class ReferralNotFound(NotFound):
    """No referral with that reference."""


class ReferralRefused(WorkflowError):
    """The lifecycle does not allow this change (the message names both statuses)."""

    def __init__(self, reference: str, current: ReferralStatus, target: ReferralStatus) -> None:
        super().__init__(f"referral {reference} cannot go from {current} to {target}")
        self.current = current
        self.target = target


async def unique_reference(session: AsyncSession) -> str:
    """A free `RF-XXXXXX` reference."""
    for _attempt in range(10):
        reference = new_reference("RF")
        taken = await session.scalar(select(Referral.id).where(Referral.reference == reference))
        if taken is None:
            return reference
    raise RuntimeError("could not find a free referral reference")


async def load(session: AsyncSession, reference: str, *, lock: bool = True) -> Referral:
    """The referral by reference (any case, spaces ignored), row-locked on PostgreSQL."""
    stmt = select(Referral).where(Referral.reference == reference.strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt.execution_options(populate_existing=True))).scalar()
    if found is None:
        raise ReferralNotFound(f"no referral {reference.strip()[:20]}")
    return found


def audit_data(referral: Referral, **extra: Any) -> dict[str, Any]:
    """What the audit chain records of a referral: never the number or the recipient's words."""
    return {
        "referral": referral.reference,
        "kind": str(referral.kind),
        "account_id": referral.account_id,
        **extra,
    }


def record(
    session: AsyncSession,
    referral: Referral,
    previous: ReferralStatus | None,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            from_status=previous,
            to_status=referral.status,
            actor=actor,
            note=note,
        )
    )


async def transition(
    session: AsyncSession,
    referral: Referral,
    target: ReferralStatus,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    """Move `referral` to `target`, or raise ReferralRefused."""
    current = referral.status
    if target not in ALLOWED[current]:
        raise ReferralRefused(referral.reference, current, target)
    referral.status = target
    referral.updated_at = now
    if target is S.FORWARDED:
        referral.forwarded_at = now
    elif target is S.ACKNOWLEDGED:
        referral.acknowledged_at, referral.acknowledged_by = now, actor
    if target in ENDED:
        referral.closed_at, referral.closed_by = now, actor
        referral.number_sealed = None
        referral.details = None
    record(session, referral, current, actor=actor, now=now, note=note)
    await audit.append(
        session,
        actor=actor,
        event="referral_status",
        request_id=None,
        data=audit_data(referral, **{"from": str(current), "to": str(target)}),
        now=now,
    )
