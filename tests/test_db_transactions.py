"""`Database.transaction`: a read-modify-write is never lost, and on SQLite the writers
of one process queue on an in-process lock instead of colliding in SQLite."""

from __future__ import annotations

import asyncio

import pytest
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


async def _backend_pid(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(url: str, pid: int) -> None:
    other = Database(url)
    try:
        async with other.sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_the_server_closed_while_idle_is_replaced(database_url: str) -> None:
    """A pooled connection that idled past the threshold is pinged on its way out, and a
    dead one is replaced before the caller uses it (threshold 0: every hand-over)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a pool of server connections: PostgreSQL")
    db = Database(database_url, pool_size=1, ping_after_idle=0.0)
    try:
        first = await _backend_pid(db)
        await _terminate(database_url, first)
        assert await _backend_pid(db) != first, "a new connection answered"
    finally:
        await db.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a pool of server connections: PostgreSQL")
    db = Database(database_url, pool_size=1, ping_after_idle=3600.0)
    pings = 0
    original = db.engine.dialect.do_ping

    def counted(connection: object) -> bool:
        nonlocal pings
        pings += 1
        return bool(original(connection))

    db.engine.dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        for _ in range(5):
            await _backend_pid(db)
        assert pings == 0
    finally:
        await db.dispose()
