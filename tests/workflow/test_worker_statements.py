"""The worker's statements on PostgreSQL: the start (approved -> in_progress) is audited in
the claim's own statement (else by the claim's transaction), and the finish is one
statement that commits on its own, unless the request changed since the claim."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text, update

from storage.privacy_models import AuditEntry, PrivacyRequest
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, open_request, rows
from workflow import audit, queue, queue_steps, worker, worker_outcomes
from workflow.executors import ExecutorResult
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


_SYNCHRONOUS = text("SELECT current_setting('synchronous_commit')")


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_only_a_claims_commit_does_not_wait_for_the_flush(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    await open_request(deps.db, "objection", now=clock(), account=await account_id(deps.db))
    async with deps.db.transaction() as session:
        assert await queue.claim_and_start(session, "worker-1", now=clock()) is not None
        assert await session.scalar(_SYNCHRONOUS) == "off"
    async with deps.db.transaction() as session:  # the next transaction, as configured
        assert await session.scalar(_SYNCHRONOUS) == "on"


def _statements(deps: WorkerDeps) -> list[str]:
    """The statements the worker's database runs from now on."""
    seen: list[str] = []
    event.listen(
        deps.db.engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_args: seen.append(statement),
    )
    return seen


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_finish_is_one_statement(backend: str, deps: WorkerDeps, clock: FakeClock) -> None:
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, _started = found
    assert claimed.request is not None and claimed.request.status == "in_progress"
    statements = _statements(deps)
    assert await worker_outcomes.finish(deps, claimed, ExecutorResult()) == "done"
    assert len(statements) == 1
    [row] = await rows(deps.db, PrivacyRequest, PrivacyRequest.id == request.id)
    assert row.status == "completed" and row.version == claimed.request.version + 1
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_request_changed_since_the_claim_is_finished_as_it_now_is(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    """The one statement writes nothing for a request whose version moved on; the finish
    in a transaction then reads the request as it now is (here: its new details)."""
    request = await open_request(
        deps.db,
        "objection",
        now=clock(),
        account=await account_id(deps.db),
        details={"purposes": ["marketing"]},
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, _started = found
    async with deps.db.transaction() as session:
        await session.execute(
            update(PrivacyRequest)
            .where(PrivacyRequest.id == request.id)
            .values(details={"purposes": ["profiling"]}, version=PrivacyRequest.version + 1)
        )
    statements = _statements(deps)
    assert await worker_outcomes.finish(deps, claimed, ExecutorResult()) == "done"
    assert len(statements) > 1, "finished again in a transaction"
    [row] = await rows(deps.db, PrivacyRequest, PrivacyRequest.id == request.id)
    assert row.status == "completed" and row.details == {"purposes": ["profiling"]}
    assert (await _statuses(deps, request.id)).count("completed") == 1
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


async def _statuses(deps: WorkerDeps, request_id: int) -> list[str]:
    entries = await rows(deps.db, AuditEntry, AuditEntry.request_id == request_id)
    return [e.data["to"] for e in entries if e.event == "status"]
