"""Transactions that append to the audit chain meet a customer's turn on one
conversation without deadlock (PostgreSQL's row locks).

A turn on the transaction path holds its conversation row and may then append to the
audit chain. Any other transaction that writes a row referring to that conversation (a
notification: its foreign key check locks the conversation) must not hold the chain's
head meanwhile: the head is the last lock a transaction takes (`workflow.audit`), and the
worker's finish, whose one statement appends and notifies, locks the conversation first.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from storage import conversations
from storage.db import Database
from storage.privacy_models import AuditEntry, Notification
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, audit_events, new_conversation, open_request
from workflow import audit, queue_finish, worker, worker_outcomes
from workflow.executors import ExecutorResult
from workflow.worker import WorkerDeps

_WAITING = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _until_a_session_waits_for_a_lock(db: Database) -> None:
    async with asyncio.timeout(10), db.sessions() as session:
        # the server's view of who waits has no event to await: it is polled, each time
        # in a new transaction (a transaction keeps its first view of pg_stat_activity)
        while not await session.scalar(text(_WAITING)):
            await session.rollback()
            await asyncio.sleep(0.01)


async def _turn(db: Database, conversation_id: str, holds: asyncio.Event) -> None:
    """A turn holding its conversation; once another session waits (for that row), it
    appends to the audit chain and commits."""
    async with db.transaction() as session:
        await conversations.get(session, conversation_id, for_update=True)
        holds.set()
        await _until_a_session_waits_for_a_lock(db)
        await audit.append(session, actor="test", event="turn", request_id=None, data={})


@pytest.mark.parametrize("backend", ["postgresql"])  # row locks
@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "transaction"])
async def test_a_finish_waits_for_a_turn_holding_the_conversation_instead_of_deadlocking(
    backend: str, one_statement: bool, deps: WorkerDeps, clock: FakeClock
) -> None:
    """Both ways a worker finishes: in one statement that commits on its own (the claim
    started the request) and in a transaction that reads and locks the request first."""
    db = deps.db
    conversation_id = await new_conversation(db)
    request = await open_request(
        db, "objection", now=clock(), account=await account_id(db), conversation_id=conversation_id
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, _started = found
    turn_holds = asyncio.Event()

    assert claimed.request is not None

    async def finish() -> bool:
        await turn_holds.wait()
        attempt = worker_outcomes.attempt(claimed, ExecutorResult())
        assert claimed.request is not None
        if one_statement:  # no retry: a deadlock would surface here
            at_once = queue_finish.finish_at_once
            done = await at_once(db, attempt, now=clock(), seen=claimed.request)
        else:
            async with db.transaction() as session:
                done = await queue_finish.finish(session, attempt, now=clock())
        return done is not None

    async with asyncio.timeout(30):
        _, finished = await asyncio.gather(_turn(db, conversation_id, turn_holds), finish())
    assert finished
    assert (await audit_events(db, request.id))[-2:] == ["action_done", "status"]
    async with db.sessions() as session:
        assert (await audit.verify(session)).ok


@pytest.mark.parametrize("backend", ["postgresql"])  # row locks
async def test_a_transaction_that_appends_and_then_notifies_waits_for_the_turn(
    backend: str, seeded: Database, clock: FakeClock
) -> None:
    """An agent's decision, say: it appends its audit entry, then queues a notification
    to the conversation a turn holds."""
    conversation_id = await new_conversation(seeded)
    turn_holds = asyncio.Event()

    async def decision() -> None:
        await turn_holds.wait()
        async with seeded.transaction() as session:  # no retry: a deadlock would surface
            await audit.append(
                session, actor="agent:alice", event="probe", request_id=None, data={}
            )
            session.add(
                Notification(
                    conversation_id=conversation_id,
                    channel="webchat",
                    language="en",
                    event="probe",
                    created_at=clock(),
                )
            )

    async with asyncio.timeout(30):
        await asyncio.gather(_turn(seeded, conversation_id, turn_holds), decision())
    async with seeded.sessions() as session:
        events = (await session.scalars(select(AuditEntry.event))).all()
        assert {"turn", "probe"} <= set(events)
        assert (await audit.verify(session)).ok
