"""Erasure: everything erased by its data-map strategy, kept only where the law says,
resumable after a crash, a no-op the second time, and proven by a scan."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import datamap, demo_seed
from storage.db import Database
from storage.identifier_scan import scan_for_identifiers
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Conversation,
    Invoice,
    InvoiceLine,
    OutboxMessage,
    Payment,
    Person,
    ProcessedDelivery,
    SmsMessage,
    TranscriptMessage,
    VerificationCode,
)
from tests.clock import FakeClock
from tests.conftest import Backends
from tests.executors.conftest import (
    ANNA,
    ANNA_PHONE,
    BEN,
    START,
    MakeCtx,
    account_of,
    add_chat,
    context,
    count,
    snapshot,
)
from workflow.executors import erasure
from workflow.executors.erasure import steps

IDENTIFIERS = [ANNA, ANNA_PHONE]


async def _contact_traces(db: Database, account_id: int) -> None:
    """What a real account collects besides the seed: chats, codes, outbox messages."""
    await add_chat(db, account_id, [f"Hej, min mail er {ANNA.upper()}", "Tak!", "Slet mig"])
    await add_chat(db, None, [f"ring på {ANNA_PHONE}"], conversation_id="conv-unlinked")
    async with db.transaction() as session:
        session.add(
            VerificationCode(
                conversation_id="conv-anna-1",
                account_id=account_id,
                channel="email",
                code_hash="x" * 64,
                expires_at=START,
                created_at=START,
            )
        )
        for to in (ANNA, ANNA_PHONE, BEN):
            session.add(
                OutboxMessage(
                    channel="sms" if to.startswith("+") else "email",
                    to=to,
                    text="Din kode er 123456",
                    created_at=START,
                    next_attempt_at=START,
                )
            )


async def _scan(db: Database) -> set[tuple[str, str]]:
    async with db.sessions() as session:
        return set(await scan_for_identifiers(session, IDENTIFIERS))


async def test_the_scan_finds_identifiers_in_any_text_column(seeded: Database, anna: int) -> None:
    await _contact_traces(seeded, anna)
    found = await _scan(seeded)
    assert {
        ("people", "email"),
        ("people", "phone"),
        ("invoices", "billing_email"),
        ("sms_messages", "sender_number"),
        ("transcript_messages", "text"),
        ("outbox_messages", "to"),
    } <= found
    async with seeded.sessions() as session:
        assert await scan_for_identifiers(session, ["nobody_100%@example.org"]) == []
        assert await scan_for_identifiers(session, []) == []


async def test_afterwards_the_contacts_remain_nowhere_but_in_legal_hold_columns(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    await _contact_traces(seeded, anna)
    ben_before = await snapshot_of_account(seeded, ben)
    result = await erasure.run(make_ctx(anna, "erasure"))

    assert await _scan(seeded) <= datamap.current().legal_hold_columns()
    assert await _scan(seeded) == set()  # Anna's contacts were never on her invoices' kept fields
    assert await snapshot_of_account(seeded, ben) == ben_before

    async with seeded.sessions() as session:
        account = await session.get(Account, anna)
        assert account is not None
        assert (account.status, account.company, account.google_subject) == ("closed", None, None)
        assert account.closed_at == START
        assert await count(seeded, select(Person.id).where(Person.account_id == anna)) == 0

        invoices = list(await session.scalars(select(Invoice).where(Invoice.account_id == anna)))
        assert len(invoices) == 12
        for invoice in invoices:
            assert invoice.legal_hold_until == date(invoice.issued_at.year + 5, 12, 31)
            assert invoice.billing_email is None
            assert invoice.billing_name == "Anna's Bageri ApS" and invoice.vat_number
        ids = [i.id for i in invoices]
        assert (
            await count(seeded, select(InvoiceLine.id).where(InvoiceLine.invoice_id.in_(ids))) == 12
        )
        payments = list(await session.scalars(select(Payment).where(Payment.invoice_id.in_(ids))))
        assert len(payments) == 12 and all(p.card_last4 is None and p.amount for p in payments)

        keys = list(await session.scalars(select(ApiKey).where(ApiKey.account_id == anna)))
        assert keys and all(k.revoked_at is not None for k in keys)
        assert all(k.key_hash.startswith("erased:") and k.label == "[erased]" for k in keys)
        assert "demo" not in json.dumps([k.key_hash for k in keys])

        consents = list(await session.scalars(select(Consent).where(Consent.account_id == anna)))
        assert len(consents) == 3
        assert all(not c.granted and c.source == "erasure" for c in consents)

        sms = (
            await session.execute(
                select(
                    SmsMessage.content,
                    SmsMessage.recipient,
                    SmsMessage.sender_number,
                    SmsMessage.sender_name,
                    SmsMessage.anonymised_at,
                ).where(SmsMessage.account_id == anna)
            )
        ).all()
        assert len(sms) == 2000
        assert {row[0] for row in sms} == {"[erased]"}
        assert all(row[1].endswith("XXXX") and len(row[1]) == 11 for row in sms)
        assert {(row[2], row[3]) for row in sms} == {(None, None)}
        assert all(row[4] is not None for row in sms)

        assert (
            await count(seeded, select(AccessLogEntry.id).where(AccessLogEntry.account_id == anna))
            == 0
        )
        texts = set(await session.scalars(select(TranscriptMessage.text)))
        assert texts == {"[erased]"}
        conversation = await session.get(Conversation, "conv-anna-1")
        assert conversation is not None
        assert (conversation.account_id, conversation.verified_until, conversation.state) == (
            None,
            None,
            {},
        )
        assert await count(seeded, select(VerificationCode.id)) == 0
        assert list(await session.scalars(select(OutboxMessage.to))) == [BEN]

    assert result.effects["erased"] == {
        "accounts": 1,
        "sms_messages": 2000,
        "access_log": 50,
        "transcript_messages": 4,
        "conversations": 2,  # the linked one, and the unlinked one that named her phone
        "verification_codes": 1,
        "outbox_messages": 2,
        "invoices": 12,
        "payments": 12,
        "api_keys": 2,
        "consents": 3,
        "people": 1,
        "referrals": 0,  # SMS recipients' requests passed on (test_referral_data)
        "referral_events": 0,
        "sms_suppressions": 0,
    }
    assert result.effects["kept"] == {"invoices": 12, "invoice_lines": 12, "payments": 12}
    text = json.dumps([result.effects, result.notice])
    assert ANNA not in text and ANNA_PHONE not in text

    receipt = (data_dir / "exports" / "PR-TEST01-erasure-receipt.txt").read_text("utf-8")
    assert "bogføringsloven" in receipt and "Datatilsynet" in receipt
    assert "31. december" in receipt and "2000 poster" in receipt
    assert ANNA not in receipt and ANNA_PHONE not in receipt
    assert result.notice["receipt_url"].startswith("http://127.0.0.1:8080/downloads/")
    checkpoint = (data_dir / "erasure" / "PR-TEST01.json").read_text()
    assert ANNA not in checkpoint and ANNA_PHONE not in checkpoint


async def snapshot_of_account(db: Database, account_id: int) -> list[object]:
    async with db.sessions() as session:
        rows: list[object] = []
        for model in (Person, ApiKey, Consent, SmsMessage, AccessLogEntry, Invoice):
            stmt = select(model).where(model.account_id == account_id).order_by(model.id)  # type: ignore[attr-defined]
            rows += [
                {c: getattr(r, c) for c in r.__table__.columns.keys()}  # noqa: SIM118
                for r in await session.scalars(stmt)
            ]
        return rows


async def test_the_receipt_is_in_english_for_an_english_customer(
    ben: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    await erasure.run(make_ctx(ben, "erasure", language="en", reference="PR-BEN001"))
    receipt = (data_dir / "exports" / "PR-BEN001-erasure-receipt.txt").read_text("utf-8")
    assert "Bookkeeping Act" in receipt and "31 December" in receipt and "300 records" in receipt


async def test_running_it_twice_changes_nothing_the_second_time(
    seeded: Database, anna: int, make_ctx: MakeCtx, clock: FakeClock
) -> None:
    await _contact_traces(seeded, anna)
    first = await erasure.run(make_ctx(anna, "erasure"))
    before = await snapshot(seeded)
    clock.advance(hours=1)
    second = await erasure.run(make_ctx(anna, "erasure"))
    assert await snapshot(seeded) == before
    assert second.effects == first.effects


async def _fresh(backends: Backends, backend: str) -> Database:
    db = Database(backends.sqlite(True) if backend == "sqlite" else backends.postgres(True))
    async with db.transaction() as session:
        await demo_seed.seed(session, now=START)
    return db


async def test_a_crash_after_the_first_batch_then_a_rerun_ends_like_an_uninterrupted_run(
    backend: str, backends: Backends, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "BATCH", 500)  # so the SMS messages take several batches
    clean, crashed = await _fresh(backends, backend), await _fresh(backends, backend)
    try:
        for db in (clean, crashed):
            await _contact_traces(db, await account_of(db, ANNA))
        anna = await account_of(clean, ANNA)

        def ctx(db: Database, name: str) -> erasure.ActionContext:
            return context(
                db, anna, kind="erasure", data_dir=tmp_path / name, clock=FakeClock(START)
            )

        expected = await erasure.run(ctx(clean, "clean"))

        def crash(step: str, rows: int) -> None:
            if step == "sms_messages":
                raise ConnectionError(f"worker killed after {step}")

        monkeypatch.setattr(steps, "after_batch", crash)
        with pytest.raises(ConnectionError):
            await erasure.run(ctx(crashed, "crashed"))
        async with crashed.sessions() as session:
            done = await session.scalar(
                select(SmsMessage.id).where(SmsMessage.content == "[erased]").limit(1)
            )
            assert done is not None  # the first batch was committed...
        assert await count(crashed, select(Person.id).where(Person.account_id == anna)) == 1
        async with crashed.sessions() as session:  # ...and the contacts are still findable
            assert ("people", "email") in await scan_for_identifiers(session, IDENTIFIERS)

        monkeypatch.setattr(steps, "after_batch", lambda step, rows: None)
        resumed = await erasure.run(ctx(crashed, "crashed"))

        skip = frozenset({"api_keys.key_hash"})  # random by design
        assert await snapshot(crashed, skip) == await snapshot(clean, skip)
        assert resumed.effects == expected.effects  # counted by the plan, not by the rerun
    finally:
        await clean.dispose()
        await crashed.dispose()


async def test_identifiers_left_somewhere_unexpected_fail_the_run_and_keep_the_proof(
    seeded: Database, anna: int, make_ctx: MakeCtx
) -> None:
    async with seeded.transaction() as session:
        session.add(ProcessedDelivery(source="test", key=f"from {ANNA}", created_at=START))
    with pytest.raises(erasure.ErasureIncomplete) as failure:
        await erasure.run(make_ctx(anna, "erasure"))
    assert "processed_deliveries.key" in str(failure.value) and ANNA not in str(failure.value)
    assert await count(seeded, select(Person.id).where(Person.account_id == anna)) == 1
    async with seeded.sessions() as session:
        assert (await session.get(Account, anna)).status == "active"  # type: ignore[union-attr]

    async with seeded.transaction() as session:  # an agent removes it; the retry completes
        await session.execute(
            ProcessedDelivery.__table__.delete().where(ProcessedDelivery.source == "test")
        )
    await erasure.run(make_ctx(anna, "erasure"))
    assert await _scan(seeded) == set()
