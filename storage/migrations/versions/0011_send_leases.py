"""notifications, agent alerts and approval messages: when the next attempt may start
(a sender's lease while it posts to Slack or Telegram, then the back-off after a
failure), so no row stays locked during the call

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TABLES = ("notifications", "agent_alerts", "slack_approval_messages")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("next_attempt_at")
