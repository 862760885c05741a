"""Customer notifications, written to the outbox in the transaction that causes them.

The workflow only records *what* happened (an event name and parameters); the runtime
(`bot.delivery`) turns that into chat text in the customer's language and delivers it
on the channel the request came from. Params carry references, dates, agents'
reasons and the executor's notice, never the customer's contact details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


def notify(
    session: AsyncSession,
    request: PrivacyRequest,
    event: str,
    *,
    now: datetime,
    params: dict[str, Any] | None = None,
    delivered: bool = False,
) -> Notification:
    """Queue `event` for the requester. `delivered=True` records a message the live
    conversation turn already said (so the outbox is complete but nothing is sent twice).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    base: dict[str, Any] = {
        "reference": request.reference,
        "kind": request.kind,
        "due_at": request.due_at.isoformat(),
    }
    row = Notification(
        request_id=request.id,
        conversation_id=request.conversation_id,
        channel=request.channel,
        language=request.language,
        event=event,
        params={**base, **(params or {})},
        status="delivered" if delivered else "pending",
        created_at=now,
        delivered_at=now if delivered else None,
    )
    session.add(row)
    return row
