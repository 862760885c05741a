"""The SQLite adapter (`storage.sqlite_driver`): one thread hop per statement, same results."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield database
    await database.dispose()


# The adapter and the hop count below reach into aiosqlite's private
# `Connection._execute`: these checks hold only for the releases they were written
# against, and are skipped (not failed) on any other, where `storage.sqlite_driver`
# decides for itself whether it can still use the call.
AIOSQLITE = tuple(int(part) for part in aiosqlite.__version__.split(".")[:2])
TESTED_AIOSQLITE = ((0, 20), (0, 22))  # oldest and newest minor release checked
private_api = pytest.mark.skipif(
    not TESTED_AIOSQLITE[0] <= AIOSQLITE <= TESTED_AIOSQLITE[1],
    reason=f"aiosqlite {aiosqlite.__version__}: its private Connection._execute is only "
    f"checked on {TESTED_AIOSQLITE[0]}..{TESTED_AIOSQLITE[1]}",
)


def test_the_engine_uses_the_adapter_the_driver_module_chose(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert database.engine.dialect.driver == sqlite_driver.DRIVER
    expected = "aiosqlite_onehop" if sqlite_driver.SUPPORTED else "aiosqlite"
    assert expected == sqlite_driver.DRIVER


@private_api
def test_the_tested_aiosqlite_releases_support_the_one_hop_adapter() -> None:
    assert sqlite_driver.SUPPORTED


async def test_rows_rowcount_lastrowid_and_executemany_come_back(db: Database) -> None:
    async with db.transaction() as session:
        inserted = await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1  # type: ignore[attr-defined]
        await session.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        changed = await session.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 2  # type: ignore[attr-defined]
    async with db.sessions() as session:
        result = await session.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(row) for row in result] == [(1, "a"), (2, "b!"), (3, "c!")]
        assert (await session.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None


async def test_a_constraint_error_is_sqlalchemys_and_rolls_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('dup')"))
            await session.execute(text("INSERT INTO t (name) VALUES ('dup')"))
    async with db.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


@private_api
async def test_a_statement_is_one_call_on_aiosqlites_thread(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.sessions() as session:
        await session.execute(text("SELECT 1"))  # connected, pragmas set
        calls = 0
        original = aiosqlite.Connection._execute

        async def counting(self: aiosqlite.Connection, fn: object, *args: object) -> object:
            nonlocal calls
            calls += 1
            return await original(self, fn, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        rows = (await session.execute(text("SELECT id FROM t"))).all()
        assert rows == []
        assert calls == 1, "execute, fetch and close in one hop (SQLAlchemy's adapter: four)"


async def test_a_connection_that_fails_to_open_leaves_no_thread_behind(tmp_path: Path) -> None:
    """A short-lived command's loop may close right after the error: aiosqlite's thread
    must be gone by then, or it raises "Event loop is closed" on its way out."""
    database = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}")

    def aiosqlite_threads() -> set[str]:
        # Python names a thread after its target: aiosqlite's is _connection_worker_thread.
        return {t.name for t in threading.enumerate() if "connection_worker" in t.name}

    before = aiosqlite_threads()
    try:
        with pytest.raises(OperationalError):
            async with database.sessions() as session:
                await session.execute(text("SELECT 1"))
        assert aiosqlite_threads() - before == set()
    finally:
        await database.dispose()
