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

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    Insert,
    Select,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import JSONB
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


@dataclass(frozen=True)
class Filled:
    """An entry whose request id and one text field of its data the statement itself
    fills in, from a row of `source` (at most one): `request_id` and `value` are its
    columns. Its parameters come from `filled_parameters`."""

    source: CTE
    request_id: ColumnElement[int]
    field: str
    value: ColumnElement[str]


_FIELD_MARK = "\ue000field\ue000"  # stands for the filled-in text in the canonical form


def fillable(value: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether `value` can fill in an entry (`Filled`): its JSON is the same in SQL as in
    Python's canonical form."""
    return value.regexp_match("^[a-z_]+$")


def filled_parameters(entry: Entry, field: str, at: datetime) -> dict[str, Any]:
    """`parameters` of a first entry whose request id and `data[field]` the statement
    fills in (`Filled`): `entry` holds everything else. The value must be lower-case
    ASCII letters and `_` (else the statement writes no entry): its JSON is then the
    same in SQL as here."""
    marked = Entry(entry.actor, entry.event, None, {**entry.data, field: _FIELD_MARK})
    return parameters([(marked, at)])


def appending(
    count: int, only_if: ColumnElement[bool] | None = None, filled: Filled | None = None
) -> tuple[list[CTE], CTE]:
    """The CTEs that lock the head (only when `only_if` holds: else they write nothing),
    insert `count` entries after it and move the head on; and the last entry's CTE (its
    `id` and `hash`). A statement adds all of them (`add_cte`). With `filled`, the first
    entry is written only for a row of its source, and holds that row's values."""
    locked = select(AuditHead.last_id.label("id"), AuditHead.last_hash.label("hash")).where(
        AuditHead.id == 1
    )
    if only_if is not None:
        locked = locked.where(only_if)
    previous = locked.with_for_update().cte("audit_head_locked")
    ctes = [previous]
    for index in range(count):
        entry = _insert_after(previous, index, filled if index == 0 else None)
        previous = entry.cte(f"audit_entry{index}")
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


def _insert_after(previous: Any, index: int, filled: Filled | None = None) -> Insert:
    table = AuditEntry.__table__
    new_id = previous.c.id + 1
    before: ColumnElement[str] = bindparam(f"{PREFIX}before{index}", type_=Text())
    after: ColumnElement[str] = bindparam(f"{PREFIX}after{index}", type_=Text())
    request_id: ColumnElement[Any] = bindparam(
        f"{PREFIX}request{index}", type_=table.c.request_id.type
    )
    data: ColumnElement[Any] = bindparam(f"{PREFIX}data{index}", type_=table.c.data.type)
    if filled is not None:
        value = func.to_json(filled.value).cast(Text)
        before = func.replace(before, json.dumps(_FIELD_MARK, ensure_ascii=False), value)
        after = func.replace(
            after, ',"request_id":null}', ',"request_id":' + sa_cast(filled.request_id, Text) + "}"
        )
        request_id = filled.request_id
        field = func.jsonb_build_object(literal(filled.field, Text), filled.value)
        data = sa_cast(sa_cast(data, JSONB).op("||")(field), table.c.data.type)
    text_of = before + sa_cast(new_id, Text) + literal(',"prev_hash":"', Text) + previous.c.hash
    digest = func.encode(func.sha256(func.convert_to(text_of + after, "UTF8")), "hex")
    row = select(
        new_id,
        bindparam(f"{PREFIX}at{index}", type_=UTCDateTime()),
        bindparam(f"{PREFIX}actor{index}", type_=table.c.actor.type),
        bindparam(f"{PREFIX}event{index}", type_=table.c.event.type),
        request_id,
        data,
        previous.c.hash,
        digest,
    )
    if filled is not None:
        row = row.select_from(previous).join(filled.source, true()).where(fillable(filled.value))
    return insert(AuditEntry).from_select(_COLUMNS, row).returning(AuditEntry.id, AuditEntry.hash)
