"""Outcome notices by email or SMS to the contact the customer verified with.

The notification row names only the route; the address is read from the account when
the notice is delivered, and the message joins the outbox that the notifier sends
(retried, and swept by retention like every other outbox row). An erasure's outcome
carries its address on the row (the account no longer has it by then), cleared when the
message joins the outbox. When there is no address on that route the notice is marked
failed: the chat and the receipt are then the only copies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from locales import _
from storage.models import OutboxMessage, Person
from storage.privacy_models import Notification, PrivacyRequest

ROUTES = frozenset({"email", "sms"})


async def _address(session: AsyncSession, note: Notification) -> str | None:
    request = await session.get(PrivacyRequest, note.request_id) if note.request_id else None
    if request is None or request.account_id is None:
        return None
    column = Person.email if note.channel == "email" else Person.phone
    return await session.scalar(
        select(column)
        .where(Person.account_id == request.account_id, column.is_not(None))
        .order_by(Person.is_primary.desc(), Person.id)
        .limit(1)
    )


def subject(params: dict[str, object], language: str) -> str:
    with locales.use(language):
        return _("Your privacy request {reference}").format(reference=params.get("reference", ""))


async def queue(
    session: AsyncSession, note: Notification, text: str, language: str, now: datetime
) -> bool:
    """Put the notice in the outbox for the account's contact; False when there is none."""
    carried = note.address  # the account no longer holds it: the outbox forgets it too
    address = carried or await _address(session, note)
    note.address = None
    if address is None:
        note.status = "failed"
        return False
    session.add(
        OutboxMessage(
            channel=note.channel,
            to=address,
            subject=subject(note.params or {}, language) if note.channel == "email" else None,
            text=text,
            created_at=now,
            next_attempt_at=now,
            forget_address=carried is not None,
        )
    )
    return True
