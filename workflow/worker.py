"""The worker: claims actions, runs their executors, retries, and closes requests.

One action goes through short transactions, never one long one:
1. claim (queue.claim) — the action is `running` under this worker's lease;
2. start — the request moves approved → in_progress (or the action is dropped when
   the request was cancelled meanwhile). The claim loop does 1 and 2 in one transaction
   (one commit less per action; on PostgreSQL in one statement, `queue_steps`, which
   commits on its own for a ready action); when another transaction holds the request
   row, the claim commits alone and the start follows in its own transaction, so the
   usual lock order (request, then actions) is never inverted into a deadlock;
3. finish — the action is `done` and, in the same transaction, the request is
   completed, the executor's effects are audited and the customer's notification is
   queued (on PostgreSQL in one statement that commits on its own, `queue_finish`). A
   crash before 3 re-runs the idempotent executor; a crash after it can't notify twice.
   A worker whose lease was lost finishes nothing.
Failures are retried with exponential back-off; after `max_attempts` the action and the
request are failed, with an audit entry, a customer notification and an agent alert.
Every attempt is audited: a failed one as `action_retry` (also one whose worker died:
recorded when another worker takes the action over after the lease). When the database
goes away mid-action, the worker keeps trying to record the outcome (the failure, or
the result) with back-off, and releases the claim as soon as the database is back,
instead of leaving the action to wait out its lease.

Between claims each worker also runs the housekeeping hooks (the customer notification
dispatcher lives in the runtime and is passed in) and the deadline reminders, and, when
given a retention scheduler, the retention sweep (one across all workers, see
`workflow.retention_runs`). When the database goes away, every loop backs off
exponentially (up to `max_backoff`) and resumes by itself once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import PrivacyRequest
from workflow import audit, deadlines, lifecycle, queue, queue_steps
from workflow import worker_outcomes as outcomes
from workflow.executors import ActionContext, Deferred, ExecutorResult, PermanentFailure
from workflow.executors import registry as executors
from workflow.lifecycle import ActionStatus, Status
from workflow.retention_runs import Scheduler
from workflow.worker_deps import (
    WORKER,
    RunStats,
    WorkerConfig,
    WorkerDeps,
    away_wait,
    error_name,
)

__all__ = ["RunStats", "WorkerConfig", "WorkerDeps", "claim_and_start", "process", "run_worker"]

log = logging.getLogger(__name__)


async def _audit_takeover(session: AsyncSession, claimed: queue.Claimed) -> None:
    """The attempt of a worker that died (or lost the database) and never came back."""
    if claimed.reclaimed:
        entry = _takeover_entry(claimed)
        await audit.append(
            session,
            actor=entry.actor,
            event=entry.event,
            request_id=entry.request_id,
            data=entry.data,
        )


def _takeover_entry(claimed: queue.Claimed) -> audit.Entry:
    data = {"kind": claimed.kind, "attempts": claimed.attempts - 1, "why": "lease_expired"}
    return audit.Entry(WORKER, "action_retry", claimed.request_id, data)


async def claim_next(deps: WorkerDeps, owner: str) -> queue.Claimed | None:
    async def work(session: AsyncSession) -> queue.Claimed | None:
        claimed = await queue.claim(session, owner, now=deps.clock(), lease=deps.config.lease)
        if claimed is not None:
            await _audit_takeover(session, claimed)
        return claimed

    return await queue.in_transaction(deps.db, work)


class _StartLater:
    """The claim committed without the start (the request row was busy)."""


_LATER = _StartLater()
Started = ActionContext | None | _StartLater


async def claim_and_start(deps: WorkerDeps, owner: str) -> tuple[queue.Claimed, Started] | None:
    """Claim the next action and start it in the same transaction; None when none is due.
    On PostgreSQL a ready action is claimed and started by one statement that commits on
    its own (`queue.claim_and_start_at_once`); one whose lease expired in a transaction."""

    async def work(session: AsyncSession) -> tuple[queue.Claimed, Started] | None:
        if deps.db.is_postgres:
            return await _reclaim_and_start_postgres(session, deps, owner)
        claimed = await queue.claim(session, owner, now=deps.clock(), lease=deps.config.lease)
        if claimed is None:
            return None
        started: Started = _LATER
        if claimed.attempts <= claimed.max_attempts:  # else `process` gives it up
            request = await lifecycle.load_unless_locked(session, claimed.request_id)
            if request is not None:
                started = await _start(session, deps, claimed, request=request)
        await _audit_takeover(session, claimed)
        return claimed, started

    try:
        if deps.db.is_postgres:
            now, lease = deps.clock(), deps.config.lease
            found = await queue.claim_and_start_at_once(deps.db, owner, now=now, lease=lease)
            if found == queue.BUSY:
                return None
            if isinstance(found, queue.ClaimedAndStarted):
                return _begun(deps, found)
        return await queue.in_transaction(deps.db, work)
    except Exception as exc:
        # Claim alone: the failing start then runs (and fails) after the claim committed,
        # so the attempts count up and a poisoned action is given up in the end.
        log.warning("claim with start failed: %s; claiming alone", error_name(exc))
        claimed = await claim_next(deps, owner)
        return None if claimed is None else (claimed, _LATER)


def _begun(deps: WorkerDeps, found: queue.ClaimedAndStarted) -> tuple[queue.Claimed, Started]:
    """What a claim statement started: a request it moved to in_progress, or found there,
    is ready for the executor (and the finish knows it as the claim left it); any other
    is started later, in a transaction of its own (`process`)."""
    claimed, request = found.claimed, found.request
    if request is None or claimed.attempts > claimed.max_attempts:
        return claimed, _LATER
    if not (found.moved or request.status == Status.IN_PROGRESS):
        return claimed, _LATER
    version = request.version + 1 if found.moved else request.version
    started_as = replace(request, status=Status.IN_PROGRESS, version=version)
    return replace(claimed, request=started_as), _context(deps, claimed, request)


async def _reclaim_and_start_postgres(
    session: AsyncSession, deps: WorkerDeps, owner: str
) -> tuple[queue.Claimed, Started] | None:
    """An action whose lease expired, claimed and started in one statement
    (`queue.claim_and_start`), in a transaction that also audits the takeover, and
    appends the start's entry if the statement could not."""
    now = deps.clock()
    found = await queue.claim_and_start(
        session, owner, now=now, lease=deps.config.lease, expired_only=True
    )
    if found is None:
        return None
    entries: list[audit.Entry] = []
    request = found.request
    if found.moved and not found.start_audited and request is not None:
        entries.append(queue_steps.start_entry(request.id, request.kind))
    if found.claimed.reclaimed:
        entries.append(_takeover_entry(found.claimed))
    await audit.append_all(session, entries, now=now)
    return _begun(deps, found)


