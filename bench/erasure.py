"""Erasure: the right to erasure for an account with 200,000 messages, every strategy.

Timed: `workflow.executors.erasure.run` as the worker runs it — plan, every step in
committed batches (mask, redact, null, reset, delete, revoke, withdraw, legal hold),
then the people deleted and the account closed together with the identifier scan.
Other accounts' messages share the table, as in production.
Baseline, on a copy of the same rows: the raw UPDATE/DELETE statements making the same
changes, one statement per table, in one transaction (no plan, no batches, no scan).
Goal: >= 0.5 x the baseline's rows/s (rows = every row the erasure changed).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench import seeding
from bench.measure import Figure, figure, progress, ratio_at_least
from storage.datamap import MASK, REDACTED, REVOKED_PREFIX
from storage.db import Database
from storage.models import Account, SmsMessage
from workflow.executors import ActionContext, erasure

MESSAGES = 200_000
QUICK_MESSAGES = 10_000
OTHER_ACCOUNTS = 50
PHONE = "+4529999999"
SECRET = b"bench-secret-key-for-signed-links-only"

_MASKED = (
    f"CASE WHEN length(recipient) > 4 THEN substr(recipient, 1, length(recipient) - 4) "
    f"|| '{MASK}' ELSE '{MASK}' END"
)
_RAW = (
    "UPDATE sms_messages SET sender_number = NULL, sender_name = NULL, "
    f"recipient = {_MASKED}, content = '{REDACTED}', "
    "anonymised_at = COALESCE(anonymised_at, :now) WHERE account_id = :account",
    "DELETE FROM access_log WHERE account_id = :account",
    f"UPDATE transcript_messages SET text = '{REDACTED}', link = NULL, buttons = NULL "
    "WHERE conversation_id IN (SELECT id FROM conversations WHERE account_id = :account "
    "UNION SELECT conversation_id FROM verification_codes WHERE account_id = :account)",
    "UPDATE conversations SET account_id = NULL, verified_until = NULL, verified_via = NULL, "
    "state = '{}', version = version + 1 WHERE account_id = :account",
    "DELETE FROM verification_codes WHERE account_id = :account",
    'DELETE FROM outbox_messages WHERE "to" IN '
    "(SELECT email FROM people WHERE account_id = :account)",
    "UPDATE invoices SET billing_email = NULL, legal_hold_until = :hold "
    "WHERE account_id = :account",
    "UPDATE payments SET card_last4 = NULL "
    "WHERE invoice_id IN (SELECT id FROM invoices WHERE account_id = :account)",
    f"UPDATE api_keys SET key_hash = '{REVOKED_PREFIX}' || id, label = '{REDACTED}', "
    "revoked_at = COALESCE(revoked_at, :now) WHERE account_id = :account",
    "UPDATE consents SET granted = false, source = 'erasure', updated_at = :now "
    "WHERE account_id = :account",
    "DELETE FROM people WHERE account_id = :account",
    "UPDATE accounts SET company = NULL, google_subject = NULL, status = 'closed', "
    "closed_at = :now WHERE id = :account",
)


async def _seed(url: str, count: int, now: datetime) -> int:
    db = Database(url)
    try:
        # a phone of its own: the seeded messages' sender number is every account's
        account_id = await seeding.add_customer(db, now, seeding.AccountData(phone=PHONE))
        others = await seeding.add_accounts(db, OTHER_ACCOUNTS, now)
    finally:
        await db.dispose()
    await seeding.add_messages(url, [account_id], count, now)
    await seeding.add_messages(url, others, count // 2, now)
    return account_id


async def _baseline(url: str, account_id: int, now: datetime) -> tuple[int, float]:
    """Rows changed and seconds of the raw statements, in one transaction."""
    db = Database(url)
    try:
        params: dict[str, Any] = {"account": account_id, "hold": date(now.year + 5, 12, 31)}
        params["now"] = now if db.is_postgres else seeding.sqlite_time(now)
        if not db.is_postgres:
            params["hold"] = params["hold"].isoformat()
        async with db.sessions() as session:  # connect before timing
            await session.connection()
        rows = 0
        start = time.perf_counter()
        async with db.transaction() as session:
            for sql in _RAW:
                result = await session.execute(text(sql), params)
                rows += int(result.rowcount)  # type: ignore[attr-defined]
        return rows, time.perf_counter() - start
    finally:
        await db.dispose()


async def _product(url: str, account_id: int, data_dir: Path) -> tuple[int, float]:
    """Rows the erasure reports as erased, and its seconds."""
    db = Database(url)
    ctx = ActionContext(
        db=db,
        request_id=1,
        reference="PR-BENCHE1",
        kind="erasure",
        account_id=account_id,
        language="da",
        details={},
        secret=SECRET,
        public_url="http://127.0.0.1:8080",
        data_dir=data_dir,
        now=lambda: datetime.now(UTC),
    )
    try:
        async with db.sessions() as session:  # connect before timing
            await session.connection()
        start = time.perf_counter()
        result = await erasure.run(ctx)
        seconds = time.perf_counter() - start
        async with db.sessions() as session:
            status = await session.scalar(select(Account.status).where(Account.id == account_id))
            redacted = await session.scalar(
                select(func.count())
                .select_from(SmsMessage)
                .where(SmsMessage.account_id == account_id, SmsMessage.content == REDACTED)
            )
    finally:
        await db.dispose()
    erased: dict[str, int] = result.effects["erased"]
    if status != "closed" or redacted != erased["sms_messages"]:
        raise RuntimeError(f"erasure incomplete: account {status}, {redacted} messages erased")
    return sum(erased.values()), seconds


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = QUICK_MESSAGES if quick else MESSAGES
    now = datetime.now(UTC)
    source = await scratch.create("erasure")
    progress(f"erasure/{backend}: seeding an account with {count:,} messages (+{count // 2:,})")
    account_id = await _seed(source, count, now)
    await seeding.analyse(source)
    copy = await scratch.create("erasure_raw", source)
    progress(f"erasure/{backend}: baseline (raw UPDATE/DELETE statements)")
    base_rows, base_seconds = await _baseline(copy, account_id, now)
    await scratch.drop(copy)
    progress(f"erasure/{backend}: erasure executor")
    rows, seconds = await _product(source, account_id, scratch.folder / f"erasure-{backend}")
    await scratch.drop(source)
    rate = rows / seconds
    baseline = rows / base_seconds  # the same changes; the raw count adds the closing rows
    progress(
        f"erasure/{backend}: {rows:,} rows in {seconds:.2f}s (raw statements: {base_rows:,} "
        f"rows in {base_seconds:.2f}s)"
    )
    return [
        figure(
            "erasure.rows_per_s",
            backend,
            rate,
            "rows/s",
            baseline,
            ratio_at_least(0.5),
            note=f"{count:,} messages of the account, {count // 2:,} of others",
        )
    ]
