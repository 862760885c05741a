"""The API the recipient dialog calls: who sent to this number, forward the request, status.

An SMS recipient is not our customer: the account that sent the messages is the
controller, we are its processor. After the dialog has verified that the person holds
the number (a one-time code by SMS), it asks `senders_for_number`, tells the person the
sender names (and the company, where the account allows it), and `forward`s the request:
one referral per account, emailed to the account's primary contact, audited, with an
alert for the privacy team. Everything happens in the caller's transaction.

`senders_for_number` (workflow.referral_senders) and `is_suppressed`
(workflow.referral_stops) are re-exported here, so the dialog needs this module only.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import use
from storage import account_store
from storage.models import OutboxMessage, Person
from storage.referral_models import Referral, ReferralKind, ReferralStatus, SmsSuppression
from workflow import alerts, audit, referral_email, referral_links
from workflow import referral_lifecycle as lifecycle
from workflow.referral_lifecycle import OPEN, RECIPIENT, SYSTEM
from workflow.referral_numbers import masked, normalise, number_hash, seal
from workflow.referral_senders import Sender as Sender
from workflow.referral_senders import accounts
from workflow.referral_senders import senders_for_number as senders_for_number
from workflow.referral_senders import window as window
from workflow.referral_stops import is_suppressed as is_suppressed
from workflow.referral_stops import suppress

log = logging.getLogger(__name__)

DETAILS_MAX = 2000
STATUS_LIMIT = 50
_KEPT_CONTROLS = frozenset("\n")


class NotASender(ValueError):
    """An account that sent no traceable message to the number: nothing to forward to it."""


@dataclass(frozen=True, slots=True)
class ReferralView:
    """A referral as the recipient may be told about it: no account ids, no other numbers."""

    reference: str
    kind: ReferralKind
    status: ReferralStatus
    sender_names: tuple[str, ...]
    company: str | None
    created_at: datetime
    forwarded_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None
    new: bool = False  # False: an open referral for the same request already existed
    suppressed: bool = False  # the account's messages to the number are now stopped


def clean_details(text: str | None) -> str | None:
    """The recipient's words without control or format characters (line breaks kept),
    trimmed and cut to DETAILS_MAX; None when nothing is left."""
    if not text:
        return None
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        ch for ch in unified if ch in _KEPT_CONTROLS or unicodedata.category(ch)[0] != "C"
    )
    kept = "\n".join(line.strip() for line in kept.strip().split("\n"))
    return kept[:DETAILS_MAX] or None


async def _primary_contact(session: AsyncSession, account_id: int) -> tuple[str, str] | None:
    """The email and language of the account's primary contact with an email."""
    stmt = (
        select(Person.email, Person.preferred_language)
        .where(Person.account_id == account_id, Person.email.is_not(None))
        .order_by(Person.is_primary.desc(), Person.id)
        .limit(1)
    )
    async with account_store.reading(session) as store:
        found = (await store.execute(stmt)).first()
    return (str(found[0]), str(found[1] or "en")) if found is not None else None


async def forward(
    session: AsyncSession,
    number: str,
    account_ids: Iterable[int],
    kind: ReferralKind | str,
    details: str | None,
    conversation_id: str | None,
    channel: str,
    language: str,
    now: datetime,
    *,
    secret: bytes,
    public_url: str,
) -> list[ReferralView]:
    """Open and forward one referral per account; call only after the number is verified.

    `account_ids` must come from `senders_for_number` (else NotASender). An account that
    already has an open referral of this kind for this number gets no second one: its
    view comes back with `new=False`. A closed account's referral ends as account_gone;
    an account without an email contact keeps it opened, for an agent to pass on.
    """
    e164 = normalise(number)
    kind = ReferralKind(kind)
    wanted = list(dict.fromkeys(account_ids))
    senders = {s.account_id: s for s in await senders_for_number(session, e164, now)}
    if not wanted or any(account_id not in senders for account_id in wanted):
        raise NotASender("forward only to accounts senders_for_number found")
    hashed = number_hash(secret, e164)
    words = clean_details(details)
    views = []
    for account_id in wanted:
        existing = await _open_referral(session, account_id, hashed, kind)
        if existing is not None:
            stopped = await session.scalar(
                select(SmsSuppression.id).where(SmsSuppression.referral_id == existing.id)
            )
            views.append(
                view(existing, senders[account_id].company, suppressed=stopped is not None)
            )
            continue
        referral = await _open(
            session, senders[account_id], e164, hashed, kind, words, now, secret=secret
        )
        referral.conversation_id, referral.channel, referral.language = (
            conversation_id,
            channel,
            language,
        )
        suppressed = await _deliver(
            session, referral, senders[account_id], e164, now, secret=secret, public_url=public_url
        )
        views.append(view(referral, senders[account_id].company, new=True, suppressed=suppressed))
    return views


