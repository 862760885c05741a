"""Forwarding a recipient's request: one referral per account, emailed, audited, alerted."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Person
from storage.privacy_models import AgentAlert, AuditEntry
from storage.referral_models import ReferralKind, ReferralStatus, SmsSuppression
from storage.types import utcnow
from tests.referrals.conftest import (
    ANONYMISED,
    BEN_ONLY,
    BOTH,
    PUBLIC_URL,
    SECRET,
    account_of,
    emails,
    forward,
    history,
    referral,
    set_account,
)
from workflow import audit, referral_links, referrals
from workflow.referral_numbers import unseal

DIGITS = "31000003"


async def test_both_controllers_receive_the_request_in_their_language(seeded: Database) -> None:
    anna, ben = (
        await account_of(seeded, "anna@example.dk"),
        await account_of(seeded, "ben@example.com"),
    )
    views = await forward(seeded, BOTH, details="Slet mit nummer\x00\x1b[31m tak\u202e")
    assert {v.status for v in views} == {ReferralStatus.FORWARDED}
    assert all(v.new and v.reference.startswith("RF-") for v in views)
    by_account = {(await referral(seeded, v.reference)).account_id: v for v in views}
    assert set(by_account) == {anna, ben}

    sent = {m.to: m for m in await emails(seeded)}
    assert set(sent) == {"anna@example.dk", "ben@example.com"}
    danish, english = sent["anna@example.dk"], sent["ben@example.com"]
    assert by_account[anna].reference in (danish.subject or "")
    assert "databehandler" in danish.text and "+45 31 00 00 03" in danish.text
    assert "AnnasBageri" in danish.text and "BensBikes" not in danish.text
    assert "Art. 28(3)(e)" in english.text and "+45 31 00 00 03" in english.text
    assert "erasure of their personal data" in english.text
    assert "Slet mit nummer[31m tak" in english.text, "control characters are gone"
    assert "\x1b" not in english.text and "\u202e" not in english.text
    url = next(w for w in english.text.split() if w.startswith(PUBLIC_URL))
    token = url.removeprefix(PUBLIC_URL + referral_links.PATH)
    assert referral_links.verify_ack(SECRET, token, utcnow()) == by_account[ben].reference
    assert f"quoting the reference {by_account[ben].reference}" in english.text


async def test_the_referral_keeps_the_number_only_sealed_hashed_and_masked(
    seeded: Database,
) -> None:
    [view] = await forward(seeded, BEN_ONLY)
    row = await referral(seeded, view.reference)
    assert row.number_masked == "+44 77** ****55"
    assert row.number_sealed is not None and "900555" not in row.number_sealed
    assert unseal(SECRET, row.number_sealed, row.reference) == BEN_ONLY
    assert len(row.number_hash) == 64 and "900555" not in row.number_hash
    assert row.sender_names == ["BensBikes"] and row.channel == "webchat"
    assert await history(seeded, view.reference) == [
        (None, "opened", "recipient"),
        ("opened", "forwarded", "system"),
    ]


async def test_the_audit_chain_records_it_without_the_number_or_the_words(
    seeded: Database,
) -> None:
    views = await forward(seeded, BOTH, details="my name is Karen Hansen")
    async with seeded.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert (await audit.verify(session)).ok
    mine = [e for e in entries if e.data.get("referral") in {v.reference for v in views}]
    assert [e.event for e in mine].count("referral_opened") == 2
    assert [e.data.get("to") for e in mine if e.event == "referral_status"] == [
        "forwarded",
        "forwarded",
    ]
    dumped = json.dumps([e.data for e in mine])
    assert DIGITS not in dumped and "Karen" not in dumped


async def test_agents_are_alerted_with_the_masked_number_only(seeded: Database) -> None:
    views = await forward(seeded, BOTH)
    async with seeded.sessions() as session:
        found = list(
            await session.scalars(select(AgentAlert).where(AgentAlert.event == "referral"))
        )
    assert {a.params["reference"] for a in found} == {v.reference for v in views}
    assert {a.params["number"] for a in found} == {"+45 31 ** ** 03"}
    assert DIGITS not in json.dumps([a.params for a in found])


async def test_asking_again_opens_nothing_new(seeded: Database) -> None:
    first = await forward(seeded, BOTH)
    again = await forward(seeded, "+45 31 00 00 03")
    assert [v.reference for v in again] == [v.reference for v in first]
    assert not any(v.new for v in again)
    assert len(await emails(seeded)) == 2
    other_kind = await forward(seeded, BOTH, kind="access")
    assert all(v.new for v in other_kind), "a different request is a new referral"


async def test_only_accounts_that_sent_to_the_number_can_be_forwarded_to(
    seeded: Database,
) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    with pytest.raises(referrals.NotASender):
        await forward(seeded, BEN_ONLY, [anna])
    with pytest.raises(referrals.NotASender):
        await forward(seeded, ANONYMISED, [anna])
    with pytest.raises(referrals.NotASender):
        await forward(seeded, BEN_ONLY, [])
    assert await emails(seeded) == []


async def test_a_closed_account_ends_the_referral_as_gone(seeded: Database) -> None:
    ben = await account_of(seeded, "ben@example.com")
    await set_account(seeded, ben, status="closed")
    [view] = await forward(seeded, BEN_ONLY)
    assert view.status is ReferralStatus.ACCOUNT_GONE and view.closed_at is not None
    row = await referral(seeded, view.reference)
    assert row.number_sealed is None and row.details is None
    assert await emails(seeded) == []


async def test_an_account_without_an_email_contact_keeps_it_opened(seeded: Database) -> None:
    ben = await account_of(seeded, "ben@example.com")
    async with seeded.transaction() as session:
        person = await session.scalar(select(Person).where(Person.account_id == ben))
        assert person is not None
        person.email = None
    [view] = await forward(seeded, BEN_ONLY)
    assert view.status is ReferralStatus.OPENED and await emails(seeded) == []


async def test_a_stop_is_honoured_only_where_the_account_instructed_it(seeded: Database) -> None:
    anna, ben = (
        await account_of(seeded, "anna@example.dk"),
        await account_of(seeded, "ben@example.com"),
    )
    await set_account(seeded, anna, honours_recipient_stop=True)
    views = await forward(seeded, BOTH, kind=ReferralKind.OBJECTION)
    suppressed = {(await referral(seeded, v.reference)).account_id: v.suppressed for v in views}
    assert suppressed == {anna: True, ben: False}
    async with seeded.sessions() as session:
        assert await referrals.is_suppressed(session, anna, BOTH, secret=SECRET)
        assert not await referrals.is_suppressed(session, ben, BOTH, secret=SECRET)
        assert not await referrals.is_suppressed(session, anna, BEN_ONLY, secret=SECRET)
        rows = list(await session.scalars(select(SmsSuppression)))
    assert [(r.account_id, r.number_masked) for r in rows] == [(anna, "+45 31 ** ** 03")]
    danish = next(m for m in await emails(seeded) if m.to == "anna@example.dk")
    assert "stoppet" in danish.text
    again = await forward(seeded, BOTH, kind=ReferralKind.OBJECTION)
    assert {v.reference: v.suppressed for v in again} == {v.reference: v.suppressed for v in views}
    assert not any(v.new for v in again)


async def test_an_erasure_request_suppresses_nothing(seeded: Database) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    await set_account(seeded, anna, honours_recipient_stop=True)
    await forward(seeded, BOTH, kind="erasure")
    async with seeded.sessions() as session:
        assert not await referrals.is_suppressed(session, anna, BOTH, secret=SECRET)


async def test_the_number_never_reaches_the_logs(
    seeded: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    views = await forward(seeded, BOTH, details="call me on 31000003")
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("workflow", "bot"))]
    assert any(views[0].reference in line for line in ours), "the forwarding is logged"
    assert not [line for line in ours if DIGITS in line or "31 00 00 03" in line]


def test_details_are_cleaned() -> None:
    assert referrals.clean_details(None) is None
    assert referrals.clean_details(" \x00\x07 ") is None
    assert referrals.clean_details("a\r\nb\u200b\u202ec\t") == "a\nbc"
    assert len(referrals.clean_details("x" * 5000) or "") == referrals.DETAILS_MAX
