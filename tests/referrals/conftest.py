"""Helpers for the referral tests: the demo recipients, forwarding, reading rows back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.db import Database
from storage.models import Account, OutboxMessage, Person
from storage.referral_models import Referral, ReferralEvent
from storage.types import utcnow
from tests.conftest import TEST_SECRET
from workflow import referrals

SECRET = TEST_SECRET.encode()
PUBLIC_URL = "http://127.0.0.1:8080"
BOTH = "+4531000003"  # recent messages from Anna's and Ben's accounts
BEN_ONLY = "+447700900555"  # recent messages from Ben's account only
ANONYMISED = "+4531000004"  # only old messages, anonymised by the retention sweep
UNKNOWN = "+4531999999"


async def account_of(db: Database, email: str) -> int:
    async with db.sessions() as session:
        found = await session.scalar(select(Person.account_id).where(Person.email == email))
    assert found is not None
    return int(found)


async def set_account(db: Database, account_id: int, **values: Any) -> None:
    async with db.transaction() as session:
        await session.execute(update(Account).where(Account.id == account_id).values(**values))


async def senders(db: Database, number: str, now: datetime | None = None) -> list[Any]:
    async with db.sessions() as session:
        return await referrals.senders_for_number(session, number, now or utcnow())


async def forward(
    db: Database,
    number: str,
    account_ids: Sequence[int] | None = None,
    *,
    kind: str = "erasure",
    details: str | None = "Please delete my number.",
    now: datetime | None = None,
    language: str = "en",
) -> list[referrals.ReferralView]:
    now = now or utcnow()
    async with db.transaction() as session:
        if account_ids is None:
            found = await referrals.senders_for_number(session, number, now)
            account_ids = [s.account_id for s in found]
        return await referrals.forward(
            session,
            number,
            account_ids,
            kind,
            details,
            None,
            "webchat",
            language,
            now,
            secret=SECRET,
            public_url=PUBLIC_URL,
        )


async def emails(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "email")
                .order_by(OutboxMessage.id)
            )
        )


async def referral(db: Database, reference: str) -> Referral:
    async with db.sessions() as session:
        found = await session.scalar(select(Referral).where(Referral.reference == reference))
    assert found is not None
    return found


async def history(db: Database, reference: str) -> list[tuple[str | None, str, str]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(ReferralEvent.from_status, ReferralEvent.to_status, ReferralEvent.actor)
            .join(Referral, Referral.id == ReferralEvent.referral_id)
            .where(Referral.reference == reference)
            .order_by(ReferralEvent.id)
        )
        return [(f and str(f), str(t), a) for f, t, a in rows.all()]
