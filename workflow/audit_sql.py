"""Appending to the audit chain inside one statement (PostgreSQL): the chain's head
locked, the entries inserted after it, each hashed in SQL from the one before, and the
head moved on to the last; as a statement of its own or as part of a bigger one (the
worker's finish).

A statement's snapshot is taken when it starts, so a lock it waits for must not be
followed by a read of the log in the same statement: that read could miss the entries
of the writer it waited for. The head row is what makes one statement enough:
`SELECT … FOR UPDATE` waits for that writer and then hands back the row as that writer
committed it (READ COMMITTED reads a locked row's newest version), and the UPDATE at the
end moves that same newest version on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import CTE, Insert, Select, Text, bindparam, func, insert, literal, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.sql.elements import ColumnElement

from storage.privacy_models import AuditEntry, AuditHead
from storage.types import UTCDateTime
from workflow.audit_hash import Entry, canonical_around

PREFIX = "audit_"  # the parameters' names: no column of any table is called so
_COLUMNS = ["id", "at", "actor", "event", "request_id", "data", "prev_hash", "hash"]


def parameters(entries: Sequence[tuple[Entry, datetime]]) -> dict[str, Any]:
    """The values `appending(len(entries))` binds, for entries with their times: each
    entry's canonical text around its id and previous hash, prepared here, before the
    chain is locked."""
    values: dict[str, Any] = {}
    for index, (entry, now) in enumerate(entries):
        at = now.astimezone(UTC)
        before, after = canonical_around(at, entry.actor, entry.event, entry.request_id, entry.data)
        values.update(
            {
                f"{PREFIX}at{index}": at,
                f"{PREFIX}actor{index}": entry.actor,
                f"{PREFIX}event{index}": entry.event,
                f"{PREFIX}request{index}": entry.request_id,
                f"{PREFIX}data{index}": entry.data,
                f"{PREFIX}before{index}": before,
                f"{PREFIX}after{index}": after,
            }
        )
    return values


def appending(count: int, only_if: ColumnElement[bool] | None = None) -> tuple[list[CTE], CTE]:
    """The CTEs that lock the head (only when `only_if` holds: else they write nothing),
    insert `count` entries after it and move the head on; and the last entry's CTE (its
    `id` and `hash`). A statement adds all of them (`add_cte`)."""
    locked = select(AuditHead.last_id.label("id"), AuditHead.last_hash.label("hash")).where(
        AuditHead.id == 1
    )
    if only_if is not None:
        locked = locked.where(only_if)
    previous = locked.with_for_update().cte("audit_head_locked")
    ctes = [previous]
    for index in range(count):
        previous = _insert_after(previous, index).cte(f"audit_entry{index}")
        ctes.append(previous)
    moved = (
        update(AuditHead)
        .where(AuditHead.id == 1, AuditHead.last_id < previous.c.id)
        .values(last_id=previous.c.id, last_hash=previous.c.hash)
    )
    ctes.append(moved.cte("audit_head_moved"))
    return ctes, previous


@cache
def append_statement(count: int) -> Select[Any]:
    """`count` entries appended, as a statement of its own; returns the last one's id and
    hash. Built once per count: building a statement costs more than running it."""
    ctes, last = appending(count)
    return select(last.c.id, last.c.hash).add_cte(*ctes)


def _insert_after(previous: Any, index: int) -> Insert:
    new_id = previous.c.id + 1
    text_of = (
        bindparam(f"{PREFIX}before{index}", type_=Text())
        + sa_cast(new_id, Text)
        + literal(',"prev_hash":"', Text)
        + previous.c.hash
        + bindparam(f"{PREFIX}after{index}", type_=Text())
    )
    digest = func.encode(func.sha256(func.convert_to(text_of, "UTF8")), "hex")
    table = AuditEntry.__table__
    row = select(
        new_id,
        bindparam(f"{PREFIX}at{index}", type_=UTCDateTime()),
        bindparam(f"{PREFIX}actor{index}", type_=table.c.actor.type),
        bindparam(f"{PREFIX}event{index}", type_=table.c.event.type),
        bindparam(f"{PREFIX}request{index}", type_=table.c.request_id.type),
        bindparam(f"{PREFIX}data{index}", type_=table.c.data.type),
        previous.c.hash,
        digest,
    )
    return insert(AuditEntry).from_select(_COLUMNS, row).returning(AuditEntry.id, AuditEntry.hash)
