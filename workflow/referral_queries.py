"""What agents read about referrals, for the CLI and the console alike.

Read-only, and never the full number or the recipient's words: agents see the masked
number, whether words were given, the sender names, the account and the history. The
controller alone receives the rest, by email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import AuditEntry
from storage.referral_models import Referral, ReferralEvent, ReferralStatus, SmsSuppression
from workflow.referral_lifecycle import OPEN, ReferralNotFound
from workflow.referral_senders import AccountFacts, accounts

LIST_LIMIT = 500
AUDIT_LIMIT = 200
AUDIT_EVENTS = ("referral_opened", "referral_status", "referral_suppressed")
FILTERS = ("open", "all", *(s.value for s in ReferralStatus))


@dataclass(frozen=True, slots=True)
class AgentReferral:
    """One referral as agents see it."""

    reference: str
    kind: str
    status: str
    account_id: int
    company: str | None
    account_status: str | None
    number: str  # masked
    sender_names: tuple[str, ...]
    channel: str
    language: str
    details_given: bool | None  # None once ended (the words are erased then)
    created_at: datetime
    forwarded_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    closed_by: str | None

    @property
    def is_open(self) -> bool:
        return ReferralStatus(self.status) in OPEN

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.reference,
            "kind": self.kind,
            "status": self.status,
            "account_id": self.account_id,
            "company": self.company,
            "account_status": self.account_status,
            "number": self.number,
            "sender_names": list(self.sender_names),
            "channel": self.channel,
            "language": self.language,
            "details_given": self.details_given,
            "created_at": when(self.created_at),
            "forwarded_at": when(self.forwarded_at),
            "acknowledged_at": when(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "closed_at": when(self.closed_at),
            "closed_by": self.closed_by,
        }


def _agent_view(referral: Referral, account: AccountFacts | None) -> AgentReferral:
    ended = ReferralStatus(referral.status) not in OPEN
    return AgentReferral(
        reference=referral.reference,
        kind=str(referral.kind),
        status=str(referral.status),
        account_id=referral.account_id,
        company=account.company if account else None,
        account_status=account.status if account else None,
        number=referral.number_masked,
        sender_names=tuple(referral.sender_names or ()),
        channel=referral.channel,
        language=referral.language,
        details_given=None if ended else referral.details is not None,
        created_at=referral.created_at,
        forwarded_at=referral.forwarded_at,
        acknowledged_at=referral.acknowledged_at,
        acknowledged_by=referral.acknowledged_by,
        closed_at=referral.closed_at,
        closed_by=referral.closed_by,
    )


async def for_agents(session: AsyncSession, wanted: str = "open") -> list[AgentReferral]:
    """Referrals, oldest first; `wanted` is 'open', 'all' or a status (ValueError otherwise)."""
    if wanted not in FILTERS:
        raise ValueError(f"unknown referral status {wanted!r}")
    stmt = select(Referral).order_by(Referral.created_at, Referral.id).limit(LIST_LIMIT)
    if wanted == "open":
        stmt = stmt.where(Referral.status.in_(sorted(OPEN)))
    elif wanted != "all":
        stmt = stmt.where(Referral.status == ReferralStatus(wanted))
    found = (await session.scalars(stmt)).all()
    facts = await accounts(session, [r.account_id for r in found])
    return [_agent_view(r, facts.get(r.account_id)) for r in found]


@dataclass(frozen=True, slots=True)
class ReferralDetail:
    referral: AgentReferral
    suppressed: bool
    events: Sequence[ReferralEvent]
    audit: Sequence[AuditEntry]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.referral.to_json(),
            "suppressed": self.suppressed,
            "history": [
                {
                    "at": e.at.isoformat(),
                    "from": str(e.from_status) if e.from_status else None,
                    "to": str(e.to_status),
                    "actor": e.actor,
                    "note": e.note,
                }
                for e in self.events
            ],
        }


async def detail(session: AsyncSession, reference: str) -> ReferralDetail:
    """One referral with its history and audit entries; ReferralNotFound otherwise."""
    referral = await session.scalar(
        select(Referral).where(Referral.reference == reference.strip().upper())
    )
    if referral is None:
        raise ReferralNotFound(f"no referral {reference.strip()[:20]}")
    account = (await accounts(session, [referral.account_id])).get(referral.account_id)
    events = (
        await session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
    ).all()
    # The chain's entries about referrals carry the reference in `data` (no request id).
    audit = (
        await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.request_id.is_(None),
                AuditEntry.event.in_(AUDIT_EVENTS),
                AuditEntry.data["referral"].as_string() == referral.reference,
            )
            .order_by(AuditEntry.id)
            .limit(AUDIT_LIMIT)
        )
    ).all()
    suppressed = await session.scalar(
        select(SmsSuppression.id).where(SmsSuppression.referral_id == referral.id)
    )
    return ReferralDetail(_agent_view(referral, account), suppressed is not None, events, audit)
