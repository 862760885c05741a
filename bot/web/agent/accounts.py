"""Agent accounts: names, argon2 password hashes, sign-in.

Used by `privacybot agents …` and by the console's sign-in. Names are lower-case
letters, digits, `.`, `_` and `-` (no `:`, so a console agent can never be mistaken for
a Slack user such as `slack:U123` in a request's history). Passwords are hashed with
argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile); a hash made with
older parameters is upgraded at the next successful sign-in.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agent_models import AgentSession, ConsoleAgent
from storage.types import utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LANGUAGES = ("da", "en")

_hasher = PasswordHasher()


class AgentError(Exception):
    """A refusal the CLI prints as it is (it holds no password)."""


class InvalidName(AgentError):
    pass


class WeakPassword(AgentError):
    pass


class AgentExists(AgentError):
    pass


class NoSuchAgent(AgentError):
    pass


def normalise_name(name: str) -> str:
    cleaned = (name or "").strip().lower()
    if not NAME.match(cleaned):
        raise InvalidName(
            "an agent name is 1-64 characters: letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return cleaned


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"the password must be at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise WeakPassword("the password must not be only white space")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check; False for a wrong password or a damaged hash."""
    if not password or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so timing reveals nothing."""
    return _hasher.hash(secrets.token_urlsafe(24))


async def find(session: AsyncSession, name: str) -> ConsoleAgent | None:
    try:
        cleaned = normalise_name(name)
    except InvalidName:
        return None
    stmt = select(ConsoleAgent).where(ConsoleAgent.name == cleaned)
    return (await session.execute(stmt)).scalar_one_or_none()


async def all_agents(session: AsyncSession) -> Sequence[ConsoleAgent]:
    return (await session.execute(select(ConsoleAgent).order_by(ConsoleAgent.name))).scalars().all()


async def add(
    session: AsyncSession,
    name: str,
    password: str,
    *,
    language: str = "da",
    now: datetime | None = None,
) -> ConsoleAgent:
    cleaned = normalise_name(name)
    if language not in LANGUAGES:
        raise AgentError("the language must be da or en")
    if await find(session, cleaned) is not None:
        raise AgentExists(f"an agent named {cleaned} exists already")
    now = now or utcnow()
    agent = ConsoleAgent(
        name=cleaned,
        password_hash=hash_password(password),
        language=language,
        created_at=now,
        password_changed_at=now,
    )
    session.add(agent)
    await session.flush()
    return agent


async def existing(session: AsyncSession, name: str) -> ConsoleAgent:
    agent = await find(session, name)
    if agent is None:
        raise NoSuchAgent(f"no agent named {name.strip().lower()}")
    return agent


async def end_sessions(session: AsyncSession, agent_id: int) -> int:
    result = await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def remove(session: AsyncSession, name: str) -> None:
    """Delete the agent and sign them out everywhere; their decisions stay in the history."""
    agent = await existing(session, name)
    await end_sessions(session, agent.id)
    await session.delete(agent)


async def set_password(
    session: AsyncSession, name: str, password: str, now: datetime | None = None
) -> None:
    """New password; every open session of the agent ends."""
    agent = await existing(session, name)
    agent.password_hash = hash_password(password)
    agent.password_changed_at = now or utcnow()
    await end_sessions(session, agent.id)


async def authenticate(
    session: AsyncSession, name: str, password: str, now: datetime
) -> ConsoleAgent | None:
    """The agent when name and password match, else None (same work either way)."""
    agent = await find(session, name)
    stored = agent.password_hash if agent is not None else await asyncio.to_thread(_dummy_hash)
    # argon2 is deliberately slow: keep it off the event loop
    ok = await asyncio.to_thread(verify_password, stored, password)
    if agent is None or not ok:
        return None
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = await asyncio.to_thread(_hasher.hash, password)
    agent.last_login_at = now
    return agent
