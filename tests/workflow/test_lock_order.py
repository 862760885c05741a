"""The worker's finish and a customer's turn meet on one conversation without deadlock.

A turn on the transaction path holds its conversation row and may then append to the
audit chain. The finish statement appends to the chain too, and its notification's
foreign key check locks that conversation at the end of the statement: the finish must
take that lock first, before it locks the chain's head (PostgreSQL's row locks).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import conversations
from storage.db import Database
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, audit_events, new_conversation, open_request
from workflow import audit, worker, worker_outcomes
from workflow.executors import ExecutorResult
from workflow.worker import WorkerDeps

_WAITING = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _until_a_session_waits_for_a_lock(db: Database) -> None:
    async with asyncio.timeout(10), db.sessions() as session:
        # the server's view of who waits has no event to await: it is polled
        while not await session.scalar(text(_WAITING)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("backend", ["postgresql"])  # row locks
async def test_a_finish_waits_for_a_turn_holding_the_conversation_instead_of_deadlocking(
    backend: str, deps: WorkerDeps, clock: FakeClock
) -> None:
    db = deps.db
    conversation_id = await new_conversation(db)
    request = await open_request(
        db, "objection", now=clock(), account=await account_id(db), conversation_id=conversation_id
    )
    found = await worker.claim_and_start(deps, "worker-1")
    assert found is not None
    claimed, _started = found
    turn_holds = asyncio.Event()

    async def turn() -> None:
        async with db.transaction() as session:
            await conversations.get(session, conversation_id, for_update=True)
            turn_holds.set()
            await _until_a_session_waits_for_a_lock(db)  # the finish, on our conversation
            await audit.append(session, actor="test", event="turn", request_id=None, data={})

    async def finish() -> str:
        await turn_holds.wait()
        async with db.transaction() as session:  # no retry: a deadlock would surface here
            return await worker_outcomes.finish(session, deps, claimed, ExecutorResult())

    async with asyncio.timeout(30):
        _, outcome = await asyncio.gather(turn(), finish())
    assert outcome == "done"
    assert (await audit_events(db, request.id))[-2:] == ["action_done", "status"]
    async with db.sessions() as session:
        assert (await audit.verify(session)).ok
