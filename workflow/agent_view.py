"""What an agent may see of a privacy request: the one policy for the CLI, the console and
the Slack approvals channel, and the one query that lists requests for them.

Agents decide and follow up requests; they need to know what is asked and where it
stands, never whom it is about or what the customer wrote. Both parts of a request are
therefore read through allow-lists, so a column or a detail added later stays hidden
until someone decides agents should see it:

- the request's columns: those of `RequestView` (no requester ref, no conversation);
- its `details`: the non-personal parameters in `SHOWN_DETAILS` (which field, which
  purposes, which format ...). Any other key (a new value, a contact, a restriction's
  free-text reason) is shown as hidden: its key, so the agent knows it was given, and
  no part of its value. Hidden, not masked: a masked email or phone number still says
  whose request it is.

The same allow-list is what a request keeps of its details once closed
(`lifecycle.scrub_details`): what agents may see is exactly what may be kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import PrivacyRequest
from workflow import lifecycle

SHOWN_DETAILS = lifecycle.NON_PERSONAL_DETAILS
HIDDEN = "<hidden>"  # what a hidden detail's value is replaced by in plain-text output
FILTERS = ("open", "all", *lifecycle.STATUSES)

Details = tuple[tuple[str, Any], ...]


def shown_details(details: Mapping[str, Any] | None) -> Details:
    """(key, value) pairs in key order; the value is None where it is hidden."""
    given = details or {}
    return tuple((key, given[key] if key in SHOWN_DETAILS else None) for key in sorted(given))


def details_text(details: Details) -> dict[str, Any]:
    """`shown_details` as a mapping for JSON and text output, hidden values as HIDDEN."""
    return {key: HIDDEN if value is None else value for key, value in details}


@dataclass(frozen=True, slots=True)
class RequestView:
    """The columns of a request an agent sees; built only by `of`."""

    id: int
    reference: str
    kind: str
    status: str
    channel: str
    language: str
    account_id: int
    verified_via: str | None
    received_at: datetime
    due_at: datetime
    extended: bool
    extension_months: int
    extension_reason: str | None
    decided_by: str | None
    decision_reason: str | None
    failure_reason: str | None
    completed_at: datetime | None
    details: Details

    @classmethod
    def of(cls, request: PrivacyRequest) -> RequestView:
        return cls(
            id=request.id,
            reference=request.reference,
            kind=request.kind,
            status=request.status,
            channel=request.channel,
            language=request.language,
            account_id=request.account_id,
            verified_via=request.verified_via,
            received_at=request.received_at,
            due_at=request.due_at,
            extended=bool(request.extended),
            extension_months=request.extension_months or 0,
            extension_reason=request.extension_reason,
            decided_by=request.decided_by,
            decision_reason=request.decision_reason,
            failure_reason=request.failure_reason,
            completed_at=request.completed_at,
            details=shown_details(request.details),
        )

    @property
    def is_open(self) -> bool:
        return self.status in lifecycle.OPEN


async def request_list(
    session: AsyncSession, wanted: str = "open", *, limit: int | None = None
) -> list[RequestView]:
    """Requests by due date, soonest first; `wanted` is 'open', 'all' or a status
    (ValueError for anything else)."""
    if wanted not in FILTERS:
        raise ValueError(f"unknown status {wanted!r}")
    stmt = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id)
    if wanted == "open":
        stmt = stmt.where(PrivacyRequest.status.in_(sorted(lifecycle.OPEN)))
    elif wanted != "all":
        stmt = stmt.where(PrivacyRequest.status == wanted)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [RequestView.of(r) for r in (await session.execute(stmt)).scalars()]
