"""The retention sweep on the demo data: old SMS anonymised and masked, new ones untouched."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from storage.db import Database
from storage.models import SmsMessage
from storage.types import utcnow
from workflow import retention
from workflow.retention_batches import BatchSize


async def _snapshot(db: Database) -> dict[int, tuple[str | None, str | None]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(SmsMessage.id, SmsMessage.recipient, SmsMessage.content)
        )
        return {row.id: (row.recipient, row.content) for row in rows}


async def test_old_messages_are_anonymised_new_ones_untouched_and_a_rerun_changes_nothing(
    seeded: Database,
) -> None:
    now = utcnow()
    cutoff = now - timedelta(days=30)
    before = await _snapshot(seeded)
    async with seeded.sessions() as session:
        old_ids = set(
            (
                await session.execute(
                    # the demo's anonymised recipient (+4531000004) was swept already
                    select(SmsMessage.id).where(
                        SmsMessage.sent_at < cutoff, SmsMessage.anonymised_at.is_(None)
                    )
                )
            ).scalars()
        )
    assert 0 < len(old_ids) < len(before)

    dry = await retention.sweep(seeded, now=now, dry_run=True)
    assert dry.counts["sms_messages_anonymised"] == len(old_ids)
    assert await _snapshot(seeded) == before, "a dry run changes nothing"

    report = await retention.sweep(seeded, now=now, policy=retention.RetentionPolicy(batch=500))
    assert report.counts["sms_messages_anonymised"] == len(old_ids)
    after = await _snapshot(seeded)
    for message_id, (recipient, content) in after.items():
        old_recipient, old_content = before[message_id]
        if message_id in old_ids:
            assert content == retention.ANONYMISED
            assert recipient == (old_recipient or "")[:-4] + "XXXX"
        else:
            assert (recipient, content) == (old_recipient, old_content)

    again = await retention.sweep(seeded, now=now)
    assert again.counts == {}
    assert await _snapshot(seeded) == after


async def test_an_interrupted_sweep_resumes(seeded: Database) -> None:
    now = utcnow()
    policy = retention.RetentionPolicy(batch=100)
    calls = 0

    def stop_after_first_batch(category: str, rows: int) -> None:
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    async def anonymised() -> int:
        async with seeded.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(SmsMessage)
                    .where(SmsMessage.anonymised_at.is_not(None))
                )
                or 0
            )

    already = await anonymised()  # the demo's anonymised recipient was swept before
    with contextlib.suppress(KeyboardInterrupt):
        await retention.sweep(seeded, now=now, policy=policy, progress=stop_after_first_batch)
    done = await anonymised() - already
    assert done == 100 and calls == 1, "the first batch was committed on its own"
    report = await retention.sweep(seeded, now=now, policy=policy)
    async with seeded.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(
                SmsMessage.sent_at < now - timedelta(days=30), SmsMessage.anonymised_at.is_(None)
            )
        )
    assert left == 0 and report.counts["sms_messages_anonymised"] > 0


def test_retention_cli_reports_counts_as_json(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "SECRET_KEY": "x" * 40}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(cli, ["demo", "seed"], env=env).exit_code == 0
    dry = runner.invoke(cli, ["retention", "run", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert counted["dry_run"] is True and counted["counts"]["sms_messages_anonymised"] > 0
    real = runner.invoke(cli, ["retention", "run", "--json"], env=env)
    assert json.loads(real.stdout)["counts"] == counted["counts"]
    again = runner.invoke(cli, ["retention", "run", "--json"], env=env)
    assert json.loads(again.stdout)["total"] == 0
    assert set(json.loads(again.stdout)["counts"]) == set(retention.CATEGORIES)


def test_batch_size_grows_slowly_and_shrinks_at_once() -> None:
    """Sizes follow the time each batch took: at most double after a quick full batch,
    cut by the overrun after a slow one (full or not), a quarter after the hard cap."""
    size = BatchSize(rows=1_000, target_seconds=0.2, smallest=100, largest=100_000)
    size.adapt(1_000, 0.01)
    assert size.rows == 2_000, "twenty times quicker than the target: only doubled"
    size.adapt(500, 0.01)
    assert size.rows == 2_000, "a short quick batch says nothing about the rate"
    size.adapt(500, 0.8)
    assert size.rows == 500, "four times the target, even on a short batch: a quarter"
    size.overran()
    assert size.rows == 125
    size.overran()
    assert size.rows == 100, "never below the smallest"
    size.rows = 90_000
    size.adapt(90_000, 0.1)
    assert size.rows == 100_000, "never above the largest"


async def test_a_row_another_transaction_holds_is_left_for_the_next_sweep(
    seeded: Database, database_url: str
) -> None:
    """PostgreSQL: a held row (an erasure in flight) neither stops the sweep nor is
    waited for; it stays due, so the next sweep (which looks at every row) takes it."""
    if not seeded.is_postgres:
        pytest.skip("row locks: PostgreSQL")
    now = utcnow()
    old = (SmsMessage.sent_at < now - timedelta(days=30), SmsMessage.anonymised_at.is_(None))
    async with seeded.sessions() as session:
        held_id = await session.scalar(select(SmsMessage.id).where(*old).limit(1))
    assert held_id is not None
    other = Database(database_url)
    try:
        async with other.transaction() as holder:
            await holder.execute(
                select(SmsMessage.id).where(SmsMessage.id == held_id).with_for_update()
            )
            async with asyncio.timeout(30):
                report = await retention.sweep(seeded, now=now)
            assert report.counts["sms_messages_anonymised"] > 0
            assert "sms_messages_anonymised" not in report.cutoffs, "the next sweep looks at all"
        async with seeded.sessions() as session:
            left = list(await session.scalars(select(SmsMessage.id).where(*old)))
        assert left == [held_id]
        again = await retention.sweep(seeded, now=now)
        assert again.counts["sms_messages_anonymised"] == 1
    finally:
        await other.dispose()


async def test_batches_cut_at_the_cap_are_retried_smaller_and_the_sweep_completes(
    seeded: Database,
) -> None:
    """A cap no batch can meet: every capped batch is cut before it changes anything and
    tried again at a quarter, down to the smallest size, which runs uncapped."""
    now = utcnow()
    old = (SmsMessage.sent_at < now - timedelta(days=30), SmsMessage.anonymised_at.is_(None))
    async with seeded.sessions() as session:
        due = int(await session.scalar(select(func.count()).select_from(SmsMessage).where(*old)))
    assert due > 0
    policy = retention.RetentionPolicy(batch=1_600, min_batch=100, cap_seconds=0.0)
    report = await retention.sweep(seeded, now=now, policy=policy)
    assert report.counts["sms_messages_anonymised"] == due
    async with seeded.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SmsMessage).where(*old)) == 0