async def process(deps: WorkerDeps, claimed: queue.Claimed, started: Started = _LATER) -> str:
    """Carry out one claimed action (`started`: what `claim_and_start` already did).
    Returns done | retried | failed | skipped | lost."""
    if claimed.attempts > claimed.max_attempts:  # its workers kept dying mid-run
        return await outcomes.settle(
            deps,
            claimed,
            lambda: outcomes.fail(
                deps, claimed, "gave up: the worker stopped during every attempt", permanent=True
            ),
        )
    try:
        ctx = (
            await queue.in_transaction(deps.db, lambda s: _start(s, deps, claimed))
            if isinstance(started, _StartLater)
            else started
        )
        if ctx is None:
            return "skipped"
        result = await _run_with_heartbeat(deps, claimed, ctx)
    except Deferred as exc:
        deferred = exc
        return await outcomes.settle(deps, claimed, lambda: outcomes.defer(deps, claimed, deferred))
    except PermanentFailure as exc:
        why = str(exc)[:300] or "permanent failure"
        return await outcomes.settle(
            deps, claimed, lambda: outcomes.fail(deps, claimed, why, permanent=True)
        )
    except Exception as exc:  # any executor error is retried, never fatal
        reason = f"{error_name(exc)} (attempt {claimed.attempts})"
        log.warning("action %d (%s) failed: %s", claimed.id, claimed.kind, reason)
        return await outcomes.settle(
            deps, claimed, lambda: outcomes.fail(deps, claimed, reason, permanent=False)
        )
    return await outcomes.settle(deps, claimed, lambda: outcomes.finish(deps, claimed, result))


async def _start(
    session: AsyncSession,
    deps: WorkerDeps,
    claimed: queue.Claimed,
    *,
    request: PrivacyRequest | None = None,
) -> ActionContext | None:
    """Move the request to in_progress. `request` is given (already locked) when the
    action was claimed in this same transaction, so the lease is ours for certain."""
    now = deps.clock()
    if request is None:
        request = await lifecycle.load(session, request_id=claimed.request_id)
        if await queue.held(session, claimed.id, claimed.lease_owner) is None:
            return None
    if request.status not in (Status.APPROVED, Status.IN_PROGRESS):
        action = await queue.held(session, claimed.id, claimed.lease_owner)
        if action is None:
            return None
        action.status, action.finished_at = ActionStatus.FAILED, now
        action.last_error = f"request is {request.status}"
        action.lease_owner = None
        deps.say(f"action {claimed.id} ({claimed.kind}) skipped: request is {request.status}")
        return None
    if request.status == Status.APPROVED:
        await lifecycle.transition(session, request, Status.IN_PROGRESS, actor=WORKER, now=now)
    return _context(deps, claimed, request)


