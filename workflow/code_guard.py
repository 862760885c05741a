"""The cap on wrong one-time codes: at most ten per account per hour, in every process.

Each wrong code is a row in `verification_failures`, keyed by the account the code was
for (or, for a contact on no account, a keyed hash of the contact, so an unknown
address behaves exactly like a known one). Counting and recording happen under a lock
per subject (PostgreSQL: a transaction-scoped advisory lock; SQLite: its single
writer), so two processes checking at the same instant cannot both get a tenth try.

At the tenth wrong code the subject is locked until the oldest of those ten is an hour
old, or until an agent unlocks it (`privacybot accounts unlock`): even the right code
is refused meanwhile. The moment it locks, the agents get an alert and the account
holder a message on their registered contact, in their language.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from locales import _, use
from storage import keys
from storage.db import WRITE_LOCKED
from storage.models import OutboxMessage, Person
from storage.security_models import VerificationFailure
from workflow import alerts, audit

MAX_WRONG_PER_HOUR = 10
WINDOW = timedelta(hours=1)
_LOCK_CLASS = 0x5643  # "VC": the advisory-lock namespace for verification subjects


def account_subject(account_id: int) -> str:
    return f"account:{account_id}"


def contact_hash(secret: bytes, kind: str, value: str) -> str:
    """A contact on no account, as a keyed hash (no address is stored)."""
    return keys.mac_hex(secret, keys.VERIFICATION_SUBJECT, f"{kind}:{value}")


def contact_subject(hashed: str) -> str:
    return f"contact:{hashed}"


def account_of(subject: str) -> int | None:
    kind, _sep, value = subject.partition(":")
    return int(value) if kind == "account" and value.isdigit() else None


async def _serialise(session: AsyncSession, subject: str) -> None:
    """Hold the subject's lock until the transaction ends."""
    if session.info.get(WRITE_LOCKED):
        return
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:4], "big") >> 1
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": _LOCK_CLASS, "key": key}
        )
    else:  # a write matching no row takes SQLite's write lock
        await session.execute(text("UPDATE verification_failures SET id = id WHERE id = -1"))


async def wrong_tries(session: AsyncSession, subject: str, now: datetime) -> int:
    """Wrong codes for `subject` in the last hour."""
    stmt = (
        select(func.count())
        .select_from(VerificationFailure)
        .where(VerificationFailure.subject == subject, VerificationFailure.at > now - WINDOW)
    )
    return int(await session.scalar(stmt) or 0)


async def is_locked(session: AsyncSession, subject: str, now: datetime) -> bool:
    """Whether `subject` has had its ten wrong codes this hour; takes the subject's lock."""
    await _serialise(session, subject)
    return await wrong_tries(session, subject, now) >= MAX_WRONG_PER_HOUR


async def record_wrong(session: AsyncSession, subject: str, now: datetime) -> int:
    """Record one wrong code; returns how many more the subject may get this hour (0:
    locked now). The tenth raises the alert and tells the account holder."""
    await _serialise(session, subject)
    # failures older than the window count for nobody: gone, whoever they were for
    await session.execute(delete(VerificationFailure).where(VerificationFailure.at <= now - WINDOW))
    session.add(VerificationFailure(subject=subject, at=now))
    await session.flush()
    count = await wrong_tries(session, subject, now)
    if count == MAX_WRONG_PER_HOUR:
        await _on_locked(session, subject, now)
    return max(0, MAX_WRONG_PER_HOUR - count)


async def unlock(session: AsyncSession, account_id: int, *, actor: str, now: datetime) -> int:
    """An agent's unlock: forget the account's wrong codes, audited. Returns how many
    wrong codes of the last hour there were (10 or more: it was locked)."""
    subject = account_subject(account_id)
    await _serialise(session, subject)
    recent = await wrong_tries(session, subject, now)
    await session.execute(delete(VerificationFailure).where(VerificationFailure.subject == subject))
    await audit.append(
        session,
        actor=actor,
        event="verification_unlocked",
        request_id=None,
        data={"account_id": account_id, "wrong_codes_last_hour": recent},
        now=now,
    )
    return recent


async def _on_locked(session: AsyncSession, subject: str, now: datetime) -> None:
    account_id = account_of(subject)
    if account_id is None:
        return  # no account behind the contact: nobody to tell
    await alerts.raise_alert(
        session,
        "code_locked",
        now=now,
        params={"account_id": account_id, "until": (now + WINDOW).isoformat()},
    )
    holder = (
        await session.execute(
            select(Person)
            .where(Person.account_id == account_id)
            .order_by(Person.is_primary.desc(), Person.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if holder is None or not (holder.email or holder.phone):
        return
    channel = "email" if holder.email else "sms"
    with use(holder.preferred_language):
        body = _(
            "Someone typed a wrong verification code for your GatewayAPI account "
            "{n} times within an hour, so verification by code is paused for up to an hour. "
            "Nobody got access. If it was you, wait an hour and try again, or write to our "
            "support. If it was not you, you need not do anything."
        ).format(n=MAX_WRONG_PER_HOUR)
        subject_line = _("Verification codes paused for your account")
    session.add(
        OutboxMessage(
            channel=channel,
            to=holder.email or holder.phone or "",
            subject=subject_line if channel == "email" else None,
            text=body,
            created_at=now,
            next_attempt_at=now,
        )
    )
