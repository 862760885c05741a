"""The audit chain: intact after real work; any altered, removed or reordered entry is found."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.privacy_models import AuditEntry
from tests.clock import FakeClock
from tests.workflow.conftest import account_id, agent, open_request, rows
from workflow import audit, decisions


async def _some_history(db: Database, clock: FakeClock) -> list[AuditEntry]:
    ben = await account_id(db)
    for kind in ("objection", "erasure", "access"):
        request = await open_request(db, kind, now=clock(), account=ben)
        clock.advance(minutes=5)
    async with db.transaction() as session:
        await decisions.reject(session, request.reference, agent("alice"), "duplicate")
    entries = list(await rows(db, AuditEntry))
    assert len(entries) >= 12
    return entries


async def _verify(db: Database) -> audit.VerifyResult:
    async with db.sessions() as session:
        return await audit.verify(session)


async def test_an_untouched_chain_verifies(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    result = await _verify(seeded)
    assert result == audit.VerifyResult(True, len(entries))
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


async def test_empty_log_verifies(db: Database) -> None:
    assert await _verify(db) == audit.VerifyResult(True, 0)


async def test_an_altered_entry_is_named(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    victim = entries[5].id
    async with seeded.transaction() as session:
        await session.execute(
            text("UPDATE audit_log SET actor = 'agent:mallory' WHERE id = :id"), {"id": victim}
        )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == victim and result.checked == 5
    assert "altered" in (result.reason or "")


async def test_altered_data_json_is_found(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    victim = entries[-1].id
    async with seeded.transaction() as session:
        await session.execute(
            text("UPDATE audit_log SET data = :data WHERE id = :id"),
            {"data": '{"kind": "access", "from": "x", "to": "completed"}', "id": victim},
        )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == victim


async def test_a_removed_entry_is_found(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    victim = entries[3].id
    async with seeded.transaction() as session:
        await session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == victim + 1
    assert "missing" in (result.reason or "")


async def test_a_removed_and_renumbered_entry_is_found(seeded: Database, clock: FakeClock) -> None:
    """Hiding the gap by renumbering breaks the hashes (ids are hashed) and the links."""
    entries = await _some_history(seeded, clock)
    victim = entries[3].id
    async with seeded.transaction() as session:
        await session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
        for entry in entries[4:]:
            await session.execute(
                text("UPDATE audit_log SET id = :new WHERE id = :old"),
                {"new": entry.id - 1, "old": entry.id},
            )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == victim


async def test_entries_cut_from_the_end_are_found(seeded: Database, clock: FakeClock) -> None:
    """The chain alone cannot tell its last entries were removed; its head can."""
    entries = await _some_history(seeded, clock)
    async with seeded.transaction() as session:
        await session.execute(text("DELETE FROM audit_log WHERE id > :id"), {"id": entries[-3].id})
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == entries[-2].id
    assert result.checked == len(entries) - 2
    assert result.reason == f"entries {entries[-2].id}..{entries[-1].id} are missing"


async def test_a_last_entry_replaced_with_a_valid_one_is_found(
    seeded: Database, clock: FakeClock
) -> None:
    """Rewritten and re-hashed so that it fits the chain: the head still names the
    original's hash."""
    entries = await _some_history(seeded, clock)
    last = entries[-1]
    forged = {"kind": "access", "from": "in_progress", "to": "rejected"}
    text_of = audit.canonical(
        last.id, last.at, "agent:mallory", last.event, last.request_id, forged, last.prev_hash
    )
    async with seeded.transaction() as session:
        await session.execute(
            text("UPDATE audit_log SET actor = :actor, data = :data, hash = :hash WHERE id = :id"),
            {
                "actor": "agent:mallory",
                "data": json.dumps(forged),
                "hash": hashlib.sha256(text_of.encode()).hexdigest(),
                "id": last.id,
            },
        )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == last.id
    assert "replaced" in (result.reason or "")


