"""the bot's own tables no longer point at the built-in accounts table

The account store may be another database (ACCOUNT_STORE_URL), so conversations,
one-time codes and privacy requests keep the account's id without a foreign key.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

_LINKS = (
    ("conversations", "fk_conversations_account_id_accounts"),
    ("verification_codes", "fk_verification_codes_account_id_accounts"),
    ("privacy_requests", "fk_privacy_requests_account_id_accounts"),
)


def upgrade() -> None:
    for table, name in _LINKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table, name in _LINKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, "accounts", ["account_id"], ["id"])
