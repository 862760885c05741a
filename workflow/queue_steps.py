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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Insert,
    Integer,
    Select,
    String,
    all_,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    true,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.expression import Exists

from storage.privacy_models import Action, PrivacyRequest, RequestEvent
from storage.types import UTCDateTime
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
    def of(cls, row: Row[Any] | Mapping[str, Any], prefix: str = "") -> RequestView:
        values = cast(Mapping[str, Any], row._mapping) if isinstance(row, Row) else row
        return cls(**{name: values[prefix + name] for name in cls.__slots__})


# --- claim and start (PostgreSQL) ---------------------------------------------------------


def param(name: str, column: Any) -> BindParameter[Any]:
    """A named parameter typed like `column` (a statement is built once, run often)."""
    return bindparam(name, type_=column.type)


def fixed(value: str) -> ColumnElement[str]:
    """A status written into the statement's text, not bound. PostgreSQL plans a
    prepared statement once for all its calls only if that plan is not worse than
    planning each call; with the status bound, the plan for all calls could not use the
    partial indexes (`WHERE status = 'ready'`) and scanned the actions table, so every
    call was planned again (0.6 ms of the database's CPU per claim; the run 0.3 ms)."""
    if not value.replace("_", "").isalpha():
        raise ValueError(f"not a status: {value!r}")
    return literal_column(f"'{value}'", String())


def fixed_count(value: int) -> ColumnElement[int]:
    """A LIMIT written into the statement's text, for the same reason as `fixed`: with
    it bound, the plan for all calls guessed a tenth of the table behind it and chose
    scans of the whole actions table."""
    return literal_column(str(int(value)), Integer())


ACCOUNT_LOCK_CLASS = 0x5051  # "PQ": the advisory-lock namespace for accounts
CANDIDATES = 8  # ready actions a claim looks at before it gives up for now


def account_busy(now: Any) -> Exists:
    """Another action of the action's account runs under a live lease (as this
    statement's snapshot shows it)."""
    return exists().where(
        _OTHER.account_id == Action.account_id,
        _OTHER.id != Action.id,
        _OTHER.status == fixed("running"),
        _OTHER.lease_expires_at >= now,
    )


@cache
def candidate_statement(expired: bool) -> Select[Any]:
    """The first of the next candidates (row-locked, SKIP LOCKED, none of `:tried`) whose
    account's advisory lock this transaction gets: the lock is tried row by row, in
    order, and only until one succeeds, so no other account is held. Built once (with
    bound parameters `now` and `tried`): building a statement costs more than running it."""
    now = bindparam("now", type_=UTCDateTime())
    if expired:
        due = [Action.status == fixed("running"), Action.lease_expires_at < now]
        order = (Action.lease_expires_at, Action.id)
    else:
        due = [Action.status == fixed("ready"), Action.run_after <= now, ~account_busy(now)]
        order = (Action.run_after, Action.id)
    candidates = (
        select(Action.id, Action.account_id)
        .where(*due, Action.id != all_(bindparam("tried", type_=ARRAY(Integer()))))
        .order_by(*order)
        .limit(fixed_count(CANDIDATES))
        .with_for_update(skip_locked=True)
        .subquery("candidate")
    )
    account = sa_cast(candidates.c.account_id % 2_147_483_647, Integer)
    return (
        select(candidates.c.id, candidates.c.account_id)
        .where(func.pg_try_advisory_xact_lock(ACCOUNT_LOCK_CLASS, account))
        .limit(fixed_count(1))
    )


@cache
def claim_and_start_statement(audited: bool) -> Select[Any]:
    """One statement: claim action `:action_id` for `:owner` until `:expires` unless its
    account got busy, and start it (`_started`). For a transaction that locked the
    candidate's account first (`candidate_statement`): the statement's snapshot, taken
    after that lock, shows every claim committed before it."""
    now = param("now", PrivacyRequest.updated_at)
    claimed = _claim(and_(Action.id == bindparam("action_id"), ~account_busy(now)))
    return _started(claimed, None, audited)


