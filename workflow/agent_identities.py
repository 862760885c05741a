"""One agent, many identities: nobody decides their own request through another channel.

An agent signs in to the console as `mette`, clicks in Slack as `slack:U123`, and may be
a customer too, with an email address or phone number on an account of their own. The
links between these (`privacybot agents link`) are stored as keyed hashes, computed like
a request's `requester_ref`; the workflow refuses a decision when the request was made
through any of the agent's identities, or concerns an account that carries one of the
agent's contacts, and counts an approval given under any of them as the agent's own
(four-eyes). Every decision path (CLI, console, Slack) calls `workflow.decisions`, so
the refusal comes from this one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.agent_models import ConsoleAgent
from storage.models import Person
from storage.privacy_models import PrivacyRequest
from storage.security_models import AgentIdentity
from workflow import identity
from workflow.approvals import Agent, identity_ref

KINDS = ("slack", "telegram", "email", "phone")
CONTACT_KINDS = ("email", "phone")


class IdentityError(ValueError):
    """A value that is not an identity of its kind, or one linked to another agent."""


def canonical(kind: str, value: str) -> str:
    """The identity as a requester's is written: `slack:U123`, `email:a@b.dk`, `phone:+45…`."""
    cleaned = value.strip()
    if kind == "slack" and cleaned.isalnum():
        return f"slack:{cleaned.upper()}"
    if kind == "telegram" and cleaned.isdigit():
        return f"telegram:{int(cleaned)}"
    if kind == "email" and (found := identity.parse_email(cleaned)) is not None:
        return f"email:{found.value}"
    if kind == "phone" and (found := identity.parse_phone(cleaned)) is not None:
        return f"phone:{found.value}"
    raise IdentityError(f"{value!r} is not a {kind} identity")


def _label(kind: str, value: str) -> str:
    """What `agents list` shows: the platform id, or a masked contact."""
    canonical_value = canonical(kind, value).partition(":")[2]
    if kind in CONTACT_KINDS:
        return identity.mask(identity.Contact(kind, canonical_value))
    return canonical_value


async def link(
    session: AsyncSession, secret: bytes, agent_id: int, kind: str, value: str, now: datetime
) -> bool:
    """Link an identity to the agent; False when it was linked to them already."""
    ref = identity_ref(secret, canonical(kind, value))
    existing = await session.scalar(
        select(AgentIdentity).where(AgentIdentity.kind == kind, AgentIdentity.ref == ref)
    )
    if existing is not None:
        if existing.agent_id != agent_id:
            raise IdentityError(f"that {kind} identity is linked to another agent")
        return False
    session.add(
        AgentIdentity(
            agent_id=agent_id, kind=kind, ref=ref, label=_label(kind, value), created_at=now
        )
    )
    return True


async def unlink(
    session: AsyncSession, secret: bytes, agent_id: int, kind: str, value: str
) -> bool:
    ref = identity_ref(secret, canonical(kind, value))
    result = await session.execute(
        delete(AgentIdentity).where(
            AgentIdentity.agent_id == agent_id, AgentIdentity.kind == kind, AgentIdentity.ref == ref
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def linked(session: AsyncSession, agent_id: int) -> Sequence[AgentIdentity]:
    stmt = (
        select(AgentIdentity).where(AgentIdentity.agent_id == agent_id).order_by(AgentIdentity.id)
    )
    return (await session.scalars(stmt)).all()


@dataclass(frozen=True, slots=True)
class Identities:
    """Everything that is this agent, as keyed hashes."""

    refs: frozenset[str]  # requester refs: the agent's own name, Slack and Telegram users
    contacts: frozenset[str]  # email and phone identities


async def of(session: AsyncSession, agent: Agent) -> Identities:
    """The agent's identities: found by console name, or by a linked Slack/Telegram id."""
    agent_id = await session.scalar(
        select(ConsoleAgent.id)
        .outerjoin(AgentIdentity, AgentIdentity.agent_id == ConsoleAgent.id)
        .where(or_(ConsoleAgent.name == agent.name, AgentIdentity.ref == agent.ref))
        .limit(1)
    )
    if agent_id is None:
        return Identities(frozenset({agent.ref}), frozenset())
    name = await session.scalar(select(ConsoleAgent.name).where(ConsoleAgent.id == agent_id))
    rows = await linked(session, agent_id)
    refs = {agent.ref, *(r.ref for r in rows if r.kind not in CONTACT_KINDS)}
    if name is not None and agent.key:
        refs.add(identity_ref(agent.key, name))
    return Identities(frozenset(refs), frozenset(r.ref for r in rows if r.kind in CONTACT_KINDS))


async def is_own_request(
    session: AsyncSession, agent: Agent, request: PrivacyRequest, mine: Identities
) -> bool:
    """Made through one of the agent's identities, or about an account with their contact."""
    if request.requester_ref in mine.refs:
        return True
    if not mine.contacts or not agent.key:
        return False
    people = await session.execute(
        select(Person.email, Person.phone).where(Person.account_id == request.account_id)
    )
    for email, phone in people:
        for kind, value in (("email", email), ("phone", phone)):
            if not value:
                continue
            try:
                ref = identity_ref(agent.key, canonical(kind, value))
            except IdentityError:
                continue
            if ref in mine.contacts:
                return True
    return False


def is_mine(agent: Agent, mine: Identities, approver: str) -> bool:
    """Whether an approval recorded under `approver` (a name or `slack:U…`) is this agent's."""
    return approver == agent.name or (
        bool(agent.key) and identity_ref(agent.key, approver) in mine.refs
    )
