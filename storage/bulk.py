"""One connection kept for the batches of a job that changes many rows.

The retention sweep changes a rule's due rows a batch per transaction (each short, so
no lock is held for long). On SQLite each batch then paid for being apart from the
others: SQLite's small page cache (2 MB) spilled the batch's changed pages into the log
before its commit, a checkpoint after every few batches copied pages the next batch
changed again (inside a commit, in the process's write lock), and a fresh connection
began each batch with a cold cache. So a job's batches share one connection, set up for
them (`sqlite_pragmas.BULK`) and set back (`sqlite_pragmas.DEFAULT`) before it returns
to the pool, and the writer copies the log every CHECKPOINT_EVERY batches itself,
outside any lock. On a server each batch is a plain `Database.transaction`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import sqlite_pragmas
from storage.db import Database, begin_immediate

CHECKPOINT_EVERY = 8  # batches between a bulk writer's checkpoints (SQLite)


class BulkWriter:
    """Transactions for a job's batches, on its kept connection where it has one."""

    def __init__(self, db: Database, connection: AsyncConnection | None) -> None:
        self.db, self._connection = db, connection
        self._batches = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One batch's transaction: committed on success, rolled back on error, and on
        SQLite in the process's write lock, as `Database.transaction`."""
        if self._connection is None:
            async with self.db.transaction() as session:
                yield session
            return
        async with (
            self.db.write_lock() as immediate,
            AsyncSession(bind=self._connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            if immediate:
                await begin_immediate(session)
            yield session
        self._batches += 1
        if self._batches % CHECKPOINT_EVERY == 0:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Copy the log into the database file, in no transaction and outside the write
        lock: a PASSIVE checkpoint waits for no writer and holds none up. (A commit's own
        checkpoint ran inside the commit, in the process's write lock: up to half a second
        on this machine.)"""
        assert self._connection is not None
        raw = await self._connection.get_raw_connection()
        driver: Any = raw.driver_connection  # aiosqlite's connection
        cursor = await driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
        await cursor.close()


@asynccontextmanager
async def bulk_writer(db: Database) -> AsyncIterator[BulkWriter]:
    """A `BulkWriter` for the length of the block; on SQLite its connection is out of
    the pool until then, and one that cannot be set back is closed instead."""
    if db.backend != "sqlite":
        yield BulkWriter(db, None)
        return
    async with db.engine.connect() as connection:
        await sqlite_pragmas.apply(connection, sqlite_pragmas.BULK)
        try:
            yield BulkWriter(db, connection)
        finally:
            try:
                await sqlite_pragmas.apply(connection, sqlite_pragmas.DEFAULT)
            except Exception:
                await connection.invalidate()
                raise
