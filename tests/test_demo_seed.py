"""Demo seed: the two documented accounts, and the same counts when run twice."""

from __future__ import annotations

from sqlalchemy import func, select

from storage import demo_seed
from storage.db import Database
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Invoice,
    Payment,
    Person,
    SmsMessage,
)

COUNTED = (Account, Person, ApiKey, AccessLogEntry, SmsMessage, Invoice, Payment, Consent)


async def _counts(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in COUNTED
        }


async def test_seed_twice_gives_the_same_counts(db: Database) -> None:
    async with db.transaction() as session:
        first = await demo_seed.seed(session)
    after_first = await _counts(db)
    async with db.transaction() as session:
        second = await demo_seed.seed(session)
    assert first == {"created": 2, "existing": 0}
    assert second == {"created": 0, "existing": 2}
    assert await _counts(db) == after_first
    assert after_first["accounts"] == 2
    assert after_first["sms_messages"] == 2300
    assert after_first["invoices"] == 15


async def test_anna_matches_the_documented_demo_account(seeded: Database) -> None:
    async with seeded.sessions() as session:
        anna = (
            await session.execute(select(Person).where(Person.email == "anna@example.dk"))
        ).scalar_one()
        account = await session.get(Account, anna.account_id)
        messages = await session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.account_id == anna.account_id)
        )
        oldest = await session.scalar(
            select(func.min(SmsMessage.sent_at)).where(SmsMessage.account_id == anna.account_id)
        )
        marketing = await session.scalar(
            select(Consent.granted).where(
                Consent.account_id == anna.account_id, Consent.purpose == "marketing_email"
            )
        )
        invoices = await session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.account_id == anna.account_id)
        )
    assert account is not None and account.company == "Anna's Bageri ApS"
    assert anna.phone == "+4520000001" and anna.preferred_language == "da"
    assert messages == 2000 and invoices == 12 and marketing is True
    assert oldest is not None and oldest.tzinfo is not None
    assert (account.created_at - oldest).days < 0  # every message is newer than the account


async def test_ben_is_english_with_a_uk_number(seeded: Database) -> None:
    async with seeded.sessions() as session:
        ben = (
            await session.execute(select(Person).where(Person.email == "ben@example.com"))
        ).scalar_one()
        account = await session.get(Account, ben.account_id)
        messages = await session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.account_id == ben.account_id)
        )
    assert account is not None and account.company == "Ben's Bikes Ltd"
    assert ben.phone == "+447700900001" and ben.preferred_language == "en"
    assert messages == 300
