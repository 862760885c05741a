"""The durable action queue: enqueue in the approving transaction, claim under a lease.

Claiming is safe across processes and machines:
- PostgreSQL: candidates are locked with `FOR UPDATE SKIP LOCKED`, so workers never
  wait for each other, and their account with a transaction-scoped advisory lock. Two
  actions of one account never run at once, even when two workers pick them in the same
  instant: a claim in a transaction re-reads "no running action for this account" in a
  statement after that lock (`claim`, `claim_and_start`); a claim in one statement
  (`claim_and_start_at_once`) locks the account's other open actions too, which shows
  each as last committed (`queue_steps.claim_at_once_statement`).
- SQLite: `UPDATE … WHERE id = (SELECT …) RETURNING` statements (ready actions, then
  expired leases); SQLite's single writer makes each atomic, and the first one takes the
  write lock if the transaction does not hold it yet (call it before any read).

A claim sets a lease; a worker that dies simply stops renewing it, and the action is
claimed again once the lease has expired. Every later step checks the lease owner, so
a worker that lost its lease can never complete or fail the action a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Row, and_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.expression import ColumnElement

from storage import driver_sql
from storage.db import Database, core_execute
from storage.privacy_models import Action, PrivacyRequest
from workflow import audit, queue_steps
from workflow.executors import ExecutorResult
from workflow.queue_steps import RequestView

log = logging.getLogger(__name__)

T = TypeVar("T")

LEASE = timedelta(seconds=60)
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a worker needs after claiming: plain values, no live ORM object."""

    id: int
    request_id: int
    account_id: int
    kind: str
    attempts: int
    max_attempts: int
    lease_owner: str
    reclaimed: bool = False  # taken over from a worker whose lease expired
    request: RequestView | None = None  # as the claim left it, when it started it


def enqueue(
    session: AsyncSession,
    request: PrivacyRequest,
    *,
    now: datetime,
    kind: str | None = None,
    max_attempts: int,
) -> Action:
    """Queue the action that carries `request` out, in the caller's transaction;
    `max_attempts` is the policy's (WORKER_MAX_ATTEMPTS)."""
    action = Action(
        request_id=request.id,
        account_id=request.account_id,
        kind=kind or request.kind,
        status="ready",
        attempts=0,
        max_attempts=max(1, max_attempts),
        run_after=now,
        created_at=now,
    )
    session.add(action)
    return action


def conflicted(exc: Exception) -> bool:
    """Whether `exc` is a conflict that the same work, tried again, gets past."""
    if isinstance(exc, StaleDataError):
        return True
    message = str(exc).lower()
    return "database is locked" in message or "deadlock" in message


async def in_transaction(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]], *, tries: int = 5
) -> T:
    """Run `work` in its own transaction, again when the database reports a conflict
    (SQLite's stale-snapshot "database is locked", a PostgreSQL deadlock, a stale row).
    """
    for attempt in range(1, tries + 1):
        try:
            async with db.transaction() as session:
                return await work(session)
        except (OperationalError, StaleDataError) as exc:
            if attempt == tries or not conflicted(exc):
                raise
            log.info("queue transaction conflicted; retrying (attempt %d)", attempt)
    raise AssertionError("unreachable")


async def claim(
    session: AsyncSession, owner: str, *, now: datetime, lease: timedelta = LEASE
) -> Claimed | None:
    """Claim one due action for `owner`, or None. Call as the transaction's first statement."""
    if session.get_bind().dialect.name == "postgresql":
        return await _claim_postgres(session, owner, now, lease)
    return await _claim_sqlite(session, owner, now, lease)


def _claim_values(owner: str, now: datetime, lease: timedelta) -> dict[str, object]:
    return {
        "status": "running",
        "lease_owner": owner,
        "lease_expires_at": now + lease,
        "attempts": Action.attempts + 1,
    }


