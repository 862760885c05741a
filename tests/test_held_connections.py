"""The connections PostgreSQL's driver statements keep between uses
(`storage.held_connections`): handed from use to use without the pool, and never one
that is dead, broken, or more of them than the pool can spare."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import InterfaceError, SAWarning

from storage import driver_sql
from storage.db import Database
from storage.held_connections import HeldConnections
from tests.conftest import Backends


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pg(backends: Backends) -> AsyncIterator[Database]:
    database = Database(backends.postgres(True), pool_size=4, ping_after_idle=2.0)
    yield database
    await database.dispose()


def _checkouts(db: Database) -> list[int]:
    """Counts the pool's checkouts (a list, so a test reads the running total)."""
    seen = [0]

    def counted(*_args: Any) -> None:
        seen[0] += 1

    event.listen(db.engine.sync_engine, "checkout", counted)
    return seen


async def _pid(db: Database) -> int:
    async with db.driver() as handle:
        connection = await handle.connection()
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def _terminate(db: Database, pid: int) -> None:
    async with db.sessions() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _held(db: Database) -> HeldConnections:
    return db._held


async def test_a_connection_is_handed_from_use_to_use_without_the_pool(pg: Database) -> None:
    checkouts = _checkouts(pg)
    pids = {await _pid(pg) for _ in range(5)}
    assert len(pids) == 1, "one connection served every use"
    assert checkouts[0] == 1, "taken from the pool once"


async def test_a_use_without_a_statement_takes_no_connection(pg: Database) -> None:
    checkouts = _checkouts(pg)
    async with pg.driver():
        pass
    assert checkouts[0] == 0 and len(_held(pg)) == 0


async def test_no_more_are_held_than_the_pool_can_spare(pg: Database) -> None:
    uses = 6  # more at once than are ever held (the pool_size of 4, half what it keeps)
    started, release = asyncio.Event(), asyncio.Event()
    running = 0

    async def use() -> None:
        nonlocal running
        async with pg.driver() as handle:
            await (await handle.connection()).fetchval("SELECT 1")
            running += 1
            if running == uses:
                started.set()
            await release.wait()

    tasks = [asyncio.create_task(use()) for _ in range(uses)]
    await started.wait()
    assert pg.engine.pool.checkedout() == uses  # type: ignore[attr-defined]
    release.set()
    await asyncio.gather(*tasks)
    assert len(_held(pg)) == 4
    assert pg.engine.pool.checkedout() == 4, "the rest went back to the pool"  # type: ignore[attr-defined]
    await pg.release_driver_connections()
    assert len(_held(pg)) == 0 and pg.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_held_connection_the_server_closed_while_idle_is_replaced(pg: Database) -> None:
    clock = Clock()
    _held(pg).clock = clock
    first = await _pid(pg)
    await _terminate(pg, first)
    clock.now += 2.5  # idle past the ping interval: pinged before use
    assert await _pid(pg) != first, "a new connection answered, and no error reached the caller"


async def test_a_held_connection_is_not_pinged_in_steady_use(pg: Database) -> None:
    sent: list[str] = []
    async with pg.driver() as handle:
        (await handle.connection()).add_query_logger(lambda query: sent.append(query.query))
    for _ in range(3):
        await _pid(pg)
    await asyncio.sleep(0)  # asyncpg hands its query log over on the loop's next turn
    assert sent == ["SELECT pg_backend_pid()"] * 3


async def test_a_ping_cancelled_midway_returns_its_connection_to_the_pool(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    _held(pg).clock = clock
    await _pid(pg)
    clock.now += 2.5  # idle: the next use pings first

    async def cancelled(_pooled: Any) -> bool:
        raise asyncio.CancelledError

    monkeypatch.setattr(_held(pg), "_alive", cancelled)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(asyncio.CancelledError):
            await _pid(pg)
        gc.collect()
    assert len(_held(pg)) == 0
    assert pg.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    lost = [w for w in caught if issubclass(w.category, SAWarning)]
    assert not lost, "handed back, not left to the garbage collector to terminate"


async def test_a_connection_the_driver_knows_is_closed_is_not_used(pg: Database) -> None:
    async with pg.driver() as handle:
        first = await handle.connection()
        await first.close()  # as when the server's end of the socket went away
    async with pg.driver() as handle:
        second = await handle.connection()
        assert second is not first
        assert await second.fetchval("SELECT 1") == 1


async def test_a_lost_connection_raises_unavailable_and_is_not_held_again(pg: Database) -> None:
    pid = await _pid(pg)
    with pytest.raises(InterfaceError):  # the web answers 503 for it
        async with pg.driver() as handle:
            await handle.connection()  # taken, then lost under the use
            await _terminate(pg, pid)
            await driver_sql.pg_fetch_value(handle, text("SELECT 1"), pg.engine.dialect, {})
    assert len(_held(pg)) == 0
    assert await _pid(pg) != pid


async def test_a_cancelled_statement_leaves_no_connection_held(pg: Database) -> None:
    entered = asyncio.Event()

    async def slow() -> None:
        async with pg.driver() as handle:
            connection = await handle.connection()
            entered.set()
            await connection.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(slow())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(_held(pg)) == 0, "a connection cancelled midway is closed, not handed on"
    assert pg.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_dispose_hands_every_held_connection_back(backends: Backends) -> None:
    db = Database(backends.postgres(True))
    await _pid(db)
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    await db.dispose()
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
