"""The worker's statements on PostgreSQL: a ready action is claimed and started, audited,
by one statement that commits on its own, and finished by another, unless the request
changed since the claim; an action whose lease expired is claimed in a transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update

from storage.privacy_models import Action, AuditEntry, PrivacyRequest
from tests.clock import FakeClock
from tests.sql_trace import statements
from tests.workflow.conftest import account_id, open_request, rows
from workflow import audit, queue, worker, worker_outcomes
from workflow.executors import ExecutorResult
from workflow.worker import WorkerDeps

_STARTED = ("status", {"kind": "objection", "from": "approved", "to": "in_progress"})


async def _started_entries(deps: WorkerDeps, request_id: int) -> list[Any]:
    entries = await rows(deps.db, AuditEntry, AuditEntry.request_id == request_id)
    return [
        (e.event, e.data) for e in entries if e.event == "status" and e.data["to"] == "in_progress"
    ]


@pytest.mark.parametrize("backend", ["postgresql"])  # one statement: PostgreSQL only
async def test_a_ready_action_is_claimed_and_started_in_one_statement(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    async with statements(deps.db) as sent:
        found = await worker.claim_and_start(deps, "worker-1")
    assert len(sent) == 1, sent
    assert found is not None
    claimed, started = found
    assert started is not None and claimed.request is not None
    assert claimed.request.status == "in_progress"
    assert await _started_entries(deps, request.id) == [_STARTED]
    [row] = await rows(deps.db, PrivacyRequest, PrivacyRequest.id == request.id)
    assert row.status == "in_progress" and row.version == claimed.request.version
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("in_statement", [True, False], ids=["in the statement", "at commit"])
async def test_a_taken_over_action_is_started_and_audited_in_one_transaction(
    backend: str,
    in_statement: bool,
    deps: WorkerDeps,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An action whose lease expired is claimed in a transaction that also audits the
    takeover: the start's entry comes first, written by the claim's statement or, when
    the transaction had appended before it, by the worker."""
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    assert await worker.claim_next(deps, "dead-worker") is not None  # claimed, not started
    clock.advance(seconds=61)
    if not in_statement:
        monkeypatch.setattr(audit, "in_one_statement", lambda _session: False)
    found = await worker.claim_and_start(deps, "alive-worker")
    assert found is not None
    claimed, started = found
    assert claimed.reclaimed and started is not None
    entries = await rows(deps.db, AuditEntry, AuditEntry.request_id == request.id)
    assert [(e.event, e.data) for e in entries][-2:] == [
        _STARTED,
        ("action_retry", {"kind": "objection", "attempts": 1, "why": "lease_expired"}),
    ]
    assert await worker.process(deps, claimed, started) == "done"
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_account_whose_other_action_is_held_is_busy(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    """The claim's snapshot cannot show a claim of the account's other action that is in
    flight: that action's row is locked, so the account counts as busy until it is not."""
    ben = await account_id(deps.db)
    first = await open_request(deps.db, "objection", now=clock(), account=ben)
    clock.advance(seconds=1)
    await open_request(deps.db, "objection", now=clock(), account=ben)
    async with deps.db.transaction() as session:  # another worker, claiming the first
        await session.execute(
            select(Action.id).where(Action.request_id == first.id).with_for_update()
        )
        busy = await queue.claim_and_start_at_once(deps.db, "worker-1", now=clock())
        assert busy == queue.BUSY
    found = await queue.claim_and_start_at_once(deps.db, "worker-1", now=clock())
    assert isinstance(found, queue.ClaimedAndStarted)
    assert found.claimed.request_id == first.id and found.moved and found.start_audited


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


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_finish_is_one_statement(backend: str, deps: WorkerDeps, clock: FakeClock) -> None:
    request = await open_request(
        deps.db, "objection", now=clock(), account=await account_id(deps.db)
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, _started = found
    assert claimed.request is not None and claimed.request.status == "in_progress"
    async with statements(deps.db) as sent:
        assert await worker_outcomes.finish(deps, claimed, ExecutorResult()) == "done"
    assert len(sent) == 1, sent
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
    async with statements(deps.db) as sent:
        assert await worker_outcomes.finish(deps, claimed, ExecutorResult()) == "done"
    assert len(sent) > 1, "finished again in a transaction"
    [row] = await rows(deps.db, PrivacyRequest, PrivacyRequest.id == request.id)
    assert row.status == "completed" and row.details == {"purposes": ["profiling"]}
    assert (await _statuses(deps, request.id)).count("completed") == 1
    async with deps.db.sessions() as session:
        assert (await audit.verify(session)).ok


async def _statuses(deps: WorkerDeps, request_id: int) -> list[str]:
    entries = await rows(deps.db, AuditEntry, AuditEntry.request_id == request_id)
    return [e.data["to"] for e in entries if e.event == "status"]
