"""`demo seed --history`: a year of requests through the workflow; the audit chain holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.db import Database
from storage.types import utcnow
from tests.conftest import TEST_SECRET
from tests.executors.conftest import ANNA, BEN, account_of
from tests.referrals.conftest import ANONYMISED, BEN_ONLY, BOTH
from workflow import audit
from workflow.accountability.figures import collect
from workflow.accountability.period import Period
from workflow.demo_history import seed_history
from workflow.referrals import senders_for_number


async def test_a_year_of_history_has_every_outcome_and_verifies(
    seeded: Database, tmp_path: Path
) -> None:
    now = utcnow()
    made = await seed_history(
        seeded,
        secret=TEST_SECRET.encode(),
        data_dir=tmp_path,
        public_url="http://127.0.0.1:8080",
        now=now,
        sweeps=2,
        per_month=6,
    )
    assert made.created and made.requests >= 60
    for outcome in ("on_time", "late", "extended", "rejected", "cancelled", "overdue"):
        assert made.outcomes.get(outcome, 0) > 0, (outcome, made.outcomes)
    async with seeded.sessions() as session:
        assert (await audit.verify(session)).ok
        period = Period(now.date() - timedelta(days=366), now.date())
        found = await collect(session, period, now)
    summary = found.summary()
    assert summary["received"] + summary["cancelled"] == made.requests
    assert summary["overdue_now"] == made.outcomes["overdue"]
    assert 0 < summary["answered_on_time"] < summary["answered"]
    assert found.extensions.total > 0 and found.rejections.total > 0
    assert len({kind for _month, kind in found.by_month_kind}) == 7

    again = await seed_history(
        seeded,
        secret=TEST_SECRET.encode(),
        data_dir=tmp_path,
        public_url="http://127.0.0.1:8080",
        now=now,
    )
    assert not again.created  # seeding twice adds nothing

    anna, ben = await account_of(seeded, ANNA), await account_of(seeded, BEN)
    async with seeded.sessions() as session:  # the recipients' demo data survives it
        traced = {
            number: {s.account_id for s in await senders_for_number(session, number, now)}
            for number in (BOTH, BEN_ONLY, ANONYMISED)
        }
    assert traced == {BOTH: {anna, ben}, BEN_ONLY: {ben}, ANONYMISED: set()}
