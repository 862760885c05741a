"""audit_head: the audit chain's last entry in one row, locked by every append

An append used to take an advisory lock (PostgreSQL) and then read the chain's last
entry in a second statement. Locking this row and reading it is one step, so an append
(and the worker's finish, audit entries included) can be a single statement, and the lock
is held only from that statement to its commit. `verify` also compares the row with
the chain's last entry, so entries cut from the end are found. The row starts at the
chain's current end (id 0 and the genesis hash when the log is empty).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, last_id, last_hash) "
            "SELECT 1, COALESCE(MAX(id), 0), COALESCE("
            "(SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), :genesis) FROM audit_log"
        ).bindparams(genesis=_GENESIS)
    )


def downgrade() -> None:
    op.drop_table("audit_head")
