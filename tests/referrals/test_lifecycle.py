"""After forwarding: the controller acknowledges, an agent closes, the recipient asks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.db import Database
from storage.referral_models import ReferralStatus
from storage.types import utcnow
from tests.referrals.conftest import (
    BEN_ONLY,
    BOTH,
    SECRET,
    account_of,
    forward,
    history,
    referral,
    set_account,
)
from workflow import referrals
from workflow.referral_lifecycle import ReferralNotFound, ReferralRefused


async def test_acknowledged_then_closed(seeded: Database) -> None:
    [view] = await forward(seeded, BEN_ONLY)
    later = utcnow() + timedelta(hours=3)
    async with seeded.transaction() as session:
        acked = await referrals.acknowledge(
            session, view.reference.lower(), actor="controller", now=later
        )
    assert acked.status is ReferralStatus.ACKNOWLEDGED and acked.acknowledged_at == later
    async with seeded.transaction() as session:
        closed = await referrals.close(
            session, view.reference, "mette", now=later + timedelta(days=1), note="answered"
        )
    assert closed.status is ReferralStatus.CLOSED
    row = await referral(seeded, view.reference)
    assert (row.acknowledged_by, row.closed_by) == ("controller", "mette")
    assert row.number_sealed is None and row.details is None, "ended: only hash and mask remain"
    assert row.number_masked == "+44 77** ****55"
    assert await history(seeded, view.reference) == [
        (None, "opened", "recipient"),
        ("opened", "forwarded", "system"),
        ("forwarded", "acknowledged", "controller"),
        ("acknowledged", "closed", "mette"),
    ]


async def test_what_the_lifecycle_refuses(seeded: Database) -> None:
    [view] = await forward(seeded, BEN_ONLY)
    now = utcnow()
    async with seeded.transaction() as session:
        await referrals.acknowledge(session, view.reference, actor="controller", now=now)
    with pytest.raises(ReferralRefused, match="acknowledged to acknowledged"):
        async with seeded.transaction() as session:
            await referrals.acknowledge(session, view.reference, actor="controller", now=now)
    async with seeded.transaction() as session:
        await referrals.close(session, view.reference, "mette", now=now, account_gone=True)
    for attempt in ("ack", "close"):
        with pytest.raises(ReferralRefused):
            async with seeded.transaction() as session:
                if attempt == "ack":
                    await referrals.acknowledge(session, view.reference, actor="x", now=now)
                else:
                    await referrals.close(session, view.reference, "mette", now=now)
    assert (await referral(seeded, view.reference)).status is ReferralStatus.ACCOUNT_GONE
    with pytest.raises(ReferralNotFound):
        async with seeded.transaction() as session:
            await referrals.close(session, "RF-NOPE00", "mette", now=now)


async def test_the_recipient_sees_only_their_own_referrals(seeded: Database) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    await set_account(seeded, anna, name_shown_to_recipients=True)
    mine = await forward(seeded, BOTH)
    theirs = await forward(seeded, BEN_ONLY, kind="access")
    async with seeded.transaction() as session:
        await referrals.acknowledge(session, mine[0].reference, actor="controller", now=utcnow())
    async with seeded.sessions() as session:
        found = await referrals.referrals_for_number(session, "+45 31 00 00 03", secret=SECRET)
        nothing = await referrals.referrals_for_number(session, "+4531999999", secret=SECRET)
    assert {v.reference for v in found} == {v.reference for v in mine}
    assert not {v.reference for v in theirs} & {v.reference for v in found}
    assert {v.reference: v.status for v in found}[mine[0].reference] is (
        ReferralStatus.ACKNOWLEDGED
    )
    assert {v.sender_names: v.company for v in found} == {
        ("AnnasBageri",): "Anna's Bageri ApS",
        ("BensBikes",): None,
    }
    assert nothing == []


async def test_another_key_finds_nothing(seeded: Database) -> None:
    await forward(seeded, BEN_ONLY)
    async with seeded.sessions() as session:
        assert (
            await referrals.referrals_for_number(session, BEN_ONLY, secret=b"other-key" * 4) == []
        )
        assert len(await referrals.referrals_for_number(session, BEN_ONLY, secret=SECRET)) == 1
