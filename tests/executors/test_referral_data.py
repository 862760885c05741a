"""Referrals in the data map: an account's forwarded recipient requests are in its access
export (masked number, words, history; never the hash or the sealed number), and its
erasure removes our copies of its data while the record that we passed them on stays."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.referral_models import Referral, ReferralEvent, SmsSuppression
from tests.executors.conftest import MakeCtx, zip_members
from tests.referrals.conftest import BEN_ONLY, BOTH, forward, set_account
from workflow.executors import access, erasure


async def _referrals(db: Database) -> dict[int, Referral]:
    async with db.sessions() as session:
        return {r.account_id: r for r in await session.scalars(select(Referral))}


async def test_the_access_export_holds_the_account_s_referrals_without_hash_or_seal(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    await set_account(seeded, anna, honours_recipient_stop=True)
    await forward(seeded, BOTH, kind="objection", details="Stop, please.")
    await forward(seeded, BEN_ONLY, kind="access")
    result = await access.run(make_ctx(anna, "access", language="en"))
    rows = result.effects["rows"]
    assert (rows["recipient_requests"], rows["recipient_request_history"]) == (1, 2)
    assert rows["stopped_numbers"] == 1
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    blob = b"".join(members.values())
    mine = (await _referrals(seeded))[anna]
    assert mine.number_sealed and mine.number_hash[:16].encode() not in blob
    assert mine.number_sealed.encode() not in blob
    assert b"+45 31 ** ** 03" in blob and b"Stop, please." in blob
    assert b"AnnasBageri" in blob and b"BensBikes" not in blob, "only her own referrals"
    referrals = members["recipient_requests.json"] + members["stopped_numbers.json"]
    assert b"31000003" not in referrals, "in full only in her sms_messages and the email"
    summary = members["summary.txt"].decode()
    assert "Requests from recipients of your SMS messages" in summary


async def test_an_erasure_keeps_the_record_and_removes_the_account_s_data_from_it(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx
) -> None:
    await set_account(seeded, anna, honours_recipient_stop=True)
    await forward(seeded, BOTH, kind="objection", details="Stop, please.")
    before = await _referrals(seeded)
    async with seeded.transaction() as session:
        event = await session.scalar(
            select(ReferralEvent).where(ReferralEvent.referral_id == before[anna].id)
        )
        assert event is not None
        event.note = "called them"

    result = await erasure.run(make_ctx(anna, "erasure"))

    assert result.effects["erased"]["referrals"] == 1
    after = await _referrals(seeded)
    mine = after[anna]
    assert (mine.number_sealed, mine.details, list(mine.sender_names)) == (None, None, [])
    assert (mine.number_hash, mine.number_masked) == (
        before[anna].number_hash,
        before[anna].number_masked,
    ), "the record that the request was passed on stays"
    assert mine.reference == before[anna].reference and mine.status == before[anna].status
    theirs = after[ben]
    assert theirs.details == "Stop, please." and theirs.number_sealed == before[ben].number_sealed
    async with seeded.sessions() as session:
        stopped = list(await session.scalars(select(SmsSuppression.account_id)))
        notes = list(
            await session.scalars(
                select(ReferralEvent.note).where(ReferralEvent.referral_id == mine.id)
            )
        )
    assert stopped == [], "a closed account sends nothing: its suppression list goes"
    assert notes == [None, None]
