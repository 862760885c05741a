"""`Database.transaction`: a read-modify-write is never lost, and on SQLite the writers
of one process queue on an in-process lock instead of colliding in SQLite."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage import conversations
from storage.db import WRITE_LOCKED, Database

WRITERS = 8


async def _increment(db: Database, conversation_id: str) -> None:
    async with db.transaction() as session:
        # The read happens before any write of this transaction, like a conversation turn.
        lock = " FOR UPDATE" if db.is_postgres else ""
        seq = await session.scalar(
            text(f"SELECT last_seq FROM conversations WHERE id = :id{lock}"),
            {"id": conversation_id},
        )
        await asyncio.sleep(0)  # a yield, not a wait: the other writers run here
        await session.execute(
            text("UPDATE conversations SET last_seq = :seq WHERE id = :id"),
            {"seq": int(seq) + 1, "id": conversation_id},
        )


async def test_concurrent_read_modify_writes_lose_no_update(db: Database) -> None:
    async with db.transaction() as session:
        conversation = conversations.create(session, "webchat")
    async with asyncio.timeout(30):
        await asyncio.gather(*(_increment(db, conversation.id) for _ in range(WRITERS)))
    async with db.sessions() as session:
        final = await session.scalar(
            text("SELECT last_seq FROM conversations WHERE id = :id"), {"id": conversation.id}
        )
    assert final == WRITERS, "every writer's increment is kept"


async def test_sqlite_write_transactions_hold_the_write_lock_from_the_start(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("SELECT 1"))
        assert session.info.get(WRITE_LOCKED) is (True if db.backend == "sqlite" else None)
        # A transaction opened inside it (another connection) must not wait for its own
        # task's lock: it runs as a plain transaction and can still read.
        async with db.transaction() as inner:
            assert await inner.scalar(text("SELECT 1")) == 1
            assert inner.info.get(WRITE_LOCKED) is None
