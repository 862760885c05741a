"""conversations: every change to a row bumps its version, whoever makes it

A lean turn reads its conversation without a lock and writes it back only if the version
is still the one it read. The bot's own writes bump the version, but an erasure or the
retention job changes rows through the data map and did not: a turn that read the row
just before could write the erased dialog state back. This trigger bumps the version of
any UPDATE that leaves it unchanged. (SQLite: a later batch migration of this table
recreates it and must create the trigger again.)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_POSTGRESQL = (
    """
    CREATE FUNCTION conversations_bump_version() RETURNS trigger AS $$
    BEGIN
        IF NEW.version = OLD.version THEN
            NEW.version := OLD.version + 1;
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER conversations_version BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_bump_version()
    """,
)
_SQLITE = (
    """
    CREATE TRIGGER conversations_version AFTER UPDATE ON conversations
    FOR EACH ROW WHEN NEW.version = OLD.version
    BEGIN
        UPDATE conversations SET version = OLD.version + 1 WHERE id = NEW.id;
    END
    """,
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"the bot's tables live in PostgreSQL or SQLite, not {dialect}")
    for statement in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER conversations_version ON conversations")
        op.execute("DROP FUNCTION conversations_bump_version()")
    else:
        op.execute("DROP TRIGGER conversations_version")
