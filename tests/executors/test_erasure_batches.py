"""Erasure batches walk id ranges: never more than BATCH rows per transaction, other
accounts' rows untouched, rows added after the plan erased too; the identifier scan finds
contacts in any letter case and names every column that holds them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.datamap import REDACTED
from storage.db import Database
from storage.identifier_scan import scan_for_identifiers
from storage.models import SmsMessage
from tests.executors.conftest import ANNA, ANNA_PHONE, START, MakeCtx
from workflow.executors import erasure
from workflow.executors.erasure import steps


async def _unerased(db: Database, account_id: int) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(func.count()).where(
                SmsMessage.account_id == account_id, SmsMessage.content != REDACTED
            )
        )
    return int(found or 0)


async def test_batches_hold_at_most_batch_rows_and_spare_other_accounts(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "BATCH", 300)
    batches: list[tuple[str, int]] = []
    monkeypatch.setattr(steps, "after_batch", lambda step, rows: batches.append((step, rows)))
    ben_before = await _unerased(seeded, ben)
    assert ben_before > 0

    result = await erasure.run(make_ctx(anna, "erasure"))

    sms = [rows for step, rows in batches if step == "sms_messages"]
    assert len(sms) >= 2000 // 300 and max(sms) <= 300
    assert sum(sms) == result.effects["erased"]["sms_messages"] == 2000
    assert all(rows <= 300 for _step, rows in batches)
    assert await _unerased(seeded, anna) == 0
    assert await _unerased(seeded, ben) == ben_before


async def test_a_message_added_while_the_erasure_runs_is_erased_too(
    seeded: Database, anna: int, make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "BATCH", 500)
    added: list[int] = []

    async def add_message() -> None:
        async with seeded.transaction() as session:
            message = SmsMessage(
                account_id=anna,
                sender_number=ANNA_PHONE,
                recipient="+4587654321",
                content=f"late, from {ANNA}",
                sent_at=START + timedelta(minutes=1),
            )
            session.add(message)
            await session.flush()
            added.append(message.id)

    real_run = erasure._run_batches
    ran: list[str] = []

    def after(step: str, rows: int) -> None:
        ran.append(step)

    monkeypatch.setattr(steps, "after_batch", after)

    async def run_with_a_late_message(ctx: erasure.ActionContext, plan: erasure.Plan) -> None:
        # the plan is made (without it); the message arrives before the batches run
        await add_message()
        await real_run(ctx, plan)

    monkeypatch.setattr(erasure, "_run_batches", run_with_a_late_message)
    await erasure.run(make_ctx(anna, "erasure"))
    assert added and "sms_messages" in ran
    assert await _unerased(seeded, anna) == 0


async def test_the_scan_ignores_case_and_names_every_column_with_a_hit(
    seeded: Database, ben: int
) -> None:
    async with seeded.transaction() as session:
        session.add(
            SmsMessage(
                account_id=ben,
                sender_number="+4500000000",
                recipient=ANNA_PHONE,
                content=f"Skriv til {ANNA.upper()} i dag",
                sent_at=START,
            )
        )
    async with seeded.sessions() as session:
        found = set(await scan_for_identifiers(session, [ANNA.title(), f" {ANNA_PHONE} "]))
        assert {("sms_messages", "content"), ("sms_messages", "recipient")} <= found
        assert await scan_for_identifiers(session, [ANNA.replace("@", "#")]) == []
        assert await scan_for_identifiers(session, ["+45 2000 0001"]) == []
