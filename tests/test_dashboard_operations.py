"""The overview's machinery figures: retention sweep rows, wrong codes and lock-outs per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.runtime import Runtime
from storage import conversations
from storage.models import SmsMessage
from tests.clock import FakeClock
from workflow import code_guard, identity
from workflow.accountability import operations
from workflow.accountability.period import Period
from workflow.retention_runs import run_sweep

DAY = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
PERIOD = Period(date(2027, 3, 1), date(2027, 3, 31))


async def _wrong_codes(runtime: Runtime, tries: int, at: datetime) -> None:
    """A code sent to Ben's address and `tries` wrong codes typed."""
    async with runtime.db.transaction() as session:
        chat = conversations.create(session, "webchat", locale="en")
        await session.flush()
        contact = identity.parse_contact("ben@example.com")
        assert contact is not None
        secret = runtime.services.secret
        await identity.start(session, chat, contact, secret=secret, now=at)
        for _ in range(tries):
            await identity.check(session, chat, "000000", secret=secret, now=at)


async def test_wrong_codes_and_lockouts_are_counted_per_day(
    runtime: Runtime, clock: FakeClock
) -> None:
    # two codes with every try wrong: the account's tenth wrong code locks it
    await _wrong_codes(runtime, identity.MAX_TRIES, DAY)
    await _wrong_codes(runtime, identity.MAX_TRIES, DAY)
    await _wrong_codes(runtime, 1, DAY + timedelta(days=1))
    async with runtime.db.sessions() as session:
        failures = await operations.verification_failures_per_day(session, PERIOD)
        lockouts = await operations.lockouts_per_day(session, PERIOD)
    assert 2 * identity.MAX_TRIES == code_guard.MAX_WRONG_PER_HOUR
    assert failures == {"2027-03-10": 2 * identity.MAX_TRIES, "2027-03-11": 1}
    assert lockouts == {"2027-03-10": 1}


async def test_retention_rows_per_day_add_up_every_sweep_of_the_day(
    runtime: Runtime, clock: FakeClock
) -> None:
    async with runtime.db.sessions() as session:
        fresh = await session.scalar(select(func.count()).where(SmsMessage.anonymised_at.is_(None)))
    for hour in (0, 6):  # two sweeps on the same day: the second finds nothing new
        await run_sweep(runtime.db, clock=lambda h=hour: DAY + timedelta(hours=h))
    async with runtime.db.sessions() as session:
        rows = await operations.retention_rows_per_day(session, PERIOD)
    # the demo accounts' messages (sent within 90 days before the seeding, i.e. before
    # DAY) are all older than 30 days on DAY: each is anonymised once, except the demo
    # recipient's that the seed leaves anonymised already (+4531000004)
    assert 2290 < (fresh or 0) < 2300
    assert list(rows) == ["2027-03-10"]
    assert rows["2027-03-10"] >= (fresh or 0)
