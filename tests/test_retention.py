"""The retention sweep on the demo data: old SMS anonymised and masked, new ones untouched."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from storage.db import Database
from storage.models import SmsMessage
from storage.types import utcnow
from workflow import retention


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