@cache
def claim_at_once_statement() -> Select[Any]:
    """One statement that can commit on its own: the next ready candidate (as
    `candidate_statement`), claimed for `:owner` until `:expires` only if no other
    action of its account runs, and started (`_started`, audited). Its snapshot was
    taken before the account's lock, so it cannot trust what it shows of the account's
    other actions: it locks them too (FOR SHARE, SKIP LOCKED), which hands back each as
    last committed, and claims only when it got every one and none of them runs under
    a live lease. A claim or finish of one of them in flight holds it: then the account
    counts as busy, and the caller tries the next candidate. Returns `candidate_id`,
    with the other columns NULL when the candidate was not claimed; no row when there
    was no candidate."""
    now = param("now", PrivacyRequest.updated_at)
    candidate = candidate_statement(False).cte("candidate")
    siblings = (
        select(_OTHER.id)
        .where(
            _OTHER.account_id == candidate.c.account_id,
            _OTHER.id != candidate.c.id,
            _OTHER.status.in_((fixed("ready"), fixed("running"))),
        )
        .cte("siblings")
    )
    held = (
        select(_OTHER.id, _OTHER.status, _OTHER.lease_expires_at)
        .where(_OTHER.id.in_(select(siblings.c.id)))
        .with_for_update(read=True, skip_locked=True)
        .cte("held_siblings")
    )
    every_one = select(func.count()).select_from(siblings).scalar_subquery() == (
        select(func.count()).select_from(held).scalar_subquery()
    )
    running = exists(
        select(held.c.id).where(held.c.status == fixed("running"), held.c.lease_expires_at >= now)
    )
    target = and_(
        Action.id == select(candidate.c.id).scalar_subquery(),
        Action.status == fixed("ready"),
        every_one,
        ~running,
    )
    return _started(_claim(target), candidate, True)


def _claim(target: ColumnElement[bool]) -> CTE:
    return (
        update(Action)
        .where(target)
        .values(
            status="running",
            lease_owner=bindparam("owner"),
            lease_expires_at=param("expires", Action.lease_expires_at),
            attempts=Action.attempts + 1,
        )
        .returning(*ACTION_COLUMNS)
        .cte("claimed")
    )


def _started(claimed: CTE, candidate: CTE | None, audited: bool) -> Select[Any]:
    """After the claim: lock its request unless another transaction holds it, and move
    an approved request to in_progress (with its history row) unless the action has
    used up its attempts or the request's kind is not one the audit entry can be
    filled in with; with `audited`, also append the move's audit entry
    (`start_parameters`), filled in from the moved row. Returns the action's columns,
    the request's as `req_…` (NULL when it was held; as read before the move),
    `moved_id` (NULL unless it moved) and `audit_id`, the entry's id (NULL when none
    was written).

    A claim sets its transaction's commit not to wait for the log's flush to disk
    (`synchronous_commit` off, for this transaction only): a claim lost to a crash of
    the database is a claim never made (the action is ready again, the request
    approved, the entry gone with them; the log is replayed in order, so nothing that
    came after it survives either), and the executor it ran is run again, as after a
    worker's crash. The chain's head is then held by a claim only until its commit is
    written, not until it is flushed; the finish, which queues the customer's notice,
    still waits for the flush, and with it for every claim before it."""
    now = param("now", PrivacyRequest.updated_at)
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
            request.c.status == fixed(Status.APPROVED),
            claimed.c.attempts <= claimed.c.max_attempts,
            audit_sql.fillable(request.c.kind),
        )
        .values(status=Status.IN_PROGRESS, updated_at=now, version=PrivacyRequest.version + 1)
        .returning(PrivacyRequest.id, PrivacyRequest.kind)
        .cte("moved")
    )
    history = history_rows(moved, Status.APPROVED, Status.IN_PROGRESS).cte("history")
    ctes: list[CTE] = [moved, history]
    audit_id: Any = null()
    if audited:
        filled = audit_sql.Filled(moved, moved.c.id, "kind", moved.c.kind)
        chain, last = audit_sql.appending(1, only_if=exists(select(moved.c.id)), filled=filled)
        ctes += chain
        audit_id = select(last.c.id).scalar_subquery()
    labelled = [column.label(f"req_{column.name}") for column in request.c]
    columns = [
        *claimed.c,
        *labelled,
        select(moved.c.id).scalar_subquery().label("moved_id"),
        audit_id.label("audit_id"),
        func.set_config("synchronous_commit", "off", true()).label("unflushed_commit"),
    ]
    if candidate is None:
        source = claimed.outerjoin(request, true())
    else:
        columns.insert(0, candidate.c.id.label("candidate_id"))
        source = candidate.outerjoin(claimed, true()).outerjoin(request, true())
    return select(*columns).select_from(source).add_cte(*ctes)


def start_entry(request_id: int, kind: str) -> audit.Entry:
    """The audit entry of approved -> in_progress of a request of `kind`."""
    data = {"kind": kind, "from": Status.APPROVED, "to": Status.IN_PROGRESS}
    return audit.Entry(WORKER, "status", request_id, data)


def start_parameters(now: datetime) -> dict[str, Any]:
    """What a claim statement that audits the start binds for its entry, which the
    statement fills in with the moved request's id and kind."""
    return audit_sql.filled_parameters(start_entry(0, "kind"), "kind", now)


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