async def _claim_sqlite(
    session: AsyncSession, owner: str, now: datetime, lease: timedelta
) -> Claimed | None:
    """Ready actions first, then expired leases, like PostgreSQL: each condition alone
    can use its partial index (the two OR-ed together made SQLite scan the whole table,
    while holding the write lock)."""
    ready = and_(Action.status == "ready", Action.run_after <= now)
    expired = and_(Action.status == "running", Action.lease_expires_at < now)
    for due, order, reclaimed in (
        (ready, Action.run_after, False),
        (expired, Action.lease_expires_at, True),
    ):
        candidate = (
            select(Action.id)
            .where(due, ~queue_steps.account_busy(now))
            .order_by(order, Action.id)
            .limit(1)
            .scalar_subquery()
        )
        claimed = await _take(session, owner, now, lease, Action.id == candidate)
        if claimed is not None:
            return replace(claimed, reclaimed=reclaimed)
    return None


async def _claim_postgres(
    session: AsyncSession, owner: str, now: datetime, lease: timedelta
) -> Claimed | None:
    """Two statements per claim: the next candidate whose account this transaction could
    lock (one query), then the claim itself under that lock."""

    async def take(candidate: Row[Any], reclaimed: bool) -> Claimed | None:
        claimed = await _take(
            session, owner, now, lease, Action.id == candidate.id, ~queue_steps.account_busy(now)
        )
        return None if claimed is None else replace(claimed, reclaimed=reclaimed)

    return await _pick_postgres(session, now, take)


@dataclass(frozen=True, slots=True)
class ClaimedAndStarted:
    """What a claim statement did: the claim; the request as read before the move (None
    when another transaction held it); whether it moved to in_progress, and whether
    that move's audit entry was written with it."""

    claimed: Claimed
    request: RequestView | None
    moved: bool
    start_audited: bool

    @classmethod
    def of(cls, row: Row[Any] | Mapping[str, Any], reclaimed: bool = False) -> ClaimedAndStarted:
        values = cast(Mapping[str, Any], row._mapping) if isinstance(row, Row) else row
        claimed = replace(_claimed_from(values), reclaimed=reclaimed)
        request = RequestView.of(values, "req_") if values["req_id"] is not None else None
        moved, audited = values["moved_id"] is not None, values["audit_id"] is not None
        return cls(claimed, request, moved, audited)


Busy = Literal["busy"]
BUSY: Busy = "busy"  # ready actions exist, but their accounts are busy: none to claim now


async def claim_and_start_at_once(
    db: Database, owner: str, *, now: datetime, lease: timedelta = LEASE
) -> ClaimedAndStarted | Busy | None:
    """PostgreSQL: claim the next ready action and start it, audited, each try in one
    statement that commits on its own (`queue_steps.claim_at_once_statement`). BUSY
    when the candidates' accounts were busy; None when no action is ready (one whose
    lease expired may still be due: `claim_and_start`)."""
    params = {"owner": owner, "now": now, "expires": now + lease}
    params.update(queue_steps.start_parameters(now))
    statement, dialect = queue_steps.claim_at_once_statement(), db.engine.dialect
    tried: list[int] = []
    async with db.driver() as connection:
        while len(tried) < queue_steps.CANDIDATES:
            params["tried"] = tried
            row = await driver_sql.pg_fetch_one(connection, statement, dialect, params)
            if row is None:
                return BUSY if tried else None
            if row["id"] is not None:
                return ClaimedAndStarted.of(row)
            tried = [*tried, row["candidate_id"]]
    return BUSY


