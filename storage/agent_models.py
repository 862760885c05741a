"""The agent console's own tables: the privacy team's accounts and their sign-in sessions.

An agent has a name (what the request history shows), an argon2 password hash and the
language the console speaks to them in. A session is stored only as a keyed hash of its
cookie token, so a copy of the database does not let anyone sign in as an agent.
Removing an agent removes their sessions; their decisions stay in the history by name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import BigId, utcnow


class ConsoleAgent(Base):
    """A member of the privacy team who signs in to the web console at /agent."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(5), default="da")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class AgentSession(Base):
    """One signed-in browser; `token_hash` is an HMAC of the cookie's random token."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
