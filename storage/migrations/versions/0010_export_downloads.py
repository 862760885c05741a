"""export downloads: which export files a customer has fetched, so an erasure can wait
for the copies not fetched yet; a notice's own address, for an erasure's outcome notice
(the account no longer holds the address when it is delivered), and the outbox row that
forgets its address once sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_downloads",
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("filename", name=op.f("pk_export_downloads")),
    )
    op.create_index(
        op.f("ix_export_downloads_reference"), "export_downloads", ["reference"], unique=False
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=320), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("forget_address", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("forget_address")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("address")
    op.drop_index(op.f("ix_export_downloads_reference"), table_name="export_downloads")
    op.drop_table("export_downloads")
