"""Issue 13.1: a one-time code cannot be guessed.

Before: once an account had its five codes in an hour, further code requests sent nothing
but still stored a live code row that `check()` accepted, and only per-conversation and
per-process limits applied, so new conversations gave an unbounded number of guesses.
Now a code that was not delivered can never match, and wrong codes are counted per
account in the database: the tenth within an hour locks every code (even the right one)
until the hour has passed or an agent unlocks it; the agents are alerted and the holder
is told. An unknown address behaves exactly the same, so nothing reveals an account.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from storage import conversations, demo_seed
from storage.db import Database
from storage.models import Conversation, OutboxMessage, VerificationCode
from storage.privacy_models import AgentAlert, AuditEntry
from storage.types import utcnow
from tests.conftest import TEST_SECRET
from workflow import code_guard, identity
from workflow.identity import CheckOutcome, Contact, StartOutcome

SECRET = TEST_SECRET.encode()
ANNA = Contact("email", "anna@example.dk")
NOBODY = Contact("email", "nobody@example.org")


async def _start(db: Database, contact: Contact, now: datetime) -> str:
    """A new conversation that asked for a code for `contact`; its id."""
    async with db.transaction() as session:
        conversation = conversations.create(session, "webchat", locale="en")
        await session.flush()
        outcome = await identity.start(session, conversation, contact, secret=SECRET, now=now)
        assert outcome is StartOutcome.SENT
        return conversation.id


async def _check(db: Database, conversation_id: str, code: str, now: datetime) -> CheckOutcome:
    async with db.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        result = await identity.check(session, conversation, code, secret=SECRET, now=now)
        return result.outcome


async def _delivered_code(db: Database, to: str) -> str:
    async with db.sessions() as session:
        texts = list(
            await session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.to == to)
                .order_by(OutboxMessage.id.desc())
            )
        )
    code = identity.parse_code(texts[0])
    assert code is not None
    return code


async def _guess_ten_times(db: Database, contact: Contact, now: datetime) -> list[CheckOutcome]:
    """Ten wrong codes spread over three conversations (4 + 4 + 2)."""
    outcomes: list[CheckOutcome] = []
    for tries in (4, 4, 2):
        conversation_id = await _start(db, contact, now)
        outcomes += [await _check(db, conversation_id, "000000", now) for _ in range(tries)]
    return outcomes


async def test_ten_wrong_codes_across_conversations_lock_even_the_right_code(
    seeded: Database,
) -> None:
    now = utcnow()
    holder = await _start(seeded, ANNA, now)
    right = await _delivered_code(seeded, "anna@example.dk")
    assert right != "000000"
    outcomes = await _guess_ten_times(seeded, ANNA, now)
    assert outcomes == [CheckOutcome.WRONG] * 9 + [CheckOutcome.LOCKED]
    assert await _check(seeded, holder, right, now) is CheckOutcome.LOCKED, "right code refused"
    later = await _start(seeded, ANNA, now + timedelta(minutes=5))
    assert await _check(seeded, later, "000000", now + timedelta(minutes=5)) is (
        CheckOutcome.LOCKED
    ), "wrong tries while locked are refused without being compared"

    async with seeded.sessions() as session:
        failures = await code_guard.wrong_tries(session, "account:1", now)
        alerts = list(await session.scalars(select(AgentAlert)))
        sent = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert failures == 10, "refused tries while locked are not counted"
    assert [(a.event, a.params["account_id"]) for a in alerts] == [("code_locked", 1)]
    notice = [m for m in sent if m.subject and "pause" in m.subject.lower()]
    assert len(notice) == 1, [m.subject for m in sent]
    assert notice[0].to == "anna@example.dk" and notice[0].channel == "email"
    assert "Nogen har tastet en forkert bekræftelseskode" in notice[0].text, "Anna's language"
    codes_sent = [m for m in sent if m.subject != notice[0].subject]
    assert len(codes_sent) == 4, "the code asked for while locked (the fifth) was not delivered"

    # an hour after the tenth wrong code, codes work again
    hour_later = now + timedelta(hours=1, seconds=1)
    fresh = await _start(seeded, ANNA, hour_later)
    code = await _delivered_code(seeded, "anna@example.dk")
    assert await _check(seeded, fresh, code, hour_later) is CheckOutcome.VERIFIED


async def test_a_code_that_was_not_delivered_can_never_verify(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    for _ in range(identity.CODES_PER_ACCOUNT_PER_HOUR):
        await _start(seeded, ANNA, now)
    monkeypatch.setattr(identity.secrets, "randbelow", lambda _n: 424242)
    sixth = await _start(seeded, ANNA, now)
    async with seeded.sessions() as session:
        delivered = await session.scalar(select(func.count()).select_from(OutboxMessage))
        row = (
            await session.scalars(
                select(VerificationCode).where(VerificationCode.conversation_id == sixth)
            )
        ).one()
    assert delivered == identity.CODES_PER_ACCOUNT_PER_HOUR
    assert not row.delivered, "no live code row without a delivered code"
    assert await _check(seeded, sixth, "424242", now) is CheckOutcome.WRONG


async def test_an_unknown_address_behaves_exactly_like_a_known_one(seeded: Database) -> None:
    now = utcnow()
    known = await _guess_ten_times(seeded, Contact("email", "ben@example.com"), now)
    unknown = await _guess_ten_times(seeded, NOBODY, now)
    assert known == unknown == [CheckOutcome.WRONG] * 9 + [CheckOutcome.LOCKED]
    async with seeded.sessions() as session:
        alerts = list(await session.scalars(select(AgentAlert.params)))
    assert alerts == [{"account_id": 2, "until": alerts[0]["until"]}], "no alert for nobody"


def test_an_agent_unlocks_the_account_from_the_cli_and_it_is_audited(database_url: str) -> None:
    now = utcnow()

    async def lock() -> tuple[str, str]:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                await demo_seed.seed(session)
            holder = await _start(db, ANNA, now)
            right = await _delivered_code(db, "anna@example.dk")
            await _guess_ten_times(db, ANNA, now)
            assert await _check(db, holder, right, now) is CheckOutcome.LOCKED
            return holder, right
        finally:
            await db.dispose()

    holder, right = asyncio.run(lock())
    env = {"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}
    result = CliRunner().invoke(
        cli, ["accounts", "unlock", "ANNA@example.dk", "--agent", "mette"], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "account 1: unlocked (10 wrong codes in the last hour cleared)"
    assert "anna" not in result.output.lower()
    missing = CliRunner().invoke(
        cli, ["accounts", "unlock", "nobody@example.org", "--agent", "mette"], env=env
    )
    assert missing.exit_code == 1

    async def after() -> tuple[CheckOutcome, list[tuple[str, str, dict[str, object]]]]:
        db = Database(database_url)
        try:
            outcome = await _check(db, holder, right, utcnow())
            async with db.sessions() as session:
                entries = [
                    (e.actor, e.event, e.data)
                    for e in await session.scalars(
                        select(AuditEntry).where(AuditEntry.event == "verification_unlocked")
                    )
                ]
            return outcome, entries
        finally:
            await db.dispose()

    outcome, entries = asyncio.run(after())
    assert outcome is CheckOutcome.VERIFIED, "the right code works again after the unlock"
    assert entries == [
        ("agent:mette", "verification_unlocked", {"account_id": 1, "wrong_codes_last_hour": 10})
    ]


def test_the_lock_alert_reads_well_for_agents_in_both_languages() -> None:
    from bot.channels.slack.agent_alerts import alert_text
    from locales import use

    params = {"account_id": 7, "until": utcnow().isoformat()}
    with use("en"):
        english = alert_text("code_locked", params, utcnow())
    with use("da"):
        danish = alert_text("code_locked", params, utcnow())
    assert "account 7 are paused" in english and "accounts unlock" in english
    assert "konto 7 er sat på pause" in danish
