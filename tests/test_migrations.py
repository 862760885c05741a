"""Migrations are the only way the schema changes: up from empty, down to empty, up again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import insert, inspect, select

from storage import migrate
from storage.db import Database
from storage.models import Base
from storage.privacy_models import AuditEntry, AuditHead
from workflow import audit
from workflow.audit_hash import GENESIS, canonical


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


async def test_the_chain_head_starts_where_an_existing_chain_ends(
    empty_database_url: str,
) -> None:
    """0014 adds the audit chain's head: on a database with a chain, at its last entry,
    so the next append follows it and the whole chain still verifies."""
    db = Database(empty_database_url)
    try:
        await migrate.upgrade(db, "0013")
        at = datetime(2026, 12, 1, tzinfo=UTC)
        prev = GENESIS
        async with db.transaction() as session:
            for entry_id in (1, 2, 3):
                data = {"n": entry_id}
                text_of = canonical(entry_id, at, "test", "probe", None, data, prev)
                digest = hashlib.sha256(text_of.encode()).hexdigest()
                await session.execute(
                    insert(AuditEntry).values(
                        id=entry_id,
                        at=at,
                        actor="test",
                        event="probe",
                        request_id=None,
                        data=data,
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
        await migrate.upgrade(db)
        async with db.sessions() as session:
            head = (await session.execute(select(AuditHead))).scalar_one()
            assert (head.last_id, head.last_hash) == (3, prev)
        async with db.transaction() as session:
            await audit.append(session, actor="test", event="after", request_id=None, data={})
        async with db.sessions() as session:
            last = (
                await session.execute(select(AuditEntry).where(AuditEntry.id == 4))
            ).scalar_one()
        assert last.prev_hash == prev
        async with db.sessions() as session:
            assert await audit.verify(session) == audit.VerifyResult(True, 4)
    finally:
        await db.dispose()
