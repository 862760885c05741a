"""Art. 19: the recipients of the affected categories are told of a rectification,
erasure or restriction.

The data map lists who receives which categories; each recipient with a contact address
gets one email through the outbox (the notifier sends it), at most once per request and
recipient, so a re-run sends nothing twice. The names told are returned for the
executor's effects (the audit log records them; `told()` reads them back for the
customer who asks) and for the erasure receipt. The email names the request and the
account number only, never the customer's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap import DataMap
from storage.models import OutboxMessage
from storage.privacy_models import AuditEntry, PrivacyRequest
from workflow.executors import ActionContext

_WHAT = {
    "erasure": "erased",
    "rectification": "corrected",
    "restriction": "restricted (processing limited)",
}


def affected(data_map: DataMap, categories: list[str]) -> list[tuple[str, str, str | None]]:
    """(key, name, contact) of every recipient of any of the categories."""
    return [
        (key, r.name, r.contact)
        for key, r in data_map.recipients.items()
        if set(r.categories) & set(categories)
    ]


async def notify(ctx: ActionContext, data_map: DataMap, categories: list[str]) -> list[str]:
    """Queue one email per recipient with a contact; the names of those told."""
    told: list[str] = []
    what = _WHAT.get(ctx.kind, ctx.kind)
    async with ctx.db.transaction() as session:
        for _key, name, contact in affected(data_map, categories):
            if not contact:
                continue
            subject = f"GDPR Art. 19 notice {ctx.reference}"
            sent = await session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.to == contact, OutboxMessage.subject == subject
                )
            )
            if sent is None:
                session.add(
                    OutboxMessage(
                        channel="email",
                        to=contact,
                        subject=subject,
                        text=(
                            f"{data_map.controller} informs you under GDPR Art. 19: the personal "
                            f"data of our customer account {ctx.account_id} has been {what} "
                            f"(request {ctx.reference}; categories: {', '.join(categories)}). "
                            "Please do the same with the data we disclosed to you."
                        ),
                        created_at=ctx.now(),
                        next_attempt_at=ctx.now(),
                    )
                )
            told.append(name)
    return told


async def told(session: AsyncSession, reference: str) -> list[str]:
    """The recipients told about a request, as its completed actions recorded them."""
    request_id = await session.scalar(
        select(PrivacyRequest.id).where(PrivacyRequest.reference == reference)
    )
    if request_id is None:
        return []
    names: list[str] = []
    entries = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.request_id == request_id, AuditEntry.event == "action_done"
        )
    )
    for entry in entries:
        effects: Any = (entry.data or {}).get("effects") or {}
        names += [n for n in effects.get("recipients_told", []) if n not in names]
    return names
