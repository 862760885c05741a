"""Migrations are the only way the schema changes: up from empty, down to empty, up again."""

from __future__ import annotations

from sqlalchemy import inspect

from storage import migrate
from storage.db import Database
from storage.models import Base


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_from_empty_creates_every_model_table(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert await migrate.current_revision(db) is None
        assert not await migrate.schema_is_current(db)
        await migrate.upgrade(db)
        assert await migrate.schema_is_current(db)
        assert set(Base.metadata.tables) <= await _tables(db)
    finally:
        await db.dispose()


async def test_downgrade_to_base_removes_every_table_and_upgrade_works_again(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    try:
        await migrate.upgrade(db)
        await migrate.downgrade(db, "base")
        assert await _tables(db) <= {"alembic_version"}
        assert await migrate.current_revision(db) is None
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
    finally:
        await db.dispose()


async def test_models_match_the_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: no model change is missing a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await db.dispose()
    assert diff == []
