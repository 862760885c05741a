"""Fixtures for the fault tests: a fresh database and real bot processes.

Tests of a database connection that is cut, refused or partitioned need a server to put a
proxy in front of, so they run on PostgreSQL only (`pg`, `pg_url`, `fleet`). Tests of a
process that dies or is stopped run on both backends (`db`, `db_url`, `processes`): on
SQLite, the default, a killed writer leaves a hot journal the next process must recover.
Every database comes from the same per-run template as in every other test
(`tests/conftest.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from storage import demo_seed
from storage.db import Database
from tests.conftest import Backends
from tests.faults.pgproxy import PgProxy
from tests.faults.processes import Fleet, base_env


@pytest.fixture
def pg_url(backends: Backends) -> str:
    """A freshly migrated PostgreSQL database (skipped without one, failed under CI)."""
    return backends.postgres(True)


async def _seeded(url: str) -> AsyncIterator[Database]:
    """The database at `url`, seeded with the demo accounts; the test's own connection."""
    database = Database(url)
    async with database.transaction() as session:
        await demo_seed.seed(session)
    yield database
    await database.dispose()


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    """The PostgreSQL database, seeded with the demo accounts."""
    async for database in _seeded(pg_url):
        yield database


@pytest.fixture
def db_url(database_url: str) -> str:
    """A freshly migrated database of the test's backend (SQLite or PostgreSQL)."""
    return database_url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """That database, seeded with the demo accounts."""
    async for database in _seeded(db_url):
        yield database


@pytest.fixture
def processes(db_url: str, data_dir: Path, tmp_path: Path) -> Iterator[Fleet]:
    """Bot processes on the test's backend."""
    fleet = Fleet(tmp_path / "processes", base_env(db_url, data_dir))
    yield fleet
    fleet.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    running = PgProxy().start()
    yield running
    running.stop()


@pytest.fixture
def fleet(pg_url: str, data_dir: Path, tmp_path: Path) -> Iterator[Fleet]:
    processes = Fleet(tmp_path / "processes", base_env(pg_url, data_dir))
    yield processes
    processes.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session
