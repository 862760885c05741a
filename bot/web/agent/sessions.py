"""Console sessions and CSRF tokens.

A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie (Secure when
the public address is https). The database keeps only an HMAC of it. A session ends
after 12 hours, or after 1 hour without use, or when the agent signs out, is removed or
gets a new password.

Every form carries a CSRF token: an HMAC of the session token under the server's key,
so it needs no storage, differs per session and cannot be computed by another site.
The sign-in form, which has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import keys
from storage.agent_models import AgentSession, ConsoleAgent

COOKIE = "agent_session"
LOGIN_COOKIE = "agent_login"
PATH = "/agent"
LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=1)
_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
_MAX_TOKEN = 200


@dataclass(frozen=True, slots=True)
class SignedIn:
    agent: ConsoleAgent
    token: str


def token_hash(secret: bytes, token: str) -> str:
    return keys.mac_hex(secret, keys.AGENT_SESSION, token)


def csrf_token(secret: bytes, session_token: str) -> str:
    return keys.mac_hex(secret, keys.AGENT_CSRF, session_token)


def csrf_ok(secret: bytes, session_token: str, given: str | None) -> bool:
    if not given or not session_token:
        return False
    return keys.same(csrf_token(secret, session_token), given)


def login_token() -> str:
    """The sign-in form's double-submit token (cookie and hidden field)."""
    return secrets.token_urlsafe(32)


def login_token_ok(cookie: str | None, given: str | None) -> bool:
    if not cookie or not given or len(cookie) > _MAX_TOKEN:
        return False
    return keys.same(cookie, given)


async def start(session: AsyncSession, secret: bytes, agent: ConsoleAgent, now: datetime) -> str:
    """A new session for `agent`; returns the cookie's token. Expired ones are purged."""
    await session.execute(delete(AgentSession).where(AgentSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        AgentSession(
            token_hash=token_hash(secret, token),
            agent_id=agent.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return token


async def lookup(
    session: AsyncSession, secret: bytes, token: str | None, now: datetime
) -> SignedIn | None:
    """The signed-in agent behind a cookie token, or None (unknown, expired or idle)."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    row = (
        await session.execute(
            select(AgentSession, ConsoleAgent)
            .join(ConsoleAgent, ConsoleAgent.id == AgentSession.agent_id)
            .where(AgentSession.token_hash == token_hash(secret, token))
        )
    ).first()
    if row is None:
        return None
    stored, agent = row
    if now >= stored.expires_at or now - stored.last_seen_at >= IDLE:
        await session.delete(stored)
        return None
    if now - stored.last_seen_at >= _TOUCH_EVERY:
        stored.last_seen_at = now
    return SignedIn(agent, token)


async def end(session: AsyncSession, secret: bytes, token: str | None) -> None:
    if token and len(token) <= _MAX_TOKEN:
        await session.execute(
            delete(AgentSession).where(AgentSession.token_hash == token_hash(secret, token))
        )
