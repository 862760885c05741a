"""actions: an index of each account's open (ready or running) actions

A ready action is claimed by one statement that commits on its own
(`workflow.queue_steps.claim_at_once_statement`). It locks the account's other open
actions to see each as last committed, and found them by reading every action: a
sequential scan of the whole table (done ones included, which only ever grow) in each
claim. This index finds them by account.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('ready', 'running')")


def upgrade() -> None:
    op.create_index(
        "ix_actions_open_by_account",
        "actions",
        ["account_id"],
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_actions_open_by_account", table_name="actions")
