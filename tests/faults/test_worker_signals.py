"""A worker killed (SIGKILL) or stopped (SIGTERM) in the middle of a large erasure.

On both backends (on SQLite, the default, the killed worker leaves a hot journal that
the next process recovers). The account has 200,000 SMS messages (bulk-inserted), so the
erasure takes 20 batches of 10,000. "In the middle" is read from the database: some of the account's
messages are anonymised, some are not. Then:
- SIGKILL: a new worker takes the action over once the dead one's lease has expired,
  finishes the erasure, and the customer is told exactly once;
- SIGTERM: the worker claims nothing new, finishes the erasure it is running, delivers
  the notification and exits 0.
"""

from __future__ import annotations

import signal
from pathlib import Path

from sqlalchemy import func, select

from storage.datamap import REDACTED
from storage.db import Database
from storage.models import SmsMessage
from tests.faults.processes import Fleet, wait_until
from tests.faults.scenario import (
    Opened,
    add_sms,
    approved_request,
    outcome,
    request_status,
    scalar,
    sms_counts,
)

ANNA = "anna@example.dk"
BEN = "ben@example.com"
TOTAL = 200_000


async def _in_the_middle(db: Database, account: int) -> int:
    """Wait until the erasure has anonymised some but not all recent messages; how many."""
    seen: list[int] = []

    async def partly() -> bool:
        total, done = await sms_counts(db, account, recent=True)
        seen.append(done)
        return 0 < done < total

    await wait_until(partly, "the erasure to be part-way")
    return seen[-1]


async def _completed(db: Database, opened: Opened) -> None:
    async def done() -> bool:
        return await request_status(db, opened.request_id) == "completed"

    await wait_until(done, f"{opened.reference} to complete")


async def _notified(db: Database, opened: Opened) -> None:
    async def delivered() -> bool:
        return (await outcome(db, opened)).completed_notices == ["delivered"]

    await wait_until(delivered, "the completion notice to be delivered")


async def test_sigkill_mid_erasure_of_200000_messages_completes_after_restart_notified_once(
    db: Database, db_url: str, processes: Fleet, data_dir: Path
) -> None:
    opened = await approved_request(db, "erasure", ANNA)
    seeded, swept = await sms_counts(db, opened.account_id)  # the demo's old recipient: swept
    await add_sms(db_url, opened.account_id, TOTAL - seeded)
    assert await sms_counts(db, opened.account_id) == (TOTAL, swept)

    # a short lease, so the survivor takes the action over within seconds
    first = processes.worker("worker-1", "--concurrency", "1", WORKER_LEASE_SECONDS="2")
    partial = await _in_the_middle(db, opened.account_id)
    first.signal(signal.SIGKILL)
    assert await first.exit_code() == -signal.SIGKILL
    recent, killed_at = await sms_counts(db, opened.account_id, recent=True)
    assert 0 < killed_at < recent, "the worker died with the erasure part-way"
    assert await request_status(db, opened.request_id) == "in_progress"
    assert (await outcome(db, opened)).completed_notices == []

    second = processes.worker("worker-2", "--concurrency", "1", WORKER_LEASE_SECONDS="2")
    await _completed(db, opened)
    await _notified(db, opened)
    second.signal(signal.SIGTERM)
    assert await second.exit_code() == 0

    assert await sms_counts(db, opened.account_id) == (TOTAL, TOTAL)
    left = await scalar(
        db,
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.account_id == opened.account_id, SmsMessage.content != REDACTED),
    )
    assert left == 0, "every message's content is erased"
    result = await outcome(db, opened)
    assert result.status == "completed"
    assert result.actions == [("done", 2)], "one action, claimed twice: once per worker"
    assert result.action_done_audits == 1
    assert result.completed_audits == 1
    assert result.completed_notices == ["delivered"]
    assert result.transcript_notices == 1, "the customer is told exactly once"
    receipt = data_dir / "exports" / f"{opened.reference}-erasure-receipt.txt"
    assert "200000" in receipt.read_text(encoding="utf-8").replace(",", "").replace(".", "")
    print(f"\nSIGKILL after {partial:,} (dead at {killed_at:,}) of {recent:,} recent messages")


async def test_sigterm_mid_erasure_finishes_it_and_exits_0(
    db: Database, db_url: str, processes: Fleet
) -> None:
    total = 60_000
    opened = await approved_request(db, "erasure", BEN)
    seeded, _ = await sms_counts(db, opened.account_id)
    await add_sms(db_url, opened.account_id, total - seeded)

    worker = processes.worker("worker", "--concurrency", "1")
    partial = await _in_the_middle(db, opened.account_id)
    worker.signal(signal.SIGTERM)
    assert await worker.exit_code() == 0
    assert "1 done" in worker.log()

    assert await sms_counts(db, opened.account_id) == (total, total)
    result = await outcome(db, opened)
    assert result.status == "completed"
    assert result.actions == [("done", 1)], "drained, not abandoned for a retry"
    assert result.action_done_audits == 1
    assert result.completed_notices == ["delivered"], "delivered before the process exited"
    assert result.transcript_notices == 1
    print(f"\nSIGTERM after {partial:,} of {total:,} messages anonymised")