async def claim_and_start(
    session: AsyncSession,
    owner: str,
    *,
    now: datetime,
    lease: timedelta = LEASE,
    expired_only: bool = False,
) -> ClaimedAndStarted | None:
    """PostgreSQL: `claim` (with `expired_only`, only an action whose lease expired),
    and in the claim's own statement lock the request and move it approved ->
    in_progress, audited (`queue_steps.claim_and_start_statement`), when the
    transaction has appended nothing yet; else the caller appends the entry
    (`start_audited`)."""
    params = {"owner": owner, "now": now, "expires": now + lease}
    audited = audit.in_one_statement(session)
    if audited:
        params.update(queue_steps.start_parameters(now))
    statement = queue_steps.claim_and_start_statement(audited)

    async def take(candidate: Row[Any], reclaimed: bool) -> ClaimedAndStarted | None:
        row = (
            await core_execute(session, statement, {**params, "action_id": candidate.id})
        ).first()
        return None if row is None else ClaimedAndStarted.of(row, reclaimed)

    passes = (True,) if expired_only else (False, True)
    return await _pick_postgres(session, now, take, passes)


async def _pick_postgres(
    session: AsyncSession,
    now: datetime,
    take: Callable[[Row[Any], bool], Awaitable[T | None]],
    passes: tuple[bool, ...] = (False, True),
) -> T | None:
    """Ready actions first, then expired leases (`passes`): each candidate (row-locked,
    its account advisory-locked) is handed to `take`, which claims it with a new
    statement."""
    for reclaimed in passes:
        statement = queue_steps.candidate_statement(reclaimed)
        tried: list[int] = []
        while len(tried) < queue_steps.CANDIDATES:
            row = (await core_execute(session, statement, {"now": now, "tried": tried})).first()
            if row is None:
                break
            tried.append(row.id)
            # A new statement under the account lock: its snapshot shows a claim committed
            # since the candidate was read, and then the account is busy and nothing changes.
            found = await take(row, reclaimed)
            if found is not None:
                return found
        if tried:  # ready actions exist, held by other workers' accounts: none this time
            return None
    return None


async def _take(
    session: AsyncSession,
    owner: str,
    now: datetime,
    lease: timedelta,
    *where: ColumnElement[bool],
) -> Claimed | None:
    """Claim the one action `where` picks, if it still qualifies; None when it doesn't."""
    stmt = (
        update(Action)
        .where(*where)
        .values(**_claim_values(owner, now, lease))
        .returning(Action)
        .execution_options(synchronize_session=False)
    )
    action = (await session.execute(stmt)).scalar_one_or_none()
    return None if action is None else _claimed(action)


def _claimed(action: Action) -> Claimed:
    """The claim as the worker sees it, from the action."""
    return _claimed_from(
        {name: getattr(action, name) for name in ("id", *_CLAIMED_COLUMNS, "lease_owner")}
    )


_CLAIMED_COLUMNS = ("request_id", "account_id", "kind", "attempts", "max_attempts")


def _claimed_from(values: Mapping[str, Any]) -> Claimed:
    """The claim as the worker sees it, from a row with the action's columns."""
    return Claimed(
        id=values["id"],
        **{name: values[name] for name in _CLAIMED_COLUMNS},
        lease_owner=values["lease_owner"] or "",
    )


async def renew(
    session: AsyncSession, action_id: int, owner: str, *, now: datetime, lease: timedelta = LEASE
) -> bool:
    """Extend the lease while the executor runs; False when it was lost to another worker."""
    result = await session.execute(
        update(Action)
        .where(Action.id == action_id, Action.lease_owner == owner, Action.status == "running")
        .values(lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete(
    session: AsyncSession, action_id: int, owner: str, *, now: datetime, result: ExecutorResult
) -> bool:
    """Mark the action done if `owner` still holds it (one statement, row-locked until
    commit); False when the lease was lost."""
    done = await session.execute(
        update(Action)
        .where(Action.id == action_id, Action.lease_owner == owner, Action.status == "running")
        .values(
            status="done",
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
            result={"effects": result.effects},
        )
        .returning(Action.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


async def held(session: AsyncSession, action_id: int, owner: str) -> Action | None:
    """The action, locked, if `owner` still holds it; None when the lease was lost."""
    stmt = (
        select(Action)
        .where(Action.id == action_id, Action.lease_owner == owner, Action.status == "running")
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()
