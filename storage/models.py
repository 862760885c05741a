"""SQLAlchemy models: the company's account store and the bot's own tables.

The account store mirrors what the privacy policy says the company holds: the account
and its people (controller data), plus SMS traffic, invoices and the access log
(processor data). The bot's own tables hold conversations, their transcripts,
one-time codes, the demo outbox and the delivery de-duplication keys.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import BigId, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic can name constraints."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


# --- account store -------------------------------------------------------------------


class Account(Base):
    """A customer account on the SMS gateway (one company)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | closed
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restricted_at: Mapped[datetime | None]
    google_subject: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # Processor settings (see storage.referral_models): may SMS recipients be told the
    # company's name (else only the sender names they saw), and has the company instructed
    # us to honour a recipient's "stop" by suppressing further messages to the number.
    name_shown_to_recipients: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    honours_recipient_stop: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    people: Mapped[list[Person]] = relationship(back_populates="account", lazy="raise")


class Person(Base):
    """A person on an account: the controller data (name, email, phone)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    preferred_language: Mapped[str] = mapped_column(String(5), default="en")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="people", lazy="raise")


class ApiKey(Base):
    """An API key; only its hash and a short display prefix are stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AccessLogEntry(Base):
    """API calls, web logins and chat requests: IP address and coarse location."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    location: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # api | web | chat
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SmsMessage(Base):
    """An SMS sent through the gateway on the customer's behalf (processor data)."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_account_sent", "account_id", "sent_at"),
        Index("ix_sms_messages_sent_at", "sent_at"),
        # a recipient's messages (referrals): only un-anonymised numbers match exactly
        Index("ix_sms_messages_recipient_sent", "recipient", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sender_number: Mapped[str | None] = mapped_column(String(20))
    sender_name: Mapped[str | None] = mapped_column(String(11))
    recipient: Mapped[str | None] = mapped_column(String(20))
    content: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="delivered")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    anonymised_at: Mapped[datetime | None]


class Invoice(Base):
    """An invoice: accounting record kept under the bookkeeping act."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    issued_at: Mapped[datetime]
    billing_name: Mapped[str | None] = mapped_column(String(200))
    billing_address: Mapped[str | None] = mapped_column(String(400))
    vat_number: Mapped[str | None] = mapped_column(String(30))
    billing_email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3), default="DKK")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    legal_hold_until: Mapped[date | None] = mapped_column(Date)


class InvoiceLine(Base):
    """One line of an invoice (purchase history)."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class Payment(Base):
    """A payment against an invoice (payment data)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    paid_at: Mapped[datetime]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str] = mapped_column(String(20))  # card | transfer | mobilepay
    card_last4: Mapped[str | None] = mapped_column(String(4))


class Consent(Base):
    """Consent state for one purpose: marketing_email, tracking or profiling."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("account_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    purpose: Mapped[str] = mapped_column(String(30))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- the bot's own tables ------------------------------------------------------------


class Conversation(Base):
    """One customer conversation on one channel, with its persisted dialog state.

    `version` is bumped on every save so two web processes cannot silently overwrite
    each other's dialog state (optimistic concurrency).
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # webchat | slack | telegram | console
    external_id: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str | None] = mapped_column(String(5))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the account store may be another database: no foreign key (see migration 0008)
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    verified_until: Mapped[datetime | None]
    verified_via: Mapped[str | None] = mapped_column(String(20))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it


class TranscriptMessage(Base):
    """One message in a conversation, from the customer or the bot."""

    __tablename__ = "transcript_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # a customer's message sent again (the chat page retrying after a lost answer) is
        # recognised by the id its page gave it, and never stored or answered twice; only
        # lines with an id are in the index (not the bot's, nor other channels')
        Index(
            None,
            "conversation_id",
            "client_id",
            unique=True,
            postgresql_where=sql_text("client_id IS NOT NULL"),
            sqlite_where=sql_text("client_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(10))  # customer | bot
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # {"url", "label"}: a download link shown under a bot message (an export, a receipt)
    link: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))  # the sender's own message id


class VerificationCode(Base):
    """A one-time code, stored only as a keyed hash, bound to a conversation."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_conv_created", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="login")
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    code_hash: Mapped[str] = mapped_column(String(128))
    # False: the account had its codes for the hour (or was locked), so nothing was sent
    # and the row can never verify; it still counts wrong tries against the account
    delivered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # a contact on no account: its keyed hash, which its wrong tries count against
    contact_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """An SMS or email to a customer's registered contact (transactional outbox).

    Written in the same transaction as the change that causes it, sent after commit,
    so a rolled-back turn never sends a code. In demo mode the row itself is the
    delivery (the operator reads it); in production the text is blanked once sent.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    to: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # an erased account's last message (its outcome): the address goes with the text once
    # the message is sent or given up, so nothing of the account stays behind
    forget_address: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ProcessedDelivery(Base):
    """Keys of inbound deliveries already handled (Slack event_id, Telegram update_id).

    The primary key makes a second insert fail, which is how every process agrees that
    a retried delivery is a duplicate.
    """

    __tablename__ = "processed_deliveries"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
