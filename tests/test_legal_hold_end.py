"""What an erasure kept under the Bookkeeping Act goes when the hold ends: the retention
sweep clears the invoices' billing name, address and VAT number the day after their
`legal_hold_until`, and leaves invoices still held, or never held, as they are."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from storage.db import Database
from storage.models import Invoice
from storage.types import utcnow
from workflow import retention


async def _billing(db: Database) -> dict[int, tuple[str | None, str | None, str | None]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Invoice.id, Invoice.billing_name, Invoice.billing_address, Invoice.vat_number)
        )
        return {r.id: (r.billing_name, r.billing_address, r.vat_number) for r in rows}


async def test_billing_details_are_cleared_once_the_legal_hold_has_ended(seeded: Database) -> None:
    now = utcnow()
    before = await _billing(seeded)
    ended, held, *_never = sorted(i for i, v in before.items() if any(v))
    async with seeded.transaction() as session:
        await session.execute(
            update(Invoice)
            .where(Invoice.id == ended)
            .values(legal_hold_until=date.today() - timedelta(days=2))
        )
        await session.execute(
            update(Invoice)
            .where(Invoice.id == held)
            .values(legal_hold_until=date.today() + timedelta(days=30))
        )

    report = await retention.sweep(seeded, now=now)
    assert report.counts["invoices_hold_ended"] == 1
    after = await _billing(seeded)
    assert after[ended] == (None, None, None)
    assert {i: v for i, v in after.items() if i != ended} == {
        i: v for i, v in before.items() if i != ended
    }
    again = await retention.sweep(seeded, now=now)
    assert again.counts.get("invoices_hold_ended", 0) == 0
