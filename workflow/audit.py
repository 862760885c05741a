"""The audit log: append-only and hash-chained, so an altered, removed or reordered
entry is detected by `verify`.

Each entry's hash is sha256 over a canonical JSON of its fields (id included) and the
previous entry's hash. Appends are serialised so the chain never forks: a transaction's
entries are written when it commits, in one statement (PostgreSQL) that locks the chain's
head (`audit_head`, one row: the last entry's id and hash), inserts them after it and moves
it on; the row lock is held until commit, and a waiter then reads the head the previous
writer left. On SQLite the database's single writer serialises them. Ids are assigned
here, consecutively, so a gap is itself evidence of removal, and the head tells where the
chain must end.

`data` holds counts, categories, kinds, field names and hashed identifiers: never an
email, a phone number, a name, a code or message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.db import WRITE_LOCKED
from storage.privacy_models import AuditEntry, AuditHead
from storage.types import utcnow
from workflow import audit_sql
from workflow.audit_hash import GENESIS, Entry, canonical, entry_hash

__all__ = [
    "GENESIS",
    "Entry",
    "VerifyResult",
    "append",
    "append_all",
    "canonical",
    "entry_hash",
    "in_one_statement",
    "verify",
]

_VERIFY_BATCH = 1000
_QUEUED = "audit_queued"  # Session.info: (transaction, [(Entry, at)]) written at its commit
_CHUNK = 8  # entries per statement: a statement is built once per count (`audit_sql`)


async def append(
    session: AsyncSession,
    *,
    actor: str,
    event: str,
    request_id: int | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> None:
    """Add an entry to the chain in the caller's transaction: it is written when that
    transaction commits, with the transaction's other entries, in order
    (`_write_queued`). `data` is copied now, as the database will hand it back (`Entry`)."""
    entry = Entry(actor, event, request_id, data)
    _queued(session.sync_session).append((entry, now or utcnow()))


async def append_all(session: AsyncSession, entries: Sequence[Entry], *, now: datetime) -> None:
    """`append` each of `entries`, at `now`."""
    _queued(session.sync_session).extend((entry, now) for entry in entries)


def _queued(session: Session) -> list[tuple[Entry, datetime]]:
    """The list of entries this transaction appends (made at its first append)."""
    if not (queued := _pending(session)):
        queued = []
        session.info[_QUEUED] = (session.get_transaction(), queued)
    return queued


def _pending(session: Session) -> list[tuple[Entry, datetime]]:
    """The entries this transaction appended so far; read only (every commit asks)."""
    held = session.info.get(_QUEUED)
    if held is None or held[0] is not session.get_transaction():
        return []
    pending: list[tuple[Entry, datetime]] = held[1]
    return pending


def in_one_statement(session: AsyncSession) -> bool:
    """Whether a statement may append with `audit_sql` itself now: on PostgreSQL, when
    this transaction has appended nothing yet (its entries would come after)."""
    return session.get_bind().dialect.name == "postgresql" and not _pending(session.sync_session)


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    """Write the transaction's entries, the last thing before it commits.

    The chain's head is then the last lock a transaction takes, and it is held only for
    this statement and the commit: no transaction waits for a row while it holds the
    head (another holding that row could be waiting for the head: a deadlock), and
    writers of the chain wait for each other as briefly as can be. A savepoint's release
    writes nothing: its transaction may still roll back to it."""
    if session.in_nested_transaction():
        return
    queued = _pending(session)
    if not queued:
        return
    del session.info[_QUEUED]
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(queued), _CHUNK):  # pending rows are flushed first
            chunk = queued[start : start + _CHUNK]
            session.execute(audit_sql.append_statement(len(chunk)), audit_sql.parameters(chunk))
        return
    if not session.info.get(WRITE_LOCKED):
        # A plain read takes no lock on SQLite: a write (matching no row) takes the
        # database's write lock first, so another writer waits for our commit.
        session.execute(text("UPDATE audit_head SET id = id WHERE id = -1"))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    for entry, at in queued:
        row = AuditEntry(
            id=head.last_id + 1,
            at=at.astimezone(UTC),
            actor=entry.actor,
            event=entry.event,
            request_id=entry.request_id,
            data=entry.data,
            prev_hash=head.last_hash,
            hash="",
        )
        row.hash = entry_hash(row)
        session.add(row)  # flushed by the commit, with the head moved on
        head.last_id, head.last_hash = row.id, row.hash


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk the chain in id order and report the first entry that does not fit; then
    hold its end against the head, which every append moves on: entries cut from the
    end, or added there without the head, are found too. The head is read before the
    walk (where the chain ended then) and after it (entries appended meanwhile)."""
    before = await _head_now(session)
    checked, at_head = 0, None
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
            break
        for entry in rows:
            bad = _check(entry, prev_id, prev_hash)
            if bad is not None:
                return VerifyResult(False, checked, entry.id, bad)
            checked += 1
            prev_hash, prev_id = entry.hash, entry.id
            if entry.id == before[0]:
                at_head = entry.hash
    if prev_id < before[0]:
        return VerifyResult(
            False, checked, prev_id + 1, f"entries {prev_id + 1}..{before[0]} are missing"
        )
    if at_head != before[1] and before[0] > 0:
        return VerifyResult(
            False, checked, before[0], "is not the entry the chain's head names (replaced)"
        )
    after = await _head_now(session)
    if prev_id > after[0]:
        reason = "was added after the chain's end, not appended to it"
        return VerifyResult(False, after[0], after[0] + 1, reason)
    return VerifyResult(True, checked)


async def _head_now(session: AsyncSession) -> tuple[int, str]:
    """The head's last id and hash as committed now (no lock: `verify` only reads)."""
    row = (await session.execute(select(AuditHead.last_id, AuditHead.last_hash))).one()
    return row.last_id, row.last_hash


def _check(entry: AuditEntry, prev_id: int, prev_hash: str) -> str | None:
    if entry.id != prev_id + 1:
        return f"entries {prev_id + 1}..{entry.id - 1} are missing"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry (removed or reordered)"
    if entry.hash != entry_hash(entry):
        return "content does not match its hash (altered)"
    return None
