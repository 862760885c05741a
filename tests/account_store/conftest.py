"""The legacy-shaped example store (examples/legacy_store/) on SQLite, PostgreSQL and MariaDB.

Each test gets the store in a scratch database of its backend, made by the example's
own SQL, and a migrated bot database beside it (SQLite for a MariaDB store, since the
bot's own tables never live in MariaDB). MariaDB comes from TEST_MARIADB_URL (default:
the local server); unreachable, its tests are skipped on a developer machine and fail
under CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage import account_store, datamap
from storage.db import Database, async_url
from tests.conftest import Backends

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "legacy_store"
MARIADB_DEFAULT = "mysql://root@127.0.0.1:3306/test"


def statements(path: Path) -> list[str]:
    """The SQL statements of a script (comments dropped, split at `;` ending a line)."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";")]


async def load_example(url: str, dialect: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            if dialect == "postgresql":
                await conn.execute(text("SET TIME ZONE 'UTC'"))
            for sql in statements(EXAMPLE / f"schema.{dialect}.sql") + statements(
                EXAMPLE / "seed.sql"
            ):
                await conn.execute(text(sql.rstrip(";")))
    finally:
        await db.dispose()


async def _mariadb_admin(sql: str) -> None:
    url = os.environ.get("TEST_MARIADB_URL", MARIADB_DEFAULT)
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def mariadb_database() -> str:
    name = f"pbt_{secrets.token_hex(5)}"
    try:
        await _mariadb_admin(f"CREATE DATABASE `{name}`")
    except Exception as exc:  # unreachable server or missing rights
        message = f"MariaDB unavailable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    url = os.environ.get("TEST_MARIADB_URL", MARIADB_DEFAULT)
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@dataclass
class Stores:
    bot: Database
    store: Database
    dialect: str
    data_map: datamap.DataMap


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
async def example(
    request: pytest.FixtureRequest, backends: Backends, tmp_path: Path
) -> AsyncIterator[Stores]:
    """The example store in a scratch database, attached to a migrated bot database."""
    dialect = str(request.param)
    mariadb_name = None
    if dialect == "sqlite":
        store_url, bot_url = f"sqlite:///{tmp_path / 'legacy.db'}", backends.sqlite(True)
    elif dialect == "postgresql":
        store_url, bot_url = backends.postgres(False), backends.postgres(True)
    else:
        store_url, bot_url = await mariadb_database(), backends.sqlite(True)
        mariadb_name = make_url(store_url).database
    await load_example(store_url, dialect)
    bot = Database(bot_url)
    store = account_store.connect(bot, store_url)
    data_map = datamap.load(EXAMPLE / "datamap.yaml")
    try:
        with datamap.using(data_map):
            yield Stores(bot, store, dialect, data_map)
    finally:
        await account_store.close(bot)
        await bot.dispose()
        if mariadb_name:
            await _mariadb_admin(f"DROP DATABASE IF EXISTS `{mariadb_name}`")
