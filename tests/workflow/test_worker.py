"""The worker end to end: executors run once, requests complete, customers hear once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Account, Consent
from storage.privacy_models import Action, AuditEntry, Notification
from tests.clock import FakeClock
from tests.workflow.conftest import (
    account_id,
    agent,
    alerts,
    audit_events,
    bot_messages,
    make_deps,
    new_conversation,
    notifications_of,
    open_request,
    reload,
    rows,
)
from workflow import decisions, worker, worker_outcomes
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure, registry
from workflow.worker import WorkerDeps


@pytest.fixture
def flaky() -> Iterator[dict[str, int]]:
    """A test executor kind that fails as often as told, counting its calls."""
    state = {"calls": 0, "fail": 0, "permanent": 0}

    async def run(ctx: ActionContext) -> ExecutorResult:
        state["calls"] += 1
        if state["permanent"]:
            raise PermanentFailure("the account no longer exists")
        if state["calls"] <= state["fail"]:
            raise ConnectionError("anna@example.dk unreachable")  # PD must not leak
        return ExecutorResult(effects={"rows": 3})

    registry.register("test_flaky", run)
    yield state
    registry.unregister("test_flaky")


async def _stop() -> asyncio.Event:
    return asyncio.Event()


async def test_worker_once_runs_restriction_and_objection_end_to_end(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    db = deps.db
    ben = await account_id(db)
    conversation_id = await new_conversation(db)
    objection = await open_request(
        db,
        "objection",
        now=clock(),
        account=ben,
        conversation_id=conversation_id,
        details={"purposes": ["marketing_email", "tracking"]},
    )
    restriction = await open_request(
        db, "restriction", now=clock(), account=ben, conversation_id=conversation_id
    )
    async with db.transaction() as session:
        await decisions.approve(session, restriction.reference, agent("alice"), clock())
    assert await worker.run_worker(deps, stop=await _stop(), concurrency=2, once=True) == 0

    assert (await reload(db, objection.reference)).status == "completed"
    assert (await reload(db, restriction.reference)).status == "completed"
    async with db.sessions() as session:
        account = await session.scalar(select(Account).where(Account.id == ben))
        assert account is not None and account.restricted and account.restricted_at == clock()
        consents = {
            c.purpose: (c.granted, c.source)
            for c in await session.scalars(select(Consent).where(Consent.account_id == ben))
        }
    assert consents["marketing_email"] == (False, "objection")
    assert consents["tracking"] == (False, "objection")
    assert consents.get("profiling", (None, None))[1] != "objection", "not objected to"

    messages = await bot_messages(db, conversation_id)
    assert sum("no longer use your data for marketing emails" in m for m in messages) == 1
    assert sum("now restricted" in m for m in messages) == 1
    assert any("approved" in m for m in messages), "the agent's approval was announced"
    # A second run finds nothing to do and says nothing more.
    assert await worker.run_worker(deps, stop=await _stop(), concurrency=2, once=True) == 0
    assert await bot_messages(db, conversation_id) == messages
    assert (await audit_events(db, objection.id)).count("action_done") == 1
    [done] = [
        e
        for e in await rows(db, AuditEntry, AuditEntry.event == "action_done")
        if e.request_id == objection.id
    ]
    assert done.data["effects"]["purposes"] == ["marketing_email", "tracking"]


async def test_lifting_a_restriction(deps: WorkerDeps, clock: FakeClock) -> None:
    db = deps.db
    ben = await account_id(db)
    for details in ({}, {"lift": True}):
        request = await open_request(db, "restriction", now=clock(), account=ben, details=details)
        async with db.transaction() as session:
            await decisions.approve(session, request.reference, agent("alice"), clock())
        await worker.run_worker(deps, stop=await _stop(), concurrency=1, once=True)
    async with db.sessions() as session:
        account = await session.scalar(select(Account).where(Account.id == ben))
    assert account is not None and not account.restricted and account.restricted_at is None


async def test_a_dead_workers_action_is_claimed_again_after_the_lease_and_done_once(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    db = deps.db
    conversation_id = await new_conversation(db)
    request = await open_request(
        db,
        "objection",
        now=clock(),
        account=await account_id(db),
        conversation_id=conversation_id,
    )
    dead = await worker.claim_next(deps, "dead-worker")
    assert dead is not None and dead.attempts == 1
    assert await worker.claim_next(deps, "other") is None, "leased: nobody else may take it"
    clock.advance(seconds=59)
    assert await worker.claim_next(deps, "other") is None
    clock.advance(seconds=2)  # the lease has expired
    alive = await worker.claim_next(deps, "alive-worker")
    assert alive is not None and alive.id == dead.id and alive.attempts == 2
    assert await worker.process(deps, alive) == "done"
    # The dead worker wakes up: it can neither finish nor fail the action any more.
    assert await worker.process(deps, dead) == "skipped"
    assert await worker_outcomes.fail(deps, dead, "late", permanent=True) == "lost"
    await worker.housekeep(deps)
    [action] = await rows(db, Action, Action.request_id == request.id)
    assert action.status == "done" and action.attempts == 2
    assert (await reload(db, request.reference)).status == "completed"
    completed = [n for n in await notifications_of(db, request.id) if n.event == "completed"]
    assert sorted(n.channel for n in completed) == ["email", request.channel], "once per route"
    assert sum("no longer use your data" in m for m in await bot_messages(db, conversation_id)) == 1


async def test_a_lost_lease_discards_the_result(deps: WorkerDeps, clock: FakeClock) -> None:
    db = deps.db
    request = await open_request(db, "objection", now=clock(), account=await account_id(db))
    found = await worker.claim_and_start(deps, "slow")  # on PostgreSQL, finished in one statement
    assert found is not None
    first, _started = found
    clock.advance(seconds=61)
    second = await worker.claim_next(deps, "fast")
    assert second is not None
    assert await worker.process(deps, second) == "done"
    assert await worker_outcomes.finish(deps, first, ExecutorResult()) == "lost"
    assert (await audit_events(db, request.id)).count("action_done") == 1
    completed = [n for n in await notifications_of(db, request.id) if n.event == "completed"]
    assert sorted(n.channel for n in completed) == ["email", request.channel], "once per route"


async def test_two_actions_of_one_account_never_run_at_the_same_time(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    db = deps.db
    ben, anna = await account_id(db), await account_id(db, "anna@example.dk")
    await open_request(db, "objection", now=clock(), account=ben)
    clock.advance(seconds=1)
    await open_request(db, "objection", now=clock(), account=ben)
    await open_request(db, "objection", now=clock(), account=anna)
    first = await worker.claim_next(deps, "w1")
    second = await worker.claim_next(deps, "w2")
    assert first is not None and second is not None
    assert {first.account_id, second.account_id} == {ben, anna}
    assert await worker.claim_next(deps, "w3") is None, "ben's second action must wait"
    ben_claim = first if first.account_id == ben else second
    assert await worker.process(deps, ben_claim) == "done"
    third = await worker.claim_next(deps, "w3")
    assert third is not None and third.account_id == ben


async def test_failures_back_off_then_fail_the_request_with_an_alert(
    deps: WorkerDeps, clock: FakeClock, flaky: dict[str, int]
) -> None:
    db = deps.db
    conversation_id = await new_conversation(db)
    request = await open_request(
        db,
        "objection",
        now=clock(),
        account=await account_id(db),
        conversation_id=conversation_id,
    )
    async with db.transaction() as session:
        action = await session.scalar(select(Action).where(Action.request_id == request.id))
        assert action is not None
        action.kind = "test_flaky"
    flaky["fail"] = 100
    delays = []
    for attempt in range(1, 6):
        claimed = await worker.claim_next(deps, "w")
        assert claimed is not None and claimed.attempts == attempt
        outcome = await worker.process(deps, claimed)
        [row] = await rows(db, Action, Action.request_id == request.id)
        if attempt < 5:
            assert outcome == "retried" and row.status == "ready"
            assert row.last_error == f"ConnectionError (attempt {attempt})", "no PD in errors"
            delay = (row.run_after - clock()).total_seconds()
            delays.append(delay)
            assert 2**attempt <= delay <= 2**attempt * 1.2
            assert await worker.claim_next(deps, "w") is None, "not before the back-off"
            clock.advance(seconds=delay + 0.001)
        else:
            assert outcome == "failed" and row.status == "failed"
    assert delays == sorted(delays)
    failed = await reload(db, request.reference)
    assert failed.status == "failed"
    assert failed.failure_reason is not None and "test_flaky" in failed.failure_reason
    assert "@" not in failed.failure_reason
    [alert] = await alerts(db, "action_failed")
    assert alert.params["reference"] == request.reference
    await worker.housekeep(deps)
    messages = await bot_messages(db, conversation_id)
    assert sum("technical problem" in m for m in messages) == 1
    assert not any("example.dk" in str(e.data) for e in await rows(db, AuditEntry))


async def test_worker_once_exits_1_when_an_action_failed(
    deps: WorkerDeps, clock: FakeClock, flaky: dict[str, int]
) -> None:
    db = deps.db
    request = await open_request(db, "objection", now=clock(), account=await account_id(db))
    async with db.transaction() as session:
        action = await session.scalar(select(Action).where(Action.request_id == request.id))
        assert action is not None
        action.kind = "test_flaky"
    flaky["permanent"] = 1
    assert await worker.run_worker(deps, stop=await _stop(), concurrency=2, once=True) == 1
    failed = await reload(db, request.reference)
    assert failed.status == "failed" and failed.failure_reason is not None
    assert "no longer exists" in failed.failure_reason
    assert flaky["calls"] == 1, "a permanent failure is not retried"


async def test_a_cancelled_requests_claimed_action_is_dropped(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    from workflow import requests as privacy_requests

    db = deps.db
    ben = await account_id(db)
    request = await open_request(db, "objection", now=clock(), account=ben)
    claimed = await worker.claim_next(deps, "w")
    assert claimed is not None
    async with db.transaction() as session:
        assert await privacy_requests.cancel_by_customer(session, request.reference, ben)
    assert await worker.process(deps, claimed) == "skipped"
    [row] = await rows(db, Action, Action.request_id == request.id)
    assert row.status == "failed" and row.last_error == "request is cancelled"
    async with db.sessions() as session:
        consents = (await session.scalars(select(Consent).where(Consent.account_id == ben))).all()
    assert all(c.source != "objection" for c in consents), "nothing was carried out"


async def test_human_review_opens_a_case_and_an_agents_answer_completes_it(
    deps: WorkerDeps, clock: FakeClock
) -> None:
    db = deps.db
    conversation_id = await new_conversation(db)
    request = await open_request(
        db,
        "human_review",
        now=clock(),
        account=await account_id(db),
        conversation_id=conversation_id,
        details={"decision": "My account was blocked automatically after a spike."},
    )
    async with db.transaction() as session:
        await decisions.approve(session, request.reference, agent("alice"), clock())
    with pytest.raises(decisions.InvalidTransition):
        async with db.transaction() as session:
            await decisions.answer(session, request.reference, agent("bob"), "too early")
    await worker.run_worker(deps, stop=await _stop(), concurrency=1, once=True)
    assert (await reload(db, request.reference)).status == "in_progress"
    [case] = await alerts(db, "human_review")
    assert "blocked automatically" in case.params["decision"]
    async with db.transaction() as session:
        await decisions.answer(
            session, request.reference, agent("bob"), "We lifted the block; it was a mistake."
        )
    await worker.housekeep(deps)
    done = await reload(db, request.reference)
    assert done.status == "completed" and done.details == {}
    messages = await bot_messages(db, conversation_id)
    assert sum("is now reviewing" in m for m in messages) == 1
    assert sum("We lifted the block" in m for m in messages) == 1


async def test_deadline_reminders_are_sent_once_each(deps: WorkerDeps, clock: FakeClock) -> None:
    db = deps.db
    request = await open_request(db, "access", now=clock(), account=await account_id(db))
    await worker.housekeep(deps)
    assert await alerts(db, "deadline_soon") == []
    clock.now = request.due_at - timedelta(days=7)
    await worker.housekeep(deps)
    await worker.housekeep(deps)
    assert len(await alerts(db, "deadline_soon")) == 1
    clock.now = request.due_at + timedelta(hours=1)
    await worker.housekeep(deps)
    await worker.housekeep(deps)
    assert len(await alerts(db, "deadline_passed")) == 1
    assert len(await alerts(db, "deadline_soon")) == 1


async def test_graceful_stop_finishes_the_action_in_flight(
    seeded: Database, clock: FakeClock, tmp_path: Path
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls: list[int] = []

    async def slow(ctx: ActionContext) -> ExecutorResult:
        calls.append(ctx.request_id)
        started.set()
        await release.wait()
        return ExecutorResult()

    registry.register("test_slow", slow)
    try:
        deps = make_deps(seeded, clock, tmp_path)
        ben = await account_id(seeded)
        anna = await account_id(seeded, "anna@example.dk")
        for account in (ben, anna):
            request = await open_request(seeded, "objection", now=clock(), account=account)
            async with seeded.transaction() as session:
                action = await session.scalar(select(Action).where(Action.request_id == request.id))
                assert action is not None
                action.kind = "test_slow"
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_worker(deps, stop=stop, concurrency=1))
        await asyncio.wait_for(started.wait(), 10)
        stop.set()
        release.set()
        assert await asyncio.wait_for(task, 10) == 0
    finally:
        registry.unregister("test_slow")
    assert len(calls) == 1, "stopped claiming after SIGTERM"
    statuses = sorted(a.status for a in await rows(seeded, Action))
    assert statuses == ["done", "ready"]
    completed = await rows(seeded, Notification, Notification.event == "completed")
    assert sorted(n.channel for n in completed) == ["email", "webchat"], "once per route"
