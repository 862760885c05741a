"""The worker's start (approved -> in_progress) is audited in the claim's own statement on
PostgreSQL, and by the claim's transaction when the statement could not write it."""

from __future__ import annotations

from typing import Any

import pytest

from storage.privacy_models import AuditEntry
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, open_request, rows
from workflow import audit, queue, queue_steps, worker
from workflow.worker import WorkerDeps

_STARTED = ("status", {"kind": "objection", "from": "approved", "to": "in_progress"})


async def _started_entries(deps: WorkerDeps, request_id: int) -> list[Any]:
    entries = await rows(deps.db, AuditEntry, AuditEntry.request_id == request_id)
    return [
        (e.event, e.data) for e in entries if e.event == "status" and e.data["to"] == "in_progress"
    ]


@pytest.mark.parametrize("backend", ["postgresql"])  # one statement: PostgreSQL only
async def test_the_claims_statement_writes_the_start_entry(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    async with deps.db.transaction() as session:
        found = await queue.claim_and_start(session, "worker-1", now=clock())
        assert found is not None and found.request is not None
        assert found.request.status == "approved" and found.start_audited
    assert await _started_entries(deps, request.id) == [_STARTED]
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_start_the_statement_did_not_audit_is_audited_at_commit(
    backend: str, deps: WorkerDeps, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry is written by the statement only for the kind the candidate row said;
    told another kind, the statement moves the request but writes no entry, and the
    worker appends the right one in the same transaction."""
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    real = queue_steps.start_parameters
    monkeypatch.setattr(
        queue_steps, "start_parameters", lambda rid, _kind, now: real(rid, "erasure", now)
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, started = found
    assert started is not None
    assert await _started_entries(deps, request.id) == [_STARTED]
    assert await worker.process(deps, claimed, started) == "done"
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok
