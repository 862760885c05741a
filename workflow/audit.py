"""The audit log: append-only and hash-chained, so an altered, removed or reordered
entry is detected by `verify`.

Each entry's hash is sha256 over a canonical JSON of its fields (id included) and the
previous entry's hash. Appends are serialised so the chain never forks: on PostgreSQL
with a transaction-scoped advisory lock, on SQLite by its single writer. Ids are
assigned here, consecutively, under that lock, so a gap is itself evidence of removal.

`data` holds counts, categories, kinds, field names and hashed identifiers: never an
email, a phone number, a name, a code or message text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, String, Text, bindparam, func, insert, literal, select, text
from sqlalchemy import cast as sa_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.db import WRITE_LOCKED
from storage.privacy_models import AuditEntry
from storage.types import UTCDateTime, utcnow

GENESIS = "0" * 64
_LOCK_KEY = 0x50524956_41554454 & 0x7FFFFFFFFFFFFFFF  # "PRIVAUDT": one lock for the chain
_VERIFY_BATCH = 1000
_LAST = "audit_last_entry"  # Session.info: (transaction, id, hash) of our newest entry
_LOCKED = "audit_chain_locked"  # Session.info: the transaction that took the chain's lock


def canonical(
    entry_id: int,
    at: datetime,
    actor: str,
    event: str,
    request_id: int | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The exact bytes the hash covers; stable across backends and key order."""
    return json.dumps(
        {
            "id": entry_id,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "event": event,
            "request_id": request_id,
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def entry_hash(entry: AuditEntry) -> str:
    payload = canonical(
        entry.id,
        entry.at,
        entry.actor,
        entry.event,
        entry.request_id,
        entry.data,
        entry.prev_hash,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


async def _lock_chain(session: AsyncSession) -> None:
    """Hold the chain until commit, so two writers never read the same last entry.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: reads outside a write
    transaction hold no lock, so a write statement (matching no row) takes the
    database's write lock first; another writer then waits for our commit. A
    transaction that began with BEGIN IMMEDIATE (`Database.transaction`) holds it already."""
    if session.info.get(WRITE_LOCKED):
        return
    if session.info.get(_LOCKED) is session.sync_session.get_transaction():
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        await session.execute(text("UPDATE audit_log SET id = id WHERE id = -1"))


async def append(
    session: AsyncSession,
    *,
    actor: str,
    event: str,
    request_id: int | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> AuditEntry:
    """Add the next entry to the chain in the caller's transaction.

    The chain's lock is held until commit, so after this transaction's first append its
    own newest entry is the chain's last one: later appends take it from the session
    instead of reading the table again (none of our code rolls back to a savepoint).
    """
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_LAST)
    if cached is not None and cached[0] is transaction:
        last_id, last_hash = cached[1], cached[2]
    else:
        # Flush first: this transaction's own row writes (and earlier entries) go out
        # before the chain's lock is taken, so it is held as briefly as possible.
        await session.flush()
        await _lock_chain(session)
        last = (
            await session.execute(
                select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
            )
        ).first()
        last_id, last_hash = (last.id, last.hash) if last else (0, GENESIS)
    # JSON round-trip now, so the hash covers exactly what the database will hand back.
    stored = json.loads(json.dumps(data, default=str))
    entry = AuditEntry(
        id=last_id + 1,
        at=(now or utcnow()).astimezone(UTC),
        actor=actor,
        event=event,
        request_id=request_id,
        data=stored,
        prev_hash=last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)  # inserted at the next flush: a transaction's entries go in together
    session.info[_LAST] = (transaction, entry.id, entry.hash)
    return entry


def chain_lock() -> ColumnElement[Any]:
    """The chain's lock (PostgreSQL) as an expression, for a statement whose last step
    takes it; call `took_chain_lock` once that statement ran."""
    return func.pg_advisory_xact_lock(_LOCK_KEY)


def took_chain_lock(session: AsyncSession) -> None:
    """This transaction holds the chain's lock (taken by a `chain_lock()` expression)."""
    session.info[_LOCKED] = session.sync_session.get_transaction()


@dataclass(frozen=True, slots=True)
class Entry:
    actor: str
    event: str
    request_id: int | None
    data: dict[str, Any]


async def append_all(session: AsyncSession, entries: Sequence[Entry], *, now: datetime) -> None:
    """Append `entries`, in order, at `now`. On PostgreSQL, when this transaction has
    appended nothing yet, one statement reads the chain's last entry and inserts the new
    ones after it, each hashed in SQL from its predecessor (`sha256` over the canonical
    JSON, which Python prepares around the id and the previous hash), so the last entry
    is not fetched first; elsewhere `append` each."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_LAST)
    if (
        not entries
        or session.get_bind().dialect.name != "postgresql"
        or (cached is not None and cached[0] is transaction)
    ):
        for entry in entries:
            await append(
                session,
                actor=entry.actor,
                event=entry.event,
                request_id=entry.request_id,
                data=entry.data,
                now=now,
            )
        return
    await session.flush()
    await _lock_chain(session)
    at = now.astimezone(UTC)
    params: dict[str, Any] = {"at": at, "genesis": GENESIS}
    for index, entry in enumerate(entries):
        stored = json.loads(json.dumps(entry.data, default=str))
        before, after = canonical_around(at, entry.actor, entry.event, entry.request_id, stored)
        params.update(
            {
                f"actor{index}": entry.actor,
                f"event{index}": entry.event,
                f"request{index}": entry.request_id,
                f"data{index}": stored,
                f"before{index}": before,
                f"after{index}": after,
            }
        )
    last = (await session.execute(_chained_insert(len(entries)), params)).one()
    session.info[_LAST] = (transaction, last.id, last.hash)


def canonical_around(
    at: datetime, actor: str, event: str, request_id: int | None, data: dict[str, Any]
) -> tuple[str, str]:
    """`canonical` of an entry as the text before its id and the text after its previous
    hash: `before + str(id) + ',"prev_hash":"' + prev_hash + after` is `canonical`."""
    head = canonical(0, at, actor, event, request_id, data, GENESIS)
    marker = f',"id":0,"prev_hash":"{GENESIS}'
    cut = head.rindex(marker)  # only `"request_id"` follows it
    return head[: cut + len(',"id":')], head[cut + len(marker) :]


@cache
def _chained_insert(count: int) -> Select[Any]:
    """`count` entries after the chain's last one, in one statement (PostgreSQL)."""
    last = select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    head = select(
        func.coalesce(last.with_only_columns(AuditEntry.id).scalar_subquery(), 0).label("id"),
        func.coalesce(
            last.with_only_columns(AuditEntry.hash).scalar_subquery(),
            bindparam("genesis", type_=String()),
        ).label("hash"),
    ).cte("head")
    previous: Any = head
    ctes = []
    for index in range(count):
        entry = _insert_after(previous, index).cte(f"entry{index}")
        ctes.append(entry)
        previous = entry
    return select(previous.c.id, previous.c.hash).add_cte(*ctes)


def _insert_after(previous: Any, index: int) -> Insert:
    new_id = previous.c.id + 1
    text_of = (
        bindparam(f"before{index}", type_=Text())
        + sa_cast(new_id, Text)
        + literal(',"prev_hash":"', Text)
        + previous.c.hash
        + bindparam(f"after{index}", type_=Text())
    )
    digest = func.encode(func.sha256(func.convert_to(text_of, "UTF8")), "hex")
    table = AuditEntry.__table__
    row = select(
        new_id,
        bindparam("at", type_=UTCDateTime()),
        bindparam(f"actor{index}", type_=table.c.actor.type),
        bindparam(f"event{index}", type_=table.c.event.type),
        bindparam(f"request{index}", type_=table.c.request_id.type),
        bindparam(f"data{index}", type_=table.c.data.type),
        previous.c.hash,
        digest,
    )
    columns = ["id", "at", "actor", "event", "request_id", "data", "prev_hash", "hash"]
    return insert(AuditEntry).from_select(columns, row).returning(AuditEntry.id, AuditEntry.hash)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk the chain in id order; report the first entry that does not fit."""
    checked = 0
    prev_hash, prev_id = GENESIS, 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.id > prev_id)
                    .order_by(AuditEntry.id)
                    .limit(_VERIFY_BATCH)
                    .execution_options(populate_existing=True)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return VerifyResult(True, checked)
        for entry in rows:
            bad = _check(entry, prev_id, prev_hash)
            if bad is not None:
                return VerifyResult(False, checked, entry.id, bad)
            checked += 1
            prev_hash, prev_id = entry.hash, entry.id


def _check(entry: AuditEntry, prev_id: int, prev_hash: str) -> str | None:
    if entry.id != prev_id + 1:
        return f"entries {prev_id + 1}..{entry.id - 1} are missing"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry (removed or reordered)"
    if entry.hash != entry_hash(entry):
        return "content does not match its hash (altered)"
    return None