def _context(
    deps: WorkerDeps, claimed: queue.Claimed, request: PrivacyRequest | queue_steps.RequestView
) -> ActionContext:
    return ActionContext(
        db=deps.db,
        request_id=request.id,
        reference=request.reference,
        kind=claimed.kind,
        account_id=claimed.account_id,
        language=request.language,
        details=dict(request.details or {}),
        secret=deps.secret,
        public_url=deps.public_url,
        data_dir=deps.data_dir,
        now=deps.clock,
    )


async def _run_with_heartbeat(
    deps: WorkerDeps, claimed: queue.Claimed, ctx: ActionContext
) -> ExecutorResult:
    executor = executors.lookup(claimed.kind)
    beat = deps.config.heartbeat_seconds or deps.config.lease.total_seconds() / 3
    task = asyncio.create_task(_heartbeat(deps, claimed, beat), name=f"lease-{claimed.id}")
    try:
        return await executor(ctx)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _heartbeat(deps: WorkerDeps, claimed: queue.Claimed, every: float) -> None:
    """Renew the lease while the executor runs; stop quietly if it was lost."""
    while True:
        await asyncio.sleep(every)

        async def work(session: AsyncSession) -> bool:
            return await queue.renew(
                session, claimed.id, claimed.lease_owner, now=deps.clock(), lease=deps.config.lease
            )

        try:
            if not await queue.in_transaction(deps.db, work):
                log.warning("action %d: lease lost to another worker", claimed.id)
                return
        except Exception as exc:  # a missed beat is retried at the next one
            log.warning("action %d: lease renewal failed: %s", claimed.id, error_name(exc))


async def housekeep(deps: WorkerDeps) -> bool:
    """Deadline reminders and the runtime's hooks; a failing hook never stops the worker.
    Returns False when every step failed (the database is probably away)."""
    ok = False
    try:
        await queue.in_transaction(deps.db, lambda s: deadlines.send_reminders(s, deps.clock()))
        ok = True
    except Exception as exc:  # no traceback: database errors can quote personal data
        log.warning("deadline reminders failed: %s; retried later", type(exc).__name__)
    for hook in deps.housekeeping:
        try:
            await hook(deps.db, deps.clock())
            ok = True
        except Exception as exc:
            log.warning("housekeeping hook failed: %s; retried later", type(exc).__name__)
    return ok


async def _idle(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_worker(
    deps: WorkerDeps, *, stop: asyncio.Event, concurrency: int = 2, once: bool = False
) -> int:
    """Run `concurrency` claim loops until `stop` is set (or, with `once`, until nothing is
    due). In-flight actions always finish. Returns 1 when an action failed or was put
    back for a retry during a `once` run, else 0.
    """
    stats = RunStats()

    async def slot(index: int) -> None:
        owner = f"{deps.name}/{index}"
        failures = 0
        while not stop.is_set():
            try:
                found = await claim_and_start(deps, owner)
                if found is not None:
                    claimed, begun = found
                    started = time.monotonic()
                    outcome = await process(deps, claimed, begun)
                    setattr(stats, outcome, getattr(stats, outcome) + 1)
                    if deps.observe is not None:
                        deps.observe(claimed.kind, outcome, time.monotonic() - started)
                    failures = 0
                    continue
                failures = 0
            except Exception as exc:  # the database went away: back off, never die
                failures += 1
                log.warning(
                    "worker slot %d: claim or finish failed: %s; next try in %.1fs",
                    index,
                    type(exc).__name__,
                    away_wait(deps, failures),
                )
                stats.failed += 1
            if once:
                return
            await _idle(stop, away_wait(deps, failures))

    async def housekeeping_loop() -> None:
        failures = 0
        while not stop.is_set():
            failures = 0 if await housekeep(deps) else failures + 1
            await _idle(stop, away_wait(deps, failures))

    async def retention_loop(scheduler: Scheduler) -> None:
        while not stop.is_set():
            wait = await scheduler.tick(deps.db, deps.clock, stop.is_set)
            await _idle(stop, max(wait, deps.config.poll_seconds))

    tasks: list[asyncio.Task[Any]] = [
        asyncio.create_task(slot(i), name=f"worker-slot-{i}") for i in range(max(1, concurrency))
    ]
    if not once:
        tasks.append(asyncio.create_task(housekeeping_loop(), name="worker-housekeeping"))
        if deps.retention is not None:
            tasks.append(
                asyncio.create_task(retention_loop(deps.retention), name="worker-retention")
            )
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await housekeep(deps)  # deliver what the last actions queued
    deps.say(
        f"worker finished: {stats.done} done, {stats.retried} to retry, "
        f"{stats.deferred} waiting, {stats.failed} failed, {stats.skipped} skipped"
    )
    return 1 if once and (stats.failed or stats.retried) else 0
