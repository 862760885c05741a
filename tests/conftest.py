"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

Each test gets its own freshly migrated database, copied from a template migrated once
per run (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL), so tests
never see each other's rows. PostgreSQL comes from TEST_DATABASE_URL (default: the
local server); when it cannot be reached the PostgreSQL half is skipped on a developer
machine and fails under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.runtime import Runtime
from bot.web.app import create_app
from storage import demo_seed, migrate
from storage.db import Database, async_url
from tests.clock import FakeClock

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _pg_base_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", PG_DEFAULT)


async def _pg_admin(sql: str) -> None:
    engine = create_async_engine(async_url(_pg_base_url()), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run set-up work to completion, also when called from inside a running test loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _pg_url(name: str) -> str:
    return make_url(_pg_base_url()).set(database=name).render_as_string(hide_password=False)


class Backends:
    """Per-run templates, made lazily the first time a backend is asked for."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.prefix = f"pbt_{secrets.token_hex(3)}"
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        self.pg_error: str | None = None
        self.pg_databases: list[str] = []

    def sqlite(self, migrated: bool) -> str:
        target = self.tmp / f"{secrets.token_hex(6)}.db"
        if migrated:
            if self.sqlite_template is None:
                self.sqlite_template = self.tmp / "template.db"
                _run(_migrate(f"sqlite:///{self.sqlite_template}"))
            shutil.copy(self.sqlite_template, target)
        return f"sqlite:///{target}"

    def postgres(self, migrated: bool) -> str:
        if self.pg_error is None and self.pg_template is None:
            try:
                template = f"{self.prefix}_template"
                _run(_pg_admin(f'CREATE DATABASE "{template}"'))
                self.pg_databases.append(template)
                _run(_migrate(_pg_url(template)))
                self.pg_template = template
            except (OSError, Exception) as exc:  # unreachable server or missing rights
                self.pg_error = f"{type(exc).__name__}: {exc}"
        if self.pg_error is not None:
            message = f"PostgreSQL unavailable at {make_url(_pg_base_url())!r}: {self.pg_error}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        name = f"{self.prefix}_{secrets.token_hex(4)}"
        template = f' TEMPLATE "{self.pg_template}"' if migrated else ""
        _run(_pg_admin(f'CREATE DATABASE "{name}"{template}'))
        self.pg_databases.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        for name in reversed(self.pg_databases):
            with contextlib.suppress(Exception):  # best-effort clean-up of scratch databases
                _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    manager = Backends(tmp_path_factory.mktemp("databases"))
    yield manager
    manager.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, backends: Backends) -> str:
    """A freshly migrated, empty database of the test's backend."""
    return backends.sqlite(True) if backend == "sqlite" else backends.postgres(True)


@pytest.fixture
def empty_database_url(backend: str, backends: Backends) -> str:
    """A database with no tables at all (for migration tests)."""
    return backends.sqlite(False) if backend == "sqlite" else backends.postgres(False)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "data_dir": tmp_path / "data",
        "demo": True,
        "log_level": "DEBUG",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def seeded(db: Database) -> Database:
    async with db.transaction() as session:
        await demo_seed.seed(session)
    return db


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def runtime(settings: Settings, clock: FakeClock) -> AsyncIterator[Runtime]:
    rt = Runtime.build(settings, clock=clock)
    async with rt.db.transaction() as session:
        await demo_seed.seed(session)
    yield rt
    await rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[Any, Any]]:
    """Real HTTP on 127.0.0.1 to the full aiohttp application."""
    app = create_app(runtime)
    app.on_cleanup.clear()  # the runtime fixture owns the runtime's lifetime
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
