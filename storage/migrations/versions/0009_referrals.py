"""referrals from SMS recipients, their history, the suppression list; processor settings
on accounts; an index to find a recipient's messages

The account store may be another database (ACCOUNT_STORE_URL, migration 0008), so
referrals and the suppression list keep the account's id without a foreign key.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STATUSES = ("opened", "forwarded", "acknowledged", "closed", "account_gone")
_KINDS = ("access", "erasure", "objection", "rectification")


def _status() -> sa.Enum:
    return sa.Enum(*_STATUSES, name="referral_status", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "name_shown_to_recipients", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "honours_recipient_stop", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_messages_recipient_sent", ["recipient", "sent_at"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*_KINDS, name="referral_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("status", _status(), nullable=False),
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.Column("number_masked", sa.String(length=32), nullable=False),
        sa.Column("number_sealed", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("sender_names", sa.JSON(), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_referrals_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("reference", name=op.f("uq_referrals_reference")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referrals_number_hash"), ["number_hash"], unique=False)
        batch_op.create_index("ix_referrals_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "referral_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("referral_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", _status(), nullable=True),
        sa.Column("to_status", _status(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_events_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "sms_suppressions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.Column("number_masked", sa.String(length=32), nullable=False),
        sa.Column("referral_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_sms_suppressions_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_suppressions")),
        sa.UniqueConstraint(
            "account_id", "number_hash", name=op.f("uq_sms_suppressions_account_id_number_hash")
        ),
    )


def downgrade() -> None:
    op.drop_table("sms_suppressions")
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_events_referral_id"))
    op.drop_table("referral_events")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_status_created")
        batch_op.drop_index(batch_op.f("ix_referrals_number_hash"))
        batch_op.drop_index("ix_referrals_account_created")
    op.drop_table("referrals")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_recipient_sent")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("honours_recipient_stop")
        batch_op.drop_column("name_shown_to_recipients")
