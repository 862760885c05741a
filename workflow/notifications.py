"""Customer notifications, written to the outbox in the transaction that causes them.

The workflow only records *what* happened (an event name and parameters); the runtime
(`bot.delivery`) turns that into chat text in the customer's language and delivers it
on the channel the request came from. Params carry references, dates, agents'
reasons and the executor's notice, never the customer's contact details.

Outcomes also go to the contact the customer verified with (email or SMS), so closing
the chat loses nothing: a second row on the `email` or `sms` route, whose address the
runtime looks up on the account when it delivers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import Notification, PrivacyRequest

EVENTS = (
    "received",
    "awaiting_approval",
    "approved",
    "rejected",
    "extended",
    "in_review",
    "completed",
    "failed",
    "cancelled",
)


# What a customer must learn even with the chat closed.
CONTACT_EVENTS = frozenset({"approved", "rejected", "extended", "completed", "failed"})


def contact_route(verified_via: str | None) -> str | None:
    """The route to the contact the customer proved: an email code, or a phone (SMS code
    or a phone number the platform vouched for)."""
    if not verified_via:
        return None
    return "email" if verified_via.startswith("email") else "sms"


class Requested(Protocol):
    """What a notification needs of its request (a PrivacyRequest, or plain values)."""

    @property
    def id(self) -> int: ...

    @property
    def reference(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def due_at(self) -> datetime: ...

    @property
    def conversation_id(self) -> str | None: ...

    @property
    def channel(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def verified_via(self) -> str | None: ...

    @property
    def account_id(self) -> int: ...


def notify(
    session: AsyncSession,
    request: PrivacyRequest,
    event: str,
    *,
    now: datetime,
    params: dict[str, Any] | None = None,
    delivered: bool = False,
    contacts: dict[str, str] | None = None,
) -> Notification:
    """Queue `event` for the requester. `delivered=True` records a message the live
    conversation turn already said (so the outbox is complete but nothing is sent twice).
    `contacts` gives the email/SMS notice its address when the account will no longer
    hold it at delivery (an erasure's outcome).
    """
    made = [
        Notification(**row)
        for row in rows(
            request, event, now=now, params=params, delivered=delivered, contacts=contacts
        )
    ]
    session.add_all(made)
    return made[0]


def rows(
    request: Requested,
    event: str,
    *,
    now: datetime,
    params: dict[str, Any] | None = None,
    delivered: bool = False,
    contacts: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of `notify` as column values: the chat's first, then the one to
    the verified contact when the event is one the customer must learn."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    base: dict[str, Any] = {
        "reference": request.reference,
        "kind": request.kind,
        "due_at": request.due_at.isoformat(),
    }
    row: dict[str, Any] = {
        "request_id": request.id,
        "conversation_id": request.conversation_id,
        "channel": request.channel,
        "language": request.language,
        "event": event,
        "params": {**base, **(params or {})},
        "status": "delivered" if delivered else "pending",
        "created_at": now,
        "delivered_at": now if delivered else None,
        "address": None,
        "attempts": 0,
    }
    made = [row]
    route = contact_route(request.verified_via)
    if event in CONTACT_EVENTS and route is not None and request.account_id is not None:
        made.append(
            {
                **row,
                "channel": route,
                "params": dict(row["params"]),
                "status": "pending",
                "delivered_at": None,
                "address": (contacts or {}).get(route),
            }
        )
    return made
