"""The audit log: append-only and hash-chained, so an altered, removed or reordered
entry is detected by `verify`.

Each entry's hash is sha256 over a canonical JSON of its fields (id included) and the
previous entry's hash. Appends are serialised so the chain never forks: every append
locks the chain's head (`audit_head`, one row: the last entry's id and hash) and moves
it on in the same transaction; on PostgreSQL a row lock, held until commit, whose
waiter then reads the head the previous writer left; on SQLite the database's single
writer. Ids are assigned here, consecutively, so a gap is itself evidence of removal,
and the head tells where the chain must end.

`data` holds counts, categories, kinds, field names and hashed identifiers: never an
email, a phone number, a name, a code or message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import WRITE_LOCKED, core_execute
from storage.privacy_models import AuditEntry, AuditHead
from storage.types import utcnow
from workflow import audit_sql
from workflow.audit_hash import GENESIS, Entry, as_stored, canonical, entry_hash

__all__ = [
    "GENESIS",
    "Entry",
    "VerifyResult",
    "append",
    "append_all",
    "appended_in_statement",
    "canonical",
    "entry_hash",
    "in_one_statement",
    "verify",
]

_VERIFY_BATCH = 1000
_HEAD = "audit_chain_head"  # Session.info: (transaction, its locked AuditHead or None)


async def append(
    session: AsyncSession,
    *,
    actor: str,
    event: str,
    request_id: int | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> AuditEntry:
    """Add the next entry to the chain in the caller's transaction (inserted at its next
    flush, with the head moved on: a transaction's entries go in together)."""
    head = await _head(session)
    entry = AuditEntry(
        id=head.last_id + 1,
        at=(now or utcnow()).astimezone(UTC),
        actor=actor,
        event=event,
        request_id=request_id,
        data=as_stored(data),
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    head.last_id, head.last_hash = entry.id, entry.hash
    return entry


async def _head(session: AsyncSession) -> AuditHead:
    """The chain's head, locked by this transaction: at its first append the lock is
    taken and the head read; it is held until commit, so later appends use it as is."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HEAD)
    if held is not None and held[0] is transaction and held[1] is not None:
        head: AuditHead = held[1]
        return head
    # Flush first: this transaction's own row writes go out before the chain's lock is
    # taken, so it is held as briefly as possible.
    await session.flush()
    query = select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    elif not session.info.get(WRITE_LOCKED):
        # A plain read takes no lock on SQLite: a write (matching no row) takes the
        # database's write lock first, so another writer waits for our commit.
        await session.execute(text("UPDATE audit_head SET id = id WHERE id = -1"))
    head = (await session.execute(query)).scalar_one()
    session.info[_HEAD] = (transaction, head)
    return head


async def append_all(session: AsyncSession, entries: Sequence[Entry], *, now: datetime) -> None:
    """Append `entries`, in order, at `now`: in one statement where `in_one_statement`
    says so (`audit_sql`), else `append` each."""
    if not entries:
        return
    if not in_one_statement(session):
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
    statement = audit_sql.append_statement(len(entries))
    await core_execute(session, statement, audit_sql.parameters(entries, now))
    appended_in_statement(session)


def in_one_statement(session: AsyncSession) -> bool:
    """Whether a statement may append with `audit_sql` now: on PostgreSQL, when this
    transaction holds no head loaded by `append` (a statement would move the head on
    behind its back)."""
    held = session.info.get(_HEAD)
    return session.get_bind().dialect.name == "postgresql" and (
        held is None or held[0] is not session.sync_session.get_transaction() or held[1] is None
    )


def appended_in_statement(session: AsyncSession) -> None:
    """A statement of this transaction ran `audit_sql.appending`: a later `append` reads
    the head again (ours by then, or still free when the statement wrote nothing)."""
    session.info[_HEAD] = (session.sync_session.get_transaction(), None)


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
