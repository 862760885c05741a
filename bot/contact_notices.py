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

from sqlalchemy.ext.asyncio import AsyncSession

import locales
from locales import _
from storage import account_store
from storage.models import OutboxMessage
from storage.privacy_models import Notification, PrivacyRequest

ROUTES = frozenset({"email", "sms"})


async def _address(session: AsyncSession, note: Notification) -> str | None:
    """The account's email or phone for this route, from the account store (any store the
    data map describes, the bot's own by default)."""
    request = await session.get(PrivacyRequest, note.request_id) if note.request_id else None
    if request is None or request.account_id is None:
        return None
    kind = "email" if note.channel == "email" else "phone"
    return await account_store.contact_of(session, request.account_id, kind)


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
