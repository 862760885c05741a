"""Issue 13.17 with a real outage: the database goes away while an action runs in a live
worker. The worker keeps trying to record the failed attempt and, once the database is
back, audits it and releases the claim at once: the action runs again within seconds,
not after its 300-second lease."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.privacy_models import Action, AuditEntry
from storage.types import utcnow
from tests.faults.pgproxy import PgProxy
from tests.faults.processes import wait_until
from tests.faults.scenario import approve, request_status
from tests.workflow.conftest import account_id, open_request
from workflow import worker
from workflow.executors import ActionContext, ExecutorResult, registry
from workflow.worker import WorkerConfig, WorkerDeps

pytestmark = pytest.mark.postgres
LEASE = timedelta(seconds=300)


class Executor:
    """An access executor whose first run meets the outage in the middle of its work."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def __call__(self, ctx: ActionContext) -> ExecutorResult:
        self.runs += 1
        if self.runs == 1:
            self.started.set()
            await self.go_on.wait()
        async with ctx.db.sessions() as session:  # the executor's own database work
            await session.execute(text("SELECT 1"))
        return ExecutorResult(effects={"files": 1})


@pytest.fixture
def executor() -> Iterator[Executor]:
    stand_in = Executor()
    registry.register("access", stand_in)
    yield stand_in
    registry.unregister("access")


async def test_an_action_cut_off_mid_run_is_released_when_the_database_returns(
    pg: Database,
    pg_url: str,
    proxy: PgProxy,
    executor: Executor,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="workflow.worker")
    via_proxy = Database(proxy.url_for(pg_url))
    deps = WorkerDeps(
        db=via_proxy,
        secret=b"k" * 32,
        public_url="http://127.0.0.1:8080",
        data_dir=tmp_path / "data",
        config=WorkerConfig(lease=LEASE, poll_seconds=0.05, backoff_base=0.1, max_backoff=0.5),
        name="live-worker",
    )
    request = await open_request(pg, "access", now=utcnow(), account=await account_id(pg))
    await approve(pg, request.reference)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(deps, stop=stop, concurrency=1))
    try:
        await asyncio.wait_for(executor.started.wait(), timeout=60)
        proxy.outage()
        executor.go_on.set()

        async def retrying() -> bool:
            return any("outcome not recorded yet" in r.getMessage() for r in caplog.records)

        await wait_until(retrying, "the worker to retry recording the failed attempt")
        async with pg.sessions() as session:
            action = (await session.scalars(select(Action))).one()
        assert (action.status, action.lease_owner) == ("running", "live-worker/0")
        proxy.restore()
        restored = asyncio.get_running_loop().time()

        async def completed() -> bool:
            return await request_status(pg, request.id) == "completed"

        await wait_until(completed, "the action to run again", within=60)
        took = asyncio.get_running_loop().time() - restored
    finally:
        stop.set()
        await running
        await via_proxy.dispose()
    assert took < LEASE.total_seconds() / 5, f"{took:.1f}s: it did not wait out the lease"
    async with pg.sessions() as session:
        entries = [
            (e.event, e.data)
            for e in await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.request_id == request.id)
                .order_by(AuditEntry.id)
            )
            if e.event.startswith("action_")
        ]
        action = (await session.scalars(select(Action))).one()
    assert executor.runs == 2 and (action.status, action.attempts) == ("done", 2)
    assert [event for event, _data in entries] == ["action_retry", "action_done"]
    assert entries[0][1]["attempts"] == 1
    print(f"\nworker outage: the action ran again {took:.1f}s after the database returned")
