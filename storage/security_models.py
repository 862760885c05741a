"""Tables that keep the bot's defences the same in every process.

- `verification_failures`: one row per wrong one-time code, keyed by the account (or,
  for a contact on no account, a keyed hash of the contact), so the hourly cap on wrong
  codes holds across conversations, channels and processes.
- `rate_limit_counters`: fixed-window hit counters (web chat per client, console
  sign-in failures), keyed by a keyed hash, so no IP address is stored.
- `agent_identities`: the other identities of an agent (Slack or Telegram user, the
  email or phone on their own customer account), stored as keyed hashes, so nobody
  decides their own request through another channel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import storage.agent_models  # noqa: F401 - agent_identities refers to agents
from storage.models import Base
from storage.types import BigId, utcnow


class VerificationFailure(Base):
    """A wrong one-time code typed for `subject` (`account:<id>` or `contact:<hash>`)."""

    __tablename__ = "verification_failures"
    __table_args__ = (Index("ix_verification_failures_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitCounter(Base):
    """Hits on one key in one fixed window; `bucket` = limiter, key hash and window."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AgentIdentity(Base):
    """Another identity of a console agent: `slack`, `telegram`, `email` or `phone`.

    `ref` is the keyed hash the workflow compares (for Slack and Telegram the same as a
    customer's requester reference); `label` is a masked hint for `agents list`.
    """

    __tablename__ = "agent_identities"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
