"""Issue 13.17: every attempt of an action is in the audit chain, also one whose worker
died and whose action another worker took over after the lease."""

from __future__ import annotations

from storage.privacy_models import AuditEntry
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, open_request, rows
from workflow import worker
from workflow.worker import WorkerDeps


async def test_a_taken_over_action_audits_the_dead_workers_attempt(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    dead = await worker.claim_next(deps, "dead-worker")
    assert dead is not None and not dead.reclaimed
    clock.advance(seconds=61)  # the lease has expired
    found = await worker.claim_and_start(deps, "alive-worker")
    assert found is not None
    alive, started = found
    assert alive.id == dead.id and alive.reclaimed and alive.attempts == 2
    assert await worker.process(deps, alive, started) == "done"
    entries = [
        (e.event, e.data)
        for e in await rows(deps.db, AuditEntry, AuditEntry.request_id == request.id)
        if e.event.startswith("action_")
    ]
    assert entries[0] == (
        "action_retry",
        {"kind": "objection", "attempts": 1, "why": "lease_expired"},
    )
    assert entries[1][0] == "action_done" and entries[1][1]["attempts"] == 2
    assert len(entries) == 2
