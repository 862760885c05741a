"""The Slack channel's own table: which approvals-channel message shows which request.

One row per request, so every web process agrees there is one message to keep up to
date. `ts` is empty while a process is posting the message (a claim other processes
respect until it goes stale); `digest` is a hash of what the message shows, so an
update is sent only when something visible changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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
