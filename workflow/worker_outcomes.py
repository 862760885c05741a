"""Recording what became of one attempt at an action: done, put back, retried or failed.

Each outcome is one transaction; `settle` keeps trying to record it while the database
is away (for as long as the lease would have kept the action), so the claim is released
or completed as soon as the database is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storage.db import unavailable
from storage.privacy_models import PrivacyRequest
from workflow import (
    alerts,
    audit,
    backoff,
    lifecycle,
    notifications,
    queue,
    queue_finish,
)
from workflow.executors import Deferred, ExecutorResult
from workflow.executors import registry as executors
from workflow.lifecycle import ActionStatus, Status
from workflow.worker_deps import RETRY_JITTER, WORKER, WorkerDeps, away_wait, error_name

log = logging.getLogger(__name__)


async def settle(
    deps: WorkerDeps, claimed: queue.Claimed, record: Callable[[], Awaitable[str]]
) -> str:
    """Record an attempt's outcome, trying again (with back-off) while the database is
    away, for as long as the lease would have kept the action ours: the claim is released
    (or completed) as soon as the database is back, not after the lease."""
    give_up = time.monotonic() + deps.config.lease.total_seconds()
    failures = 0
    while True:
        try:
            return await record()
        except Exception as exc:
            failures += 1
            if not unavailable(exc) or time.monotonic() >= give_up:
                raise
            wait = away_wait(deps, failures)
            log.warning(
                "action %d: outcome not recorded yet (%s); next try in %.1fs",
                claimed.id,
                error_name(exc),
                wait,
            )
            await asyncio.sleep(wait)


async def finish(deps: WorkerDeps, claimed: queue.Claimed, result: ExecutorResult) -> str:
    """The action done, the request completed (or left for a person), the notification
    queued, all audited, at once (`queue_finish`). On PostgreSQL, when the claim started
    the request, first as one statement that commits on its own; in a transaction when
    that wrote nothing (lease lost, the request changed meanwhile) or met a conflict,
    and on SQLite."""
    finished = None
    tried = attempt(claimed, result)
    if claimed.request is not None and deps.db.is_postgres:
        try:
            finished = await queue_finish.finish_at_once(
                deps.db, tried, now=deps.clock(), seen=claimed.request
            )
        except (OperationalError, StaleDataError) as exc:
            if not queue.conflicted(exc):
                raise
            log.warning(
                "action %d: finish conflicted (%s); again in a transaction",
                claimed.id,
                error_name(exc),
            )
    if finished is None:
        finished = await queue.in_transaction(
            deps.db, lambda session: queue_finish.finish(session, tried, now=deps.clock())
        )
    if finished is None:
        deps.say(f"action {claimed.id} ({claimed.kind}): lease lost, result discarded")
        return "lost"
    reference = finished.request.reference
    deps.say(f"action {claimed.id} ({claimed.kind}) for {reference}: done")
    return "done"


def attempt(claimed: queue.Claimed, result: ExecutorResult) -> queue_finish.Attempt:
    """What the finish of this claim writes."""
    return queue_finish.Attempt(
        action_id=claimed.id,
        owner=claimed.lease_owner,
        request_id=claimed.request_id,
        kind=claimed.kind,
        attempts=claimed.attempts,
        result=result,
        keeps_open=executors.keeps_request_open(claimed.kind),
    )


async def defer(deps: WorkerDeps, claimed: queue.Claimed, deferred: Deferred) -> str:
    """Put the action back until `deferred.until`; this try does not count as an attempt."""

    async def work(session: AsyncSession) -> str:
        action = await queue.held(session, claimed.id, claimed.lease_owner)
        if action is None:
            return "lost"
        action.status, action.run_after = ActionStatus.READY, deferred.until
        action.attempts = max(0, action.attempts - 1)
        action.lease_owner, action.lease_expires_at = None, None
        await audit.append(
            session,
            actor=WORKER,
            event="action_deferred",
            request_id=claimed.request_id,
            data={"kind": claimed.kind, "until": deferred.until.isoformat(), "why": deferred.why},
            now=deps.clock(),
        )
        deps.say(f"action {claimed.id} ({claimed.kind}) waits until {deferred.until:%Y-%m-%d}")
        return "deferred"

    return await queue.in_transaction(deps.db, work)


async def fail(deps: WorkerDeps, claimed: queue.Claimed, error: str, *, permanent: bool) -> str:
    async def work(session: AsyncSession) -> str:
        now = deps.clock()
        request = await lifecycle.load(session, request_id=claimed.request_id)
        action = await queue.held(session, claimed.id, claimed.lease_owner)
        if action is None:
            return "lost"
        action.last_error = error[:300]
        action.lease_owner, action.lease_expires_at = None, None
        if not permanent and claimed.attempts < claimed.max_attempts:
            delay = backoff.delay(
                claimed.attempts,
                base=deps.config.backoff_base,
                cap=deps.config.backoff_cap,
                jitter=RETRY_JITTER,
            )
            action.status, action.run_after = ActionStatus.READY, now + delay
            await audit.append(
                session,
                actor=WORKER,
                event="action_retry",
                request_id=request.id,
                data={
                    "kind": claimed.kind,
                    "attempts": claimed.attempts,
                    "retry_in_seconds": round(delay.total_seconds()),
                },
                now=now,
            )
            wait = f"{delay.total_seconds():.0f}s"
            deps.say(f"action {claimed.id} ({claimed.kind}): {error}; retry in {wait}")
            return "retried"
        action.status, action.finished_at = ActionStatus.FAILED, now
        await fail_request(session, request, claimed, error, now)
        deps.say(f"action {claimed.id} ({claimed.kind}) for {request.reference} failed: {error}")
        return "failed"

    return await queue.in_transaction(deps.db, work)


async def fail_request(
    session: AsyncSession,
    request: PrivacyRequest,
    claimed: queue.Claimed,
    error: str,
    now: datetime,
) -> None:
    reason = f"{claimed.kind} action failed after {claimed.attempts} attempt(s): {error}"[:300]
    if lifecycle.can_move(request.status, Status.FAILED):
        request.failure_reason = reason
        await lifecycle.transition(
            session,
            request,
            Status.FAILED,
            actor=WORKER,
            now=now,
            reason=reason,
            audit_data={"action": claimed.kind, "attempts": claimed.attempts},
        )
        notifications.notify(session, request, "failed", now=now)
    await alerts.raise_alert(
        session,
        "action_failed",
        now=now,
        request=request,
        params={"action_id": claimed.id, "error": reason},
    )