async def test_an_entry_added_past_the_head_is_found(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    last = entries[-1]
    at, data = clock(), {"n": 1}
    text_of = audit.canonical(last.id + 1, at, "agent:mallory", "probe", None, data, last.hash)
    async with seeded.transaction() as session:
        session.add(
            AuditEntry(
                id=last.id + 1,
                at=at,
                actor="agent:mallory",
                event="probe",
                request_id=None,
                data=data,
                prev_hash=last.hash,
                hash=hashlib.sha256(text_of.encode()).hexdigest(),
            )
        )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == last.id + 1
    assert "not appended" in (result.reason or "")


async def test_reordered_entries_are_found(seeded: Database, clock: FakeClock) -> None:
    entries = await _some_history(seeded, clock)
    a, b = entries[2], entries[3]
    async with seeded.transaction() as session:
        for source, target in ((a, b), (b, a)):
            await session.execute(
                text(
                    "UPDATE audit_log SET at = :at, actor = :actor, event = :event, "
                    "prev_hash = :prev, hash = :hash WHERE id = :id"
                ),
                {
                    "at": source.at,
                    "actor": source.actor,
                    "event": source.event,
                    "prev": source.prev_hash,
                    "hash": source.hash,
                    "id": target.id,
                },
            )
    result = await _verify(seeded)
    assert not result.ok and result.first_bad_id == a.id


async def test_audit_data_holds_no_contact_details(seeded: Database, clock: FakeClock) -> None:
    ben = await account_id(seeded)
    await open_request(
        seeded,
        "rectification",
        now=clock(),
        account=ben,
        details={"field": "email", "value": "new-address@example.org"},
    )
    dumped = " ".join(str(e.data) + e.actor for e in await rows(seeded, AuditEntry))
    assert "new-address@example.org" not in dumped and "'value'" in dumped


async def test_concurrent_writers_extend_one_chain(seeded: Database) -> None:
    """Writers that read the chain's end at the same moment must not both append after it
    (on SQLite a plain read takes no lock: the chain lock must be a write lock)."""
    before = len(list(await rows(seeded, AuditEntry)))
    inside: list[int] = []
    all_inside = asyncio.Event()

    async def writer(n: int) -> None:
        async with seeded.transaction() as session:
            await session.execute(text("SELECT 1"))
            inside.append(n)
            if len(inside) == 8:
                all_inside.set()
            await all_inside.wait()  # every writer is inside its transaction first
            await audit.append(session, actor="test", event="probe", request_id=None, data={"n": n})

    async with asyncio.timeout(30):
        await asyncio.gather(*(writer(n) for n in range(8)))

    entries = list(await rows(seeded, AuditEntry))
    assert len(entries) == before + 8
    assert sorted(e.data["n"] for e in entries if e.event == "probe") == list(range(8))
    assert (await _verify(seeded)).ok


async def test_entries_hashed_in_sql_extend_the_chain(db: Database, clock: FakeClock) -> None:
    """`append_all` (PostgreSQL: one statement, each entry hashed in SQL from the one
    before) on an empty chain, after entries, and mixed with `append` in one transaction,
    also concurrently: `verify` accepts every entry, non-ASCII data and a null request id
    included."""
    first = [audit.Entry("worker", "status", 1, {"kind": "access", "to": "in_progress"})]
    async with db.transaction() as session:  # the chain is empty: after the genesis hash
        await audit.append_all(session, first, now=clock())
    two = [
        audit.Entry("worker", "action_done", 2, {"effects": {"rækker": 3}, "note": 'a "b"'}),
        audit.Entry("worker", "status", None, {}),
    ]
    async with db.transaction() as session:
        await audit.append_all(session, two, now=clock())
        await audit.append(session, actor="test", event="after", request_id=2, data={"n": 1})
        await audit.append_all(session, first, now=clock())

    async def writer(n: int) -> None:
        entry = audit.Entry("test", "probe", n, {"n": n})
        async with db.transaction() as session:
            await audit.append_all(session, [entry, entry], now=clock())

    async with asyncio.timeout(30):
        await asyncio.gather(*(writer(n) for n in range(6)))
    entries = list(await rows(db, AuditEntry))
    assert [e.event for e in entries[:5]] == ["status", "action_done", "status", "after", "status"]
    assert entries[1].data == {"effects": {"rækker": 3}, "note": 'a "b"'}
    assert len(entries) == 5 + 12
    assert await _verify(db) == audit.VerifyResult(True, 17)


async def test_an_entry_is_written_at_commit_as_it_was_appended(db: Database) -> None:
    """Entries go in when their transaction commits (last, so the chain's head is the
    last lock taken), with the data as it was when appended, and not at all when the
    transaction rolls back."""
    data = {"counts": {"sms": 1}}
    async with db.transaction() as session:
        await audit.append(session, actor="test", event="kept", request_id=None, data=data)
        data["counts"]["sms"] = 99  # the caller's dict changes after the append
        assert list(await session.scalars(select(AuditEntry.id))) == []  # not yet
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await audit.append(session, actor="test", event="dropped", request_id=None, data={})
            raise RuntimeError("the transaction fails")
    entries = list(await rows(db, AuditEntry))
    assert [(e.event, e.data) for e in entries] == [("kept", {"counts": {"sms": 1}})]
    assert await _verify(db) == audit.VerifyResult(True, 1)
