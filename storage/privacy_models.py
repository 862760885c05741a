"""The workflow engine's tables: privacy requests, their history, the action queue,
the audit chain and the notification outboxes.

Kept apart from `storage.models` (the account store) so the engine's schema can evolve
on its own; both share one `Base`, so one Alembic history covers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import BigId, utcnow


class PrivacyRequest(Base):
    """One GDPR request from a verified customer, from receipt to its end state.

    `details` holds the validated parameters (e.g. the new email of a rectification);
    they are scrubbed when the request ends. `version` guards against lost updates.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_account_received", "account_id", "received_at"),
        Index("ix_privacy_requests_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int] = mapped_column(BigId)  # in the account store: no foreign key
    channel: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    language: Mapped[str] = mapped_column(String(5))
    verified_via: Mapped[str | None] = mapped_column(String(30))
    requester_ref: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_months: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it


class RequestEvent(Base):
    """One step in a request's status history (also extensions: from == to)."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class Approval(Base):
    """An agent's decision on a request; one per agent, so two approvers are two people."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("request_id", "approver"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"))
    approver: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Action(Base):
    """A unit of work in the durable queue, claimed by one worker under a lease."""

    __tablename__ = "actions"
    __table_args__ = (
        Index(  # in claim order: the next ready actions are its first entries
            "ix_actions_ready",
            "run_after",
            "id",
            postgresql_where=text("status = 'ready'"),
            sqlite_where=text("status = 'ready'"),
        ),
        Index(
            "ix_actions_running",
            "account_id",
            "lease_expires_at",
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
        Index(  # an account's other open actions, which a claim locks (`queue_steps`)
            "ix_actions_open_by_account",
            "account_id",
            postgresql_where=text("status IN ('ready', 'running')"),
            sqlite_where=text("status IN ('ready', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    # Not a foreign key: an erasure may remove the account row the action is about.
    account_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="ready")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only, hash-chained audit log; `data` never holds raw personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(50))
    request_id: Mapped[int | None] = mapped_column(BigId, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The audit chain's last entry, in one row: every append locks it, reads where the
    chain ends and moves it on, so one statement can append on its own (its lock waits
    for the previous writer and then reads that writer's head), and entries removed
    from the end of the chain no longer go unnoticed."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """A message to the customer, on the channel the request came from (outbox)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_channel", "status", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    event: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # an email or SMS notice's address when the account will no longer hold it at delivery
    # (an erasure's outcome); cleared as soon as the notice joins the outbox
    address: Mapped[str | None] = mapped_column(String(320))
    # not before: a sender's lease while it sends, then the back-off after a failure
    next_attempt_at: Mapped[datetime | None]


class AgentAlert(Base):
    """Something an agent must look at (approval needed, failure, deadline, review).

    `dedup_key` makes a reminder that several workers race to send exist once.
    """

    __tablename__ = "agent_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]  # not before: the poster's lease while it posts


class SupportCase(Base):
    """A customer asked for a person: open until the team marks its alert done.

    While a case is open, its conversation's transcript is kept past the retention
    period (the person answering needs it).
    """

    __tablename__ = "support_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("agent_alerts.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20), default="handover")  # handover | complaint
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class ExportDownload(Base):
    """An export file the customer has fetched at least once.

    An erasure waits for the copies its customer asked for and has not fetched yet
    (it deletes them); this row is how it knows one was fetched.
    """

    __tablename__ = "export_downloads"

    filename: Mapped[str] = mapped_column(String(200), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    downloaded_at: Mapped[datetime] = mapped_column(default=utcnow)
