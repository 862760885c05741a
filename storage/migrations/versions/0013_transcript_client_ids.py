"""transcript_messages: the id a customer's chat page gave a message, unique per conversation

The chat page sends a message again when its answer was lost (a dropped connection, a
503 under load). The first attempt may have been answered and stored already; the id the
page gave the message makes the second attempt find that answer instead of storing and
answering the message twice. A column added and a partial unique index created (only
the lines that have an id: the bot's own lines and other channels' cost the index
nothing); no table is rebuilt, on SQLite either, so migration 0012's trigger on
conversations is not touched.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_INDEX = "ix_transcript_messages_conversation_id_client_id"


def upgrade() -> None:
    op.add_column("transcript_messages", sa.Column("client_id", sa.String(64), nullable=True))
    op.create_index(
        _INDEX,
        "transcript_messages",
        ["conversation_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
        sqlite_where=sa.text("client_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="transcript_messages")
    with op.batch_alter_table("transcript_messages", schema=None) as batch_op:
        batch_op.drop_column("client_id")
