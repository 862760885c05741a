"""Referrals: requests from SMS recipients, forwarded to the customer who sent the messages.

For the messages a customer sends through the gateway, the company is only the processor;
the customer is the controller. A recipient's request (access, erasure, "stop",
rectification) is passed on to that customer (GDPR Art. 28(3)(e)) as a referral with its
own lifecycle. The recipient's number is stored three ways, each for one reader:

- `number_hash`: a keyed HMAC, to find a number's referrals and suppressions again;
- `number_masked` (e.g. `+45 31 ** ** 03`): what agents see;
- `number_sealed`: the number encrypted with a key derived from SECRET_KEY, so the
  workflow can tell the controller again; erased when the referral ends.

The full number otherwise exists only in the email to the controller: it is their data.
The tables are in the bot's database and described in the data map (`bot.yaml`); the
account they belong to is in the account store, which may be another database, so
`account_id` has no foreign key (as for privacy requests, migration 0008).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import BigId, utcnow


class ReferralStatus(enum.StrEnum):
    """opened → forwarded → acknowledged → closed; account_gone ends one that cannot go on."""

    OPENED = "opened"
    FORWARDED = "forwarded"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"
    ACCOUNT_GONE = "account_gone"  # the sending account is closed or no longer exists


class ReferralKind(enum.StrEnum):
    """What the recipient asks the controller for."""

    ACCESS = "access"
    ERASURE = "erasure"
    OBJECTION = "objection"  # stop sending me messages
    RECTIFICATION = "rectification"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    """Stored as the value's text (VARCHAR), the same on SQLite and PostgreSQL."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


STATUS_TYPE = _enum(ReferralStatus, "referral_status")
KIND_TYPE = _enum(ReferralKind, "referral_kind")


class Referral(Base):
    """One recipient's request, forwarded to one sending account."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_status_created", "status", "created_at"),
        Index("ix_referrals_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    account_id: Mapped[int] = mapped_column(BigId)  # in the account store: no foreign key
    kind: Mapped[ReferralKind] = mapped_column(KIND_TYPE)
    status: Mapped[ReferralStatus] = mapped_column(STATUS_TYPE)
    number_hash: Mapped[str] = mapped_column(String(64), index=True)
    number_masked: Mapped[str] = mapped_column(String(32))
    number_sealed: Mapped[str | None] = mapped_column(Text)
    # The recipient's own words, control characters removed; erased when the referral ends.
    details: Mapped[str | None] = mapped_column(Text)
    # The sender names the recipient saw on the messages (they name the controller to them).
    sender_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    forwarded_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it


class ReferralEvent(Base):
    """One step in a referral's status history."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[ReferralStatus | None] = mapped_column(STATUS_TYPE)
    to_status: Mapped[ReferralStatus] = mapped_column(STATUS_TYPE)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class SmsSuppression(Base):
    """A number an account must not send to any more (a recipient's "stop", honoured for
    an account that instructed us to). The SMS sending path consults it by keyed hash."""

    __tablename__ = "sms_suppressions"
    __table_args__ = (UniqueConstraint("account_id", "number_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)  # in the account store: no foreign key
    number_hash: Mapped[str] = mapped_column(String(64))
    number_masked: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
