"""With the account store in another database (ACCOUNT_STORE_URL), referrals read the
messages and accounts there and keep their own rows, emails and audit in the bot's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from storage import account_store
from storage.db import Database
from storage.referral_models import Referral
from storage.types import utcnow
from tests.conftest import Backends
from tests.referrals.conftest import BOTH, SECRET, account_of, emails, forward, set_account
from workflow import referral_queries, referrals


@pytest.fixture
async def bot(backend: str, backends: Backends, seeded: Database) -> AsyncIterator[Database]:
    """A migrated bot database with no accounts of its own; `seeded` is its account store."""
    database = Database(backends.sqlite(True) if backend == "sqlite" else backends.postgres(True))
    account_store.attach(database, seeded)
    yield database
    account_store.detach(database)
    await database.dispose()


async def _referral_rows(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


async def test_senders_and_forwarding_read_the_store_and_write_the_bot_database(
    bot: Database, seeded: Database
) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    await set_account(seeded, anna, name_shown_to_recipients=True)
    async with bot.sessions() as session:
        found = await referrals.senders_for_number(session, BOTH, utcnow())
    assert {s.sender_names for s in found} == {("AnnasBageri",), ("BensBikes",)}
    views = await forward(bot, BOTH)
    assert sorted(v.company or "" for v in views) == ["", "Anna's Bageri ApS"]
    assert sorted(e.to for e in await emails(bot)) == ["anna@example.dk", "ben@example.com"]
    assert (await _referral_rows(bot), await _referral_rows(seeded)) == (2, 0)
    async with bot.sessions() as session:
        later = await referrals.referrals_for_number(session, BOTH, secret=SECRET)
        listed = await referral_queries.for_agents(session)
    assert sorted(v.company or "" for v in later) == ["", "Anna's Bageri ApS"]
    assert {(r.company, r.account_status) for r in listed} == {
        ("Anna's Bageri ApS", "active"),
        ("Ben's Bikes Ltd", "active"),
    }
