"""support cases: a customer's wish for a person, open until its alert is done

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_cases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("alert_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_support_cases_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["agent_alerts.id"], name=op.f("fk_support_cases_alert_id_agent_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_cases")),
    )
    op.create_index(op.f("ix_support_cases_conversation_id"), "support_cases", ["conversation_id"])
    op.create_index(op.f("ix_support_cases_alert_id"), "support_cases", ["alert_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_support_cases_alert_id"), table_name="support_cases")
    op.drop_index(op.f("ix_support_cases_conversation_id"), table_name="support_cases")
    op.drop_table("support_cases")
