"""A job's batches on one kept connection (`storage.bulk`): set up for bulk writes on
SQLite while the job runs, set back before the connection returns to the pool, and each
batch still its own transaction in the process's write lock."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import bulk, sqlite_pragmas
from storage.bulk import BulkWriter, bulk_writer
from storage.db import WRITE_LOCKED, Database


async def _pragmas(session: AsyncSession) -> dict[str, int]:
    """The connection's values of what a bulk writer changes."""
    return {
        name: int((await session.execute(text(f"PRAGMA {name}"))).scalar_one())
        for name in sqlite_pragmas.BULK
    }


async def _settings(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return await _pragmas(session)


async def _names(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.execute(text("SELECT name FROM t ORDER BY name"))).scalars())


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'bulk.db'}", pool_size=1)
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (name TEXT PRIMARY KEY)"))
    return database


async def test_sqlite_batches_run_set_up_for_bulk_and_the_connection_is_set_back(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    try:
        assert await _settings(db) == dict(sqlite_pragmas.DEFAULT)
        async with bulk_writer(db) as writer:
            for name in ("a", "b"):
                async with writer.transaction() as session:
                    assert session.info.get(WRITE_LOCKED), "in the process's write lock"
                    assert await _pragmas(session) == dict(sqlite_pragmas.BULK)
                    await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": name})
                assert name in await _names(db), "each batch commits on its own"
        async with db.sessions() as first, db.sessions() as second:  # both pooled ones
            assert await _pragmas(first) == await _pragmas(second) == dict(sqlite_pragmas.DEFAULT)
    finally:
        await db.dispose()


async def test_a_failed_batch_rolls_back_alone_and_the_next_one_still_runs(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE bulk_t (name TEXT PRIMARY KEY)"))
    async with bulk_writer(db) as writer:
        async with writer.transaction() as session:
            await session.execute(text("INSERT INTO bulk_t VALUES ('kept')"))
        with pytest.raises(RuntimeError):
            async with writer.transaction() as session:
                await session.execute(text("INSERT INTO bulk_t VALUES ('lost')"))
                raise RuntimeError("a batch failed")
        async with writer.transaction() as session:
            await session.execute(text("INSERT INTO bulk_t VALUES ('later')"))
    async with db.sessions() as session:
        found = (await session.execute(text("SELECT name FROM bulk_t ORDER BY name"))).scalars()
        assert list(found) == ["kept", "later"]


async def test_a_connection_that_cannot_be_set_back_is_closed_not_pooled(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_db
    real = sqlite_pragmas.apply

    async def failing_to_set_back(connection: AsyncConnection, settings: Mapping[str, int]) -> None:
        if settings is sqlite_pragmas.DEFAULT:
            raise OSError("disk gone")
        await real(connection, settings)

    monkeypatch.setattr(sqlite_pragmas, "apply", failing_to_set_back)
    try:
        with pytest.raises(OSError):
            async with bulk_writer(db) as writer, writer.transaction() as session:
                await session.execute(text("INSERT INTO t VALUES ('x')"))
        assert await _settings(db) == dict(sqlite_pragmas.DEFAULT), "a fresh connection"
        assert await _names(db) == ["x"]
    finally:
        await db.dispose()


async def test_the_log_is_copied_every_few_batches_outside_the_write_lock(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_db
    copies: list[tuple[int, bool]] = []
    real = BulkWriter._checkpoint

    async def spied(writer: BulkWriter) -> None:
        copies.append((writer._batches, db._write_lock.locked()))
        await real(writer)

    monkeypatch.setattr(bulk, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(BulkWriter, "_checkpoint", spied)
    try:
        async with bulk_writer(db) as writer:
            for name in "abcde":
                async with writer.transaction() as session:
                    await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": name})
        assert copies == [(2, False), (4, False)], "after every 2nd batch, no lock held"
        assert await _names(db) == list("abcde")
    finally:
        await db.dispose()
