"""The worker's two hot transactions in the fewest statements: claim-and-start, finish.

An action costs two short transactions (`workflow.worker`). Both write plain rows with
SQLAlchemy Core (no ORM unit of work on the hot path), and on PostgreSQL each writes
its rows in one statement of data-modifying CTEs:
- claim and start: the claim (`UPDATE actions … RETURNING`), the request locked with
  SKIP LOCKED (the action row is held, so waiting for the request would invert the lock
  order), moved approved -> in_progress with its history row and audit entry, only when
  the request was approved; the statement hands back the action and the request's values.
- finish: the request is locked first (lock order: request, then action, then the audit
  chain), then one statement marks the action done and, only if this worker still held
  it, completes the request (details scrubbed), adds its history row and queues the
  customer's notifications, and appends its audit entries (`workflow.audit_sql`).
The chain's lock is taken last in both, by the statement itself, and held only until its
commit. SQLite writes the same rows one statement each in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    Insert,
    Select,
    Update,
    bindparam,
    exists,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from storage.db import core_execute
from storage.models import Conversation
from storage.privacy_models import Action, Notification, PrivacyRequest, RequestEvent
from workflow import audit, audit_sql, notifications
from workflow.executors import ExecutorResult
from workflow.lifecycle import NotFound, Status, scrub_details

WORKER = "worker"

REQUEST_COLUMNS = (
    PrivacyRequest.id,
    PrivacyRequest.reference,
    PrivacyRequest.kind,
    PrivacyRequest.status,
    PrivacyRequest.account_id,
    PrivacyRequest.channel,
    PrivacyRequest.conversation_id,
    PrivacyRequest.language,
    PrivacyRequest.verified_via,
    PrivacyRequest.due_at,
    PrivacyRequest.details,
)
ACTION_COLUMNS = (
    Action.id,
    Action.request_id,
    Action.account_id,
    Action.kind,
    Action.attempts,
    Action.max_attempts,
    Action.lease_owner,
)
EVENT_COLUMNS = ("request_id", "at", "from_status", "to_status", "actor", "reason")
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
_OTHER = aliased(Action, name="other")


@dataclass(frozen=True, slots=True)
class RequestView:
    """The request's values a step needs (also what a notification needs)."""

    id: int
    reference: str
    kind: str
    status: str
    account_id: int
    channel: str
    conversation_id: str | None
    language: str
    verified_via: str | None
    due_at: datetime
    details: dict[str, Any]

    @classmethod
    def of(cls, row: Row[Any], prefix: str = "") -> RequestView:
        values = row._mapping
        return cls(**{name: values[prefix + name] for name in cls.__slots__})


# --- claim and start (PostgreSQL) ---------------------------------------------------------


def _param(name: str, column: Any) -> BindParameter[Any]:
    """A named parameter typed like `column` (a statement is built once, run often)."""
    return bindparam(name, type_=column.type)


@cache
def claim_and_start_statement(audited: bool) -> Select[Any]:
    """One statement: claim action `:action_id` for `:owner` until `:expires` unless its
    account got busy, lock its request unless another transaction holds it, and move an
    approved request to in_progress (with its history row) unless the action has used up
    its attempts; with `audited`, also append the move's audit entry (`start_parameters`),
    written only when the request moved and is of kind `:start_kind`, as the entry says.
    Returns the action's columns, the request's as `req_…` (NULL when it was held; its
    status as read before the move) and `audit_id`, the entry's id (NULL when none was
    written). Built once: building the statement costs more than running it."""
    now = _param("now", PrivacyRequest.updated_at)
    busy = exists().where(
        _OTHER.account_id == Action.account_id,
        _OTHER.id != Action.id,
        _OTHER.status == "running",
        _OTHER.lease_expires_at >= now,
    )
    claimed = (
        update(Action)
        .where(Action.id == bindparam("action_id"), ~busy)
        .values(
            status="running",
            lease_owner=bindparam("owner"),
            lease_expires_at=_param("expires", Action.lease_expires_at),
            attempts=Action.attempts + 1,
        )
        .returning(*ACTION_COLUMNS)
        .cte("claimed")
    )
    request = (
        select(*REQUEST_COLUMNS)
        .where(PrivacyRequest.id == claimed.c.request_id)
        .with_for_update(of=PrivacyRequest, skip_locked=True)
        .cte("request")
    )
    moved = (
        update(PrivacyRequest)
        .where(
            PrivacyRequest.id == request.c.id,
            request.c.id == claimed.c.request_id,
            request.c.status == Status.APPROVED,
            claimed.c.attempts <= claimed.c.max_attempts,
        )
        .values(status=Status.IN_PROGRESS, updated_at=now, version=PrivacyRequest.version + 1)
        .returning(PrivacyRequest.id, PrivacyRequest.kind)
        .cte("moved")
    )
    history = _history(moved, Status.APPROVED, Status.IN_PROGRESS).cte("history")
    ctes: list[CTE] = [moved, history]
    audit_id: Any = null()
    if audited:
        as_said = exists(select(moved.c.id).where(moved.c.kind == bindparam("start_kind")))
        chain, last = audit_sql.appending(1, only_if=as_said)
        ctes += chain
        audit_id = select(last.c.id).scalar_subquery()
    labelled = [column.label(f"req_{column.name}") for column in request.c]
    return (
        select(*claimed.c, *labelled, audit_id.label("audit_id"))
        .select_from(claimed.outerjoin(request, true()))
        .add_cte(*ctes)
    )


