"""The worker's finish in the fewest statements: the action done, the request completed
(or left for a person), the customer's notifications queued, all audited.

Lock order: the request (and its conversation, which the notification's foreign key
check locks), then the action, then the audit chain. On PostgreSQL one statement of
data-modifying CTEs marks the action done and, only if this worker still held it,
completes the request (details scrubbed), adds its history row, queues the notifications
and appends the audit entries (`workflow.audit_sql`: the chain's lock is taken last, by
the statement, and held only until its commit). When the claim started the request, the
statement also locks the request itself, as the claim left it, so the finish is that one
statement; else a statement before it reads and locks the request. SQLite writes the
same rows one statement each in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import CTE, Select, Update, bindparam, exists, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import driver_sql
from storage.db import Database, core_execute
from storage.models import Conversation
from storage.privacy_models import Action, Notification, PrivacyRequest, RequestEvent
from workflow import audit, audit_sql, notifications
from workflow.executors import ExecutorResult
from workflow.lifecycle import NotFound, Status, scrub_details
from workflow.queue_steps import (
    EVENT_COLUMNS,
    REQUEST_COLUMNS,
    WORKER,
    RequestView,
    fixed,
    history_rows,
    param,
)

NOTICE_COLUMNS = (  # the keys of `notifications.rows`
    "request_id",
    "conversation_id",
    "channel",
    "language",
    "event",
    "params",
    "status",
    "created_at",
    "delivered_at",
    "address",
    "attempts",
)


@dataclass(frozen=True, slots=True)
class Finished:
    request: RequestView
    completed: bool  # the request moved in_progress -> completed


@dataclass(frozen=True, slots=True)
class Attempt:
    """The attempt a finish writes: the action, who held it, and what its executor did."""

    action_id: int
    owner: str
    request_id: int
    kind: str
    attempts: int
    result: ExecutorResult
    keeps_open: bool  # the action's kind leaves its request for a person


async def finish(session: AsyncSession, attempt: Attempt, *, now: datetime) -> Finished | None:
    """The action done, the request completed (or left for a person), the notification
    queued and all of it audited, in the caller's transaction, after reading and locking
    the request; None when the lease was lost (nothing written). (`finish_at_once`: the
    same in one statement, for a request as its claim left it.)"""
    row = (await core_execute(session, _locked_request(), {"req": attempt.request_id})).first()
    if row is None:
        raise NotFound(f"no request {attempt.request_id}")
    request = RequestView.of(row)
    completes, notices, params, entries = _parts(attempt, request, now)
    if session.get_bind().dialect.name == "postgresql":
        audited = audit.in_one_statement(session)  # nothing appended yet
        statement = _postgres(params, completes, notices, entries, now, audited, False, request)
        if audited:
            entries = []
        held = (await core_execute(session, statement, params)).first() is not None
    else:
        held = await _finish_sqlite(session, params, completes, notices)
    if not held:
        return None
    await audit.append_all(session, entries, now=now)
    return Finished(request, completes)


async def finish_at_once(
    db: Database, attempt: Attempt, *, now: datetime, seen: RequestView
) -> Finished | None:
    """PostgreSQL: the finish of an attempt whose claim started its request (`seen`, as
    the claim left it) as one statement, run on the driver (`storage.driver_sql`), that
    commits on its own. None when it wrote nothing: the lease was lost, or the request
    changed since the claim (the caller then finishes in a transaction)."""
    completes, notices, params, entries = _parts(attempt, seen, now)
    statement = _postgres(params, completes, notices, entries, now, True, True, seen)
    async with db.driver() as connection:
        row = await driver_sql.pg_fetch_one(connection, statement, db.engine.dialect, params)
    return None if row is None else Finished(seen, completes)


def _parts(
    attempt: Attempt, request: RequestView, now: datetime
) -> tuple[bool, list[dict[str, Any]], dict[str, Any], list[audit.Entry]]:
    """Whether the request completes, its notices' rows, the statements' parameters,
    and the audit entries of the finish."""
    result = attempt.result
    completes = request.status == Status.IN_PROGRESS and not (
        attempt.keeps_open or result.needs_person
    )
    notices: list[dict[str, Any]] = []
    if request.status == Status.IN_PROGRESS:
        event = "completed" if completes else "in_review"
        contacts = result.contacts if completes else None
        notices = notifications.rows(
            request, event, now=now, params=result.notice, contacts=contacts
        )
    params = {
        "action_id": attempt.action_id,
        "owner": attempt.owner,
        "now": now,
        "outcome": {"effects": result.effects},
        "req": request.id,
        "scrubbed": scrub_details(request.details or {}),
    }
    done = {"kind": attempt.kind, "attempts": attempt.attempts, "effects": result.effects}
    entries = [audit.Entry(WORKER, "action_done", request.id, done)]
    if completes:
        moved = {"kind": request.kind, "from": Status.IN_PROGRESS, "to": Status.COMPLETED}
        entries.append(audit.Entry(WORKER, "status", request.id, moved))
    return completes, notices, params, entries


def _postgres(
    params: dict[str, Any],
    completes: bool,
    notices: list[dict[str, Any]],
    entries: list[audit.Entry],
    now: datetime,
    audited: bool,
    guarded: bool,
    request: RequestView,
) -> Select[Any]:
    """The finish statement, its notices' (and with `audited` its entries') parameters
    added to `params`; `guarded`: only while the request is still at `request`'s
    version."""
    for index, notice in enumerate(notices):
        params.update({f"n{index}_{name}": notice[name] for name in NOTICE_COLUMNS})
    if audited:
        params.update(audit_sql.parameters([(entry, now) for entry in entries]))
    if guarded:
        params["seen_version"] = request.version
    return _finish_statement(completes, len(notices), len(entries) if audited else 0, guarded)


@cache
def _locked_request() -> Select[Any]:
    """The request, locked, and its conversation key-share locked, as the foreign key
    check of the notification will lock it: taken here, before the finish statement
    locks the audit chain's head, since that check runs at the end of the statement. A
    turn that holds the conversation and then appends to the audit chain is waited for
    now; later it would wait for the head while we waited for it (a deadlock)."""
    conversation = exists(
        select(Conversation.id)
        .where(Conversation.id == PrivacyRequest.conversation_id)
        .with_for_update(read=True, key_share=True)
    )
    return (
        select(*REQUEST_COLUMNS, conversation.label("conversation_held"))
        .where(PrivacyRequest.id == bindparam("req"))
        .with_for_update(of=PrivacyRequest)
    )


@cache
def _done() -> Update:
    """Action `:action_id` done at `:now` with `:outcome`, if `:owner` still holds it.
    (No parameter is named like a column: an UPDATE would also set that column.)"""
    return (
        update(Action)
        .where(
            Action.id == bindparam("action_id"),
            Action.lease_owner == bindparam("owner"),
            Action.status == fixed("running"),
        )
        .values(
            status="done",
            finished_at=param("now", Action.finished_at),
            lease_owner=None,
            lease_expires_at=None,
            result=param("outcome", Action.result),
        )
        .returning(Action.id)
    )


@cache
def _close() -> Update:
    """Request `:req` completed at `:now`, its details scrubbed to `:scrubbed`."""
    now = param("now", PrivacyRequest.updated_at)
    return (
        update(PrivacyRequest)
        .where(PrivacyRequest.id == bindparam("req"))
        .values(
            status=Status.COMPLETED,
            updated_at=now,
            completed_at=now,
            details=param("scrubbed", PrivacyRequest.details),
            version=PrivacyRequest.version + 1,
        )
    )


@cache
def _finish_statement(completes: bool, notices: int, audited: int, guarded: bool) -> Select[Any]:
    """PostgreSQL, one statement: `_done`, and only when it matched, `_close` with its
    history row (when the request completes), `notices` outbox rows (`:n0_…`) and
    `audited` audit entries (`audit_sql`: the chain's lock is taken last, by this
    statement, and held only until its commit). With `guarded`, `_done` matches only
    once `_locked_request` locked the request still in progress at `:seen_version`: the
    locks are taken in the usual order (request and conversation, action, chain), since
    each step's condition needs the one before it."""
    done_update = _done()
    if guarded:
        locked = (
            _locked_request()
            .where(
                PrivacyRequest.status == fixed(Status.IN_PROGRESS),
                PrivacyRequest.version == bindparam("seen_version"),
            )
            .cte("request_locked")
        )
        done_update = done_update.where(exists(select(locked.c.id)))
    done = done_update.cte("done")
    held = exists(select(done.c.id))
    ctes: list[CTE] = []
    if audited:
        chain, _last = audit_sql.appending(audited, only_if=held)
        ctes += chain
    if completes:
        closed = _close().where(held).returning(PrivacyRequest.id).cte("closed")
        ctes += [closed, history_rows(closed, Status.IN_PROGRESS, Status.COMPLETED).cte("history")]
    if notices:
        table = Notification.__table__
        rows = [
            select(*(param(f"n{index}_{name}", table.c[name]) for name in NOTICE_COLUMNS)).where(
                held
            )
            for index in range(notices)
        ]
        source = rows[0] if notices == 1 else select(union_all(*rows).subquery("notices"))
        ctes.append(insert(Notification).from_select(list(NOTICE_COLUMNS), source).cte("notified"))
    return select(done.c.id).add_cte(*ctes)


async def _finish_sqlite(
    session: AsyncSession,
    params: dict[str, Any],
    completes: bool,
    notices: list[dict[str, Any]],
) -> bool:
    """The same rows, one statement each (SQLite has no data-modifying CTEs)."""
    if (await session.execute(_done(), params)).first() is None:
        return False
    if completes:
        await session.execute(_close(), params)
        event = (params["req"], params["now"], Status.IN_PROGRESS, Status.COMPLETED)
        row = dict(zip(EVENT_COLUMNS, (*event, WORKER, None), strict=True))
        await session.execute(insert(RequestEvent).values(row))
    if notices:
        await session.execute(insert(Notification), notices)
    return True
