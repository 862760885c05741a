"""The worker's claim-and-start in one statement, and what its finish shares with it.

An action costs two short transactions (`workflow.worker`): claim-and-start here, the
finish in `workflow.queue_finish`. Both write plain rows with SQLAlchemy Core (no ORM
unit of work on the hot path). On PostgreSQL the claim is one statement of
data-modifying CTEs: the claim (`UPDATE actions … RETURNING`), the request locked with
SKIP LOCKED (the action row is held, so waiting for the request would invert the lock
order), moved approved -> in_progress with its history row and audit entry, only when
the request was approved; the chain's lock is taken last, by the statement itself, and
held only until its commit. The statement hands back the action and the request's values.
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
    bindparam,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from storage.privacy_models import Action, PrivacyRequest, RequestEvent
from workflow import audit, audit_sql
from workflow.lifecycle import Status

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
    PrivacyRequest.version,
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
    version: int

    @classmethod
    def of(cls, row: Row[Any], prefix: str = "") -> RequestView:
        values = row._mapping
        return cls(**{name: values[prefix + name] for name in cls.__slots__})


# --- claim and start (PostgreSQL) ---------------------------------------------------------


def param(name: str, column: Any) -> BindParameter[Any]:
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
    written). Built once: building the statement costs more than running it.

    A claim sets its transaction's commit not to wait for the log's flush to disk
    (`synchronous_commit` off, for this transaction only): a claim lost to a crash of
    the database is a claim never made (the action is ready again, the request
    approved, the entry gone with them; the log is replayed in order, so nothing that
    came after it survives either), and the executor it ran is run again, as after a
    worker's crash. The chain's head is then held by a claim only until its commit is
    written, not until it is flushed; the finish, which queues the customer's notice,
    still waits for the flush, and with it for every claim before it."""
    now = param("now", PrivacyRequest.updated_at)
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
            lease_expires_at=param("expires", Action.lease_expires_at),
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
    history = history_rows(moved, Status.APPROVED, Status.IN_PROGRESS).cte("history")
    ctes: list[CTE] = [moved, history]
    audit_id: Any = null()
    if audited:
        as_said = exists(select(moved.c.id).where(moved.c.kind == bindparam("start_kind")))
        chain, last = audit_sql.appending(1, only_if=as_said)
        ctes += chain
        audit_id = select(last.c.id).scalar_subquery()
    labelled = [column.label(f"req_{column.name}") for column in request.c]
    return (
        select(
            *claimed.c,
            *labelled,
            audit_id.label("audit_id"),
            func.set_config("synchronous_commit", "off", true()).label("unflushed_commit"),
        )
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


def history_rows(source: CTE, before: str, after: str) -> Insert:
    """The history row of a move at `:now`, one per row of `source` (none when nothing
    moved)."""
    table = RequestEvent.__table__
    rows = select(
        source.c.id,
        param("now", table.c.at),
        literal(before, table.c.from_status.type),
        literal(after, table.c.to_status.type),
        literal(WORKER, table.c.actor.type),
        null(),
    ).select_from(source)
    return insert(RequestEvent).from_select(list(EVENT_COLUMNS), rows)