def start_entry(request_id: int, kind: str) -> audit.Entry:
    """The audit entry of approved -> in_progress of a request of `kind`."""
    data = {"kind": kind, "from": Status.APPROVED, "to": Status.IN_PROGRESS}
    return audit.Entry(WORKER, "status", request_id, data)


def start_parameters(request_id: int, kind: str, now: datetime) -> dict[str, Any]:
    """What `claim_and_start_statement(audited=True)` binds beyond the claim's values,
    for a request (as its candidate action was read) of `kind`."""
    entry = start_entry(request_id, kind)
    return {"start_kind": kind, **audit_sql.parameters([(entry, now)])}


def _history(source: CTE, before: str, after: str) -> Insert:
    """The history row of a move at `:now`, one per row of `source` (none when nothing
    moved)."""
    table = RequestEvent.__table__
    rows = select(
        source.c.id,
        _param("now", table.c.at),
        literal(before, table.c.from_status.type),
        literal(after, table.c.to_status.type),
        literal(WORKER, table.c.actor.type),
        null(),
    ).select_from(source)
    return insert(RequestEvent).from_select(list(EVENT_COLUMNS), rows)


# --- finish -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finished:
    request: RequestView
    completed: bool  # the request moved in_progress -> completed


async def finish(
    session: AsyncSession,
    *,
    action_id: int,
    owner: str,
    request_id: int,
    kind: str,
    attempts: int,
    result: ExecutorResult,
    keeps_open: bool,
    now: datetime,
) -> Finished | None:
    """The action done, the request completed (or left for a person), the notification
    queued and all of it audited, in the caller's transaction; None when the lease was
    lost (nothing written)."""
    row = (await core_execute(session, _locked_request(), {"req": request_id})).first()
    if row is None:
        raise NotFound(f"no request {request_id}")
    request = RequestView.of(row)
    completes = request.status == Status.IN_PROGRESS and not (keeps_open or result.needs_person)
    notices: list[dict[str, Any]] = []
    if request.status == Status.IN_PROGRESS:
        event = "completed" if completes else "in_review"
        contacts = result.contacts if completes else None
        notices = notifications.rows(
            request, event, now=now, params=result.notice, contacts=contacts
        )
    params = {
        "action_id": action_id,
        "owner": owner,
        "now": now,
        "outcome": {"effects": result.effects},
        "req": request.id,
        "scrubbed": scrub_details(request.details or {}),
    }
    done = {"kind": kind, "attempts": attempts, "effects": result.effects}
    entries = [audit.Entry(WORKER, "action_done", request.id, done)]
    if completes:
        moved = {"kind": request.kind, "from": Status.IN_PROGRESS, "to": Status.COMPLETED}
        entries.append(audit.Entry(WORKER, "status", request.id, moved))
    if session.get_bind().dialect.name == "postgresql":
        for index, notice in enumerate(notices):
            params.update({f"n{index}_{name}": notice[name] for name in NOTICE_COLUMNS})
        audited = len(entries) if audit.in_one_statement(session) else 0
        if audited:
            params.update(audit_sql.parameters([(entry, now) for entry in entries]))
            entries = []
        statement = _finish_statement(completes, len(notices), audited)
        held = (await core_execute(session, statement, params)).first() is not None
    else:
        held = await _finish_sqlite(session, params, completes, notices)
    if not held:
        return None
    await audit.append_all(session, entries, now=now)
    return Finished(request, completes)


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
            Action.status == "running",
        )
        .values(
            status="done",
            finished_at=_param("now", Action.finished_at),
            lease_owner=None,
            lease_expires_at=None,
            result=_param("outcome", Action.result),
        )
        .returning(Action.id)
    )


@cache
def _close() -> Update:
    """Request `:req` completed at `:now`, its details scrubbed to `:scrubbed`."""
    now = _param("now", PrivacyRequest.updated_at)
    return (
        update(PrivacyRequest)
        .where(PrivacyRequest.id == bindparam("req"))
        .values(
            status=Status.COMPLETED,
            updated_at=now,
            completed_at=now,
            details=_param("scrubbed", PrivacyRequest.details),
            version=PrivacyRequest.version + 1,
        )
    )


@cache
def _finish_statement(completes: bool, notices: int, audited: int) -> Select[Any]:
    """PostgreSQL, one statement: `_done`, and only when it matched, `_close` with its
    history row (when the request completes), `notices` outbox rows (`:n0_…`) and
    `audited` audit entries (`audit_sql`: the chain's lock is taken last, by this
    statement, and held only until its commit)."""
    done = _done().cte("done")
    held = exists(select(done.c.id))
    ctes: list[CTE] = []
    if audited:
        chain, _last = audit_sql.appending(audited, only_if=held)
        ctes += chain
    if completes:
        closed = _close().where(held).returning(PrivacyRequest.id).cte("closed")
        ctes += [closed, _history(closed, Status.IN_PROGRESS, Status.COMPLETED).cte("history")]
    if notices:
        table = Notification.__table__
        rows = [
            select(*(_param(f"n{index}_{name}", table.c[name]) for name in NOTICE_COLUMNS)).where(
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
