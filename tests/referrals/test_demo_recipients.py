"""The demo's SMS recipients: who sent to them, when, and that seeding stays idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage import datamap, demo_seed
from storage.db import Database
from storage.models import Account, SmsMessage
from storage.types import utcnow
from tests.referrals.conftest import ANONYMISED, BEN_ONLY, BOTH


async def _messages(db: Database, recipient: str) -> list[tuple[str | None, str | None, bool]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Account.company, SmsMessage.sender_name, SmsMessage.sent_at, SmsMessage.content)
            .join(Account, Account.id == SmsMessage.account_id)
            .where(SmsMessage.recipient == recipient)
            .order_by(SmsMessage.sent_at)
        )
        window = utcnow() - timedelta(days=datamap.sms_retention_days())
        return [(company, name, sent >= window) for company, name, sent, _text in rows.all()]


async def test_the_demo_recipients(seeded: Database) -> None:
    both = await _messages(seeded, BOTH)
    assert {(c, n) for c, n, _recent in both} == {
        ("Anna's Bageri ApS", "AnnasBageri"),
        ("Ben's Bikes Ltd", "BensBikes"),
    }
    assert len(both) == 5 and all(recent for *_x, recent in both)
    ben_only = await _messages(seeded, BEN_ONLY)
    assert {(c, n) for c, n, _r in ben_only} == {("Ben's Bikes Ltd", "BensBikes")}
    assert all(recent for *_x, recent in ben_only)
    assert await _messages(seeded, ANONYMISED) == [], "its last 4 digits are masked"
    masked = await _messages(seeded, datamap.mask_last4(ANONYMISED))
    assert len(masked) == 3 and not any(recent for *_x, recent in masked)
    async with seeded.sessions() as session:
        contents = set(
            await session.scalars(
                select(SmsMessage.content).where(
                    SmsMessage.recipient == datamap.mask_last4(ANONYMISED)
                )
            )
        )
    assert contents == {datamap.ANONYMISED}


async def test_every_demo_message_carries_its_account_s_sender_name(seeded: Database) -> None:
    async with seeded.sessions() as session:
        names = (
            await session.execute(
                select(Account.company, SmsMessage.sender_name, func.count())
                .join(Account, Account.id == SmsMessage.account_id)
                .group_by(Account.company, SmsMessage.sender_name)
            )
        ).all()
    assert sorted(names) == [
        ("Anna's Bageri ApS", "AnnasBageri", 2000),
        ("Ben's Bikes Ltd", "BensBikes", 300),
    ]


async def test_seeding_again_adds_no_recipient_messages(seeded: Database) -> None:
    before = await _messages(seeded, BOTH)
    async with seeded.transaction() as session:
        assert await demo_seed.seed(session) == {"created": 0, "existing": 2}
    assert await _messages(seeded, BOTH) == before