async def _open_referral(
    session: AsyncSession, account_id: int, hashed: str, kind: ReferralKind
) -> Referral | None:
    stmt = (
        select(Referral)
        .where(
            Referral.account_id == account_id,
            Referral.number_hash == hashed,
            Referral.kind == kind,
            Referral.status.in_(sorted(OPEN)),
        )
        .order_by(Referral.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _open(
    session: AsyncSession,
    sender: Sender,
    e164: str,
    hashed: str,
    kind: ReferralKind,
    words: str | None,
    now: datetime,
    *,
    secret: bytes,
) -> Referral:
    reference = await lifecycle.unique_reference(session)
    referral = Referral(
        reference=reference,
        account_id=sender.account_id,
        kind=kind,
        status=ReferralStatus.OPENED,
        number_hash=hashed,
        number_masked=masked(e164),
        number_sealed=seal(secret, e164, reference),
        details=words,
        sender_names=list(sender.sender_names),
        channel="",
        language="en",
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    await session.flush()
    lifecycle.record(session, referral, None, actor=RECIPIENT, now=now)
    await audit.append(
        session,
        actor=RECIPIENT,
        event="referral_opened",
        request_id=None,
        data=lifecycle.audit_data(referral, number=hashed[:16], details_given=words is not None),
        now=now,
    )
    return referral


async def _deliver(
    session: AsyncSession,
    referral: Referral,
    sender: Sender,
    e164: str,
    now: datetime,
    *,
    secret: bytes,
    public_url: str,
) -> bool:
    """Email the controller (or end the referral when the account is gone), honour a stop
    where the account asked us to, and alert the privacy team. True when suppressed."""
    if not sender.reachable:
        await lifecycle.transition(
            session,
            referral,
            ReferralStatus.ACCOUNT_GONE,
            actor=SYSTEM,
            now=now,
            note="the sending account is closed",
        )
        await _alert(session, referral, now)
        return False
    account = (await accounts(session, [referral.account_id])).get(referral.account_id)
    suppressed = bool(
        referral.kind is ReferralKind.OBJECTION
        and account is not None
        and account.honours_recipient_stop
        and await suppress(session, referral, now)
    )
    contact = await _primary_contact(session, referral.account_id)
    if contact is not None:
        email, language = contact
        with use(language):
            forwarding = referral_email.Forwarding(
                reference=referral.reference,
                kind=referral.kind,
                e164=e164,
                sender_names=tuple(referral.sender_names),
                details=referral.details,
                received_at=now,
                ack_url=referral_links.ack_url(secret, public_url, referral.reference, now),
                suppressed=suppressed,
            )
            session.add(
                OutboxMessage(
                    channel="email",
                    to=email,
                    subject=referral_email.subject(referral.reference),
                    text=referral_email.body(forwarding),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        await lifecycle.transition(
            session, referral, ReferralStatus.FORWARDED, actor=SYSTEM, now=now
        )
    await _alert(session, referral, now, suppressed=suppressed)
    log.info(
        "referral %s to account %d: %s", referral.reference, referral.account_id, referral.status
    )
    return suppressed


async def _alert(
    session: AsyncSession, referral: Referral, now: datetime, *, suppressed: bool = False
) -> None:
    """A card for the approvals channel (and `privacybot alerts`): masked number only."""
    await alerts.raise_alert(
        session,
        "referral",
        now=now,
        params={
            "reference": referral.reference,
            "kind": str(referral.kind),
            "status": str(referral.status),
            "account_id": referral.account_id,
            "number": referral.number_masked,
            "sender_names": list(referral.sender_names),
            "suppressed": suppressed,
        },
        dedup_key=f"referral:{referral.reference}",
    )


def view(
    referral: Referral, company: str | None, *, new: bool = False, suppressed: bool = False
) -> ReferralView:
    return ReferralView(
        reference=referral.reference,
        kind=referral.kind,
        status=referral.status,
        sender_names=tuple(referral.sender_names or ()),
        company=company,
        created_at=referral.created_at,
        forwarded_at=referral.forwarded_at,
        acknowledged_at=referral.acknowledged_at,
        closed_at=referral.closed_at,
        new=new,
        suppressed=suppressed,
    )


async def _company_for(session: AsyncSession, account_id: int) -> str | None:
    account = (await accounts(session, [account_id])).get(account_id)
    return account.shown_company if account else None


async def referrals_for_number(
    session: AsyncSession, e164: str, *, secret: bytes
) -> list[ReferralView]:
    """The number's referrals, newest first: for the recipient's later status question."""
    stmt = (
        select(Referral)
        .where(Referral.number_hash == number_hash(secret, normalise(e164)))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(STATUS_LIMIT)
    )
    found = (await session.scalars(stmt)).all()
    facts = await accounts(session, [r.account_id for r in found])
    suppressed = set(
        (
            await session.scalars(
                select(SmsSuppression.referral_id).where(
                    SmsSuppression.number_hash == number_hash(secret, normalise(e164))
                )
            )
        ).all()
    )
    return [
        view(
            referral,
            facts[referral.account_id].shown_company if referral.account_id in facts else None,
            suppressed=referral.id in suppressed,
        )
        for referral in found
    ]


async def acknowledge(
    session: AsyncSession,
    reference: str,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> ReferralView:
    """The controller confirmed receipt (their link, or an agent who read their reply)."""
    referral = await lifecycle.load(session, reference)
    await lifecycle.transition(
        session, referral, ReferralStatus.ACKNOWLEDGED, actor=actor, now=now, note=note
    )
    return view(referral, await _company_for(session, referral.account_id))


async def close(
    session: AsyncSession,
    reference: str,
    agent: str,
    *,
    now: datetime,
    note: str | None = None,
    account_gone: bool = False,
) -> ReferralView:
    """End a referral: closed (done), or account_gone (the controller cannot be reached)."""
    referral = await lifecycle.load(session, reference)
    target = ReferralStatus.ACCOUNT_GONE if account_gone else ReferralStatus.CLOSED
    await lifecycle.transition(session, referral, target, actor=agent, now=now, note=note)
    return view(referral, await _company_for(session, referral.account_id))
