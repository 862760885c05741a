"""wrong-code counts per account, shared rate-limit counters, agents' linked identities

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("verification_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivered", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("contact_hash", sa.String(length=64), nullable=True))

    op.create_table(
        "verification_failures",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.create_index("ix_verification_failures_subject_at", ["subject", "at"])

    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_limit_counters_expires_at"), ["expires_at"])

    op.create_table(
        "agent_identities",
        sa.Column("id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_identities_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_identities")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_agent_identities_kind_ref")),
    )
    with op.batch_alter_table("agent_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_identities_agent_id"), ["agent_id"])


def downgrade() -> None:
    with op.batch_alter_table("agent_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_identities_agent_id"))
    op.drop_table("agent_identities")
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counters_expires_at"))
    op.drop_table("rate_limit_counters")
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_failures_subject_at")
    op.drop_table("verification_failures")
    with op.batch_alter_table("verification_codes", schema=None) as batch_op:
        batch_op.drop_column("contact_hash")
        batch_op.drop_column("delivered")
