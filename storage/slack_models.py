"""The Slack channel's own table: which approvals-channel message shows which request.

One row per request, so every web process agrees there is one message to keep up to
date. `ts` is empty while a process is posting the message (a claim other processes
respect until it goes stale); `digest` is a hash of what the message shows, so an
update is sent only when something visible changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import storage.privacy_models  # noqa: F401 - the foreign key's table must be known
from storage.models import Base
from storage.types import BigId, utcnow


class SlackApprovalMessage(Base):
    """The approvals-channel message (channel, ts) for one privacy request."""

    __tablename__ = "slack_approval_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(40))
    ts: Mapped[str | None] = mapped_column(String(40))
    last_status: Mapped[str | None] = mapped_column(String(30))
    digest: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]  # not before: an editor's lease while it edits


class SlackInboxEntry(Base):
    """A Slack delivery stored before it is acknowledged, until its work is done.

    Slack hears 200 once the row is committed; the work (a customer's turn, an agent's
    decision) deletes the row and records the delivery as processed in its own
    transaction, so a crash in between leaves the row here to be picked up again. The
    payload holds what the work needs (a customer's message text, for seconds); it
    leaves with the row.
    """

    __tablename__ = "slack_inbox"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
