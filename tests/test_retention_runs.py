"""The retention sweep as the worker runs it: what is kept, what goes, once across workers.

On the demo data plus conversations in every situation the policy names: old and new,
tied to an open or a closed privacy request, with an open support case; download links
and export files past their lifetime.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from storage import conversations
from storage.db import Database
from storage.models import Conversation, Person, SmsMessage, TranscriptMessage
from storage.privacy_models import AuditEntry, Notification, PrivacyRequest, SupportCase
from tests.clock import FakeClock
from tests.conftest import TEST_SECRET
from workflow import audit, retention, retention_runs
from workflow.worker import WorkerConfig, WorkerDeps, run_worker

DAY = timedelta(days=1)


async def _account(db: Database) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(Person.account_id).where(Person.email == "ben@example.com")
        )
    assert found is not None
    return int(found)


async def _conversation(
    db: Database, now: datetime, age: timedelta, *, state: dict[str, Any] | None = None
) -> str:
    """A web chat conversation whose 3 messages and last activity are `age` old."""
    async with db.transaction() as session:
        conversation = conversations.create(session, "webchat", locale="en")
        conversation.state = state or {"flow": "rectification", "details": {"reason": "x"}}
        await session.flush()
        for seq in (1, 2, 3):
            session.add(
                TranscriptMessage(
                    conversation_id=conversation.id,
                    seq=seq,
                    sender="customer" if seq % 2 else "bot",
                    text=f"message {seq}",
                    created_at=now - age,
                )
            )
        conversation.last_seq = 3
        conversation.updated_at = now - age
        return conversation.id


async def _request(
    db: Database, now: datetime, account: int, conversation_id: str, status: str, ref: str
) -> None:
    async with db.transaction() as session:
        session.add(
            PrivacyRequest(
                reference=ref,
                kind="access",
                status=status,
                account_id=account,
                channel="webchat",
                conversation_id=conversation_id,
                language="en",
                requester_ref="r" * 64,
                details={},
                received_at=now - 40 * DAY,
                due_at=now + DAY,
                updated_at=now - 40 * DAY,
            )
        )


async def _notification(db: Database, now: datetime, age: timedelta, status: str) -> int:
    async with db.transaction() as session:
        row = Notification(
            channel="webchat",
            language="en",
            event="completed",
            params={"reference": "PR-X", "download_url": "http://x/downloads/t", "kind": "access"},
            status=status,
            created_at=now - age,
        )
        session.add(row)
        await session.flush()
        return row.id


def _file(path: Path, age: timedelta, now: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    stamp = (now - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


async def _messages(db: Database, conversation_id: str) -> list[str]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(TranscriptMessage.text)
            .where(TranscriptMessage.conversation_id == conversation_id)
            .order_by(TranscriptMessage.seq)
        )
        return list(rows)


async def _state(db: Database, conversation_id: str) -> dict[str, Any]:
    async with db.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    return dict(conversation.state)


async def _sweeps(db: Database) -> list[AuditEntry]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.event.in_([retention_runs.DONE, retention_runs.INTERRUPTED]))
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_the_sweep_keeps_what_a_request_or_case_needs_and_a_rerun_changes_nothing(
    seeded: Database, tmp_path: Path
) -> None:
    clock = FakeClock()
    now = clock()
    account = await _account(seeded)
    old = await _conversation(seeded, now, 40 * DAY)
    new = await _conversation(seeded, now, 2 * DAY)
    open_request = await _conversation(seeded, now, 40 * DAY)
    closed_request = await _conversation(seeded, now, 40 * DAY)
    case = await _conversation(seeded, now, 40 * DAY)
    async with seeded.transaction() as session:  # a person was asked for: an open case
        session.add(SupportCase(conversation_id=case, reason="handover", opened_at=now - 40 * DAY))
    await _request(seeded, now, account, open_request, "awaiting_approval", "PR-OPEN01")
    await _request(seeded, now, account, closed_request, "completed", "PR-DONE01")
    expired_link = await _notification(seeded, now, 8 * DAY, "delivered")
    fresh_link = await _notification(seeded, now, 2 * DAY, "delivered")
    data = tmp_path / "data"
    old_export = _file(data / "exports" / "PR-DONE01-access.zip", 9 * DAY, now)
    new_export = _file(data / "exports" / "PR-OPEN01-access.zip", 1 * DAY, now)
    open_plan = _file(data / "erasure" / "PR-OPEN01.json", 20 * DAY, now)
    closed_plan = _file(data / "erasure" / "PR-DONE01.json", 20 * DAY, now)
    async with seeded.sessions() as session:
        old_sms = await session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.sent_at < now - 30 * DAY, SmsMessage.anonymised_at.is_(None))
        )

    report = await retention_runs.run_sweep(seeded, clock=clock, data_dir=data)
    assert report is not None and not report.interrupted
    assert report.counts == {
        "sms_messages_anonymised": old_sms,
        "transcript_messages_erased": 6,  # old + closed_request, 3 each
        "dialog_states_cleared": 2,
        "download_links_purged": 1,
        "export_files_purged": 1,
        "erasure_plans_purged": 1,
    }
    assert await _messages(seeded, old) == [] == await _messages(seeded, closed_request)
    for kept in (new, open_request, case):
        assert await _messages(seeded, kept) == ["message 1", "message 2", "message 3"]
    assert await _state(seeded, old) == {}
    assert (await _state(seeded, new))["flow"] == "rectification"
    assert (await _state(seeded, open_request))["flow"] == "rectification"
    assert (await _state(seeded, case))["flow"] == "rectification", "kept with its open case"
    async with seeded.sessions() as session:
        expired = await session.get(Notification, expired_link)
        fresh = await session.get(Notification, fresh_link)
    assert expired is not None and fresh is not None
    assert "download_url" not in expired.params and expired.params["reference"] == "PR-X"
    assert "download_url" in fresh.params
    assert not old_export.exists() and new_export.exists()
    assert open_plan.exists() and not closed_plan.exists()

    entries = await _sweeps(seeded)
    assert [e.event for e in entries] == [retention_runs.DONE]
    assert entries[0].actor == "retention" and entries[0].request_id is None
    assert entries[0].data["counts"] == report.counts == entries[0].data["totals"]
    assert set(entries[0].data["cutoffs"]) == {"sms_messages_anonymised", "download_links_purged"}

    clock.advance(minutes=5)
    again = await retention_runs.run_sweep(seeded, clock=clock, data_dir=data)
    assert again is not None and again.counts == {}
    assert await _messages(seeded, new) == ["message 1", "message 2", "message 3"]
    entries = await _sweeps(seeded)
    assert len(entries) == 2 and entries[1].data["counts"] == {}
    assert entries[1].data["totals"] == report.counts, "totals carry over"
    async with seeded.sessions() as session:
        assert (await audit.verify(session)).ok


async def test_only_one_sweep_runs_at_a_time(seeded: Database) -> None:
    clock = FakeClock()
    async with retention_runs.exclusive(seeded) as got:
        assert got
        async with retention_runs.exclusive(seeded) as second:
            assert not second, "a second holder (another worker) is refused"
        assert await retention_runs.run_sweep(seeded, clock=clock) is None
    async with retention_runs.exclusive(seeded) as after:
        assert after, "released when the holder is done"
    assert await _sweeps(seeded) == []


async def test_the_lock_holds_across_database_handles(seeded: Database) -> None:
    """Another process has its own engine; on SQLite the lock is a file, on PostgreSQL
    a server-side lock, so a second Database object stands in for a second worker."""
    other = Database(seeded.url)
    try:
        async with (
            retention_runs.exclusive(seeded) as got,
            retention_runs.exclusive(other) as second,
        ):
            assert got and not second
    finally:
        await other.dispose()


async def test_workers_share_one_hourly_schedule(seeded: Database) -> None:
    clock = FakeClock()
    policy = retention.RetentionPolicy()
    first = retention_runs.Scheduler(interval=timedelta(hours=1), policy=policy)
    second = retention_runs.Scheduler(interval=timedelta(hours=1), policy=policy)

    wait = await first.tick(seeded, clock)
    assert len(await _sweeps(seeded)) == 1 and 3599 <= wait <= 3600
    clock.advance(minutes=10)
    wait = await second.tick(seeded, clock)
    assert len(await _sweeps(seeded)) == 1, "the other worker sees the sweep in the audit log"
    assert 2999 <= wait <= 3000
    clock.advance(minutes=51)
    await second.tick(seeded, clock)
    await first.tick(seeded, clock)
    assert len(await _sweeps(seeded)) == 2, "one sweep per interval between them"


async def test_a_sweep_stopped_between_batches_is_audited_and_resumed(seeded: Database) -> None:
    clock = FakeClock()
    policy = retention.RetentionPolicy(batch=200)
    report = await retention_runs.run_sweep(
        seeded, clock=clock, policy=policy, should_stop=lambda: True
    )
    assert report is not None and report.interrupted
    assert report.counts == {"sms_messages_anonymised": 200}
    [entry] = await _sweeps(seeded)
    assert entry.event == retention_runs.INTERRUPTED and "cutoffs" not in entry.data

    rest = await retention_runs.run_sweep(seeded, clock=clock, policy=policy)
    assert rest is not None and not rest.interrupted
    async with seeded.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.sent_at < clock() - 30 * DAY, SmsMessage.anonymised_at.is_(None))
        )
    assert left == 0
    assert (await _sweeps(seeded))[-1].data["totals"]["sms_messages_anonymised"] == (
        200 + rest.counts["sms_messages_anonymised"]
    )


async def test_a_later_sweep_looks_only_since_the_last_cutoff_unless_full(
    seeded: Database,
) -> None:
    clock = FakeClock()
    await retention_runs.run_sweep(seeded, clock=clock)
    account = await _account(seeded)
    async with seeded.transaction() as session:  # written late with an old timestamp
        late = SmsMessage(
            account_id=account, recipient="+4511223344", content="late", sent_at=clock() - 300 * DAY
        )
        session.add(late)

    async def late_content() -> str | None:
        async with seeded.sessions() as session:
            return await session.scalar(select(SmsMessage.content).where(SmsMessage.id == late.id))

    clock.advance(hours=1)
    quick = await retention_runs.run_sweep(seeded, clock=clock)
    assert quick is not None and await late_content() == "late"
    full = await retention_runs.run_sweep(seeded, clock=clock, full=True)
    assert full is not None and full.counts == {"sms_messages_anonymised": 1}
    assert await late_content() == retention.ANONYMISED


async def test_the_worker_sweeps_on_its_own(seeded: Database, tmp_path: Path) -> None:
    stop, swept = asyncio.Event(), asyncio.Event()

    def progress(line: str) -> None:
        if line.startswith("retention sweep"):
            swept.set()

    deps = WorkerDeps(
        db=seeded,
        secret=TEST_SECRET.encode(),
        public_url="http://127.0.0.1:8080",
        data_dir=tmp_path / "data",
        config=WorkerConfig(poll_seconds=0.01),
        retention=retention_runs.Scheduler(
            interval=timedelta(hours=1), policy=retention.RetentionPolicy(), progress=progress
        ),
        name="retention-test",
    )
    task = asyncio.create_task(run_worker(deps, stop=stop, concurrency=1))
    await asyncio.wait_for(swept.wait(), timeout=60)
    stop.set()
    assert await task == 0
    [entry] = await _sweeps(seeded)
    assert entry.event == retention_runs.DONE
    assert entry.data["counts"]["sms_messages_anonymised"] > 0


def test_cli_prints_every_category_and_refuses_while_a_sweep_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "SECRET_KEY": "x" * 40}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(cli, ["demo", "seed"], env=env).exit_code == 0
    shown = runner.invoke(cli, ["retention", "run", "--dry-run"], env=env)
    assert shown.exit_code == 0, shown.output
    lines = {line.split()[0]: line for line in shown.stdout.splitlines()}
    assert set(lines) == set(retention.CATEGORIES)
    assert "would change" in lines["sms_messages_anonymised"]

    async def hold_and_run() -> Any:
        db = Database(f"sqlite:///{tmp_path}/r.db")
        try:
            async with retention_runs.exclusive(db) as got:
                assert got
                return await asyncio.to_thread(
                    runner.invoke, cli, ["retention", "run", "--json"], env=env
                )
        finally:
            await db.dispose()

    busy = asyncio.run(hold_and_run())
    assert busy.exit_code == 1 and "another retention sweep" in busy.stderr
    done = runner.invoke(cli, ["retention", "run", "--json"], env=env)
    assert done.exit_code == 0 and json.loads(done.stdout)["total"] > 0
