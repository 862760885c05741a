"""Support cases: a customer asked for a person (or complained) and the team owes an answer.

A case is a row of its own, opened with the agent alert that tells the team, and
closed when an agent marks that alert done. While it is open, the conversation's
transcript outlives the retention period, because the person answering needs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.privacy_models import SupportCase
from workflow import alerts


async def open_case(
    session: AsyncSession,
    conversation_id: str,
    *,
    reason: str,
    now: datetime,
    params: dict[str, Any],
) -> bool:
    """Open a case and alert the team, unless one is open already. True when opened."""
    if await is_open(session, conversation_id):
        return False
    alert = alerts.new_alert(
        session, "handover", now=now, params={"conversation_id": conversation_id, **params}
    )
    await session.flush()
    session.add(
        SupportCase(
            conversation_id=conversation_id, alert_id=alert.id, reason=reason, opened_at=now
        )
    )
    return True


async def is_open(session: AsyncSession, conversation_id: str) -> bool:
    found = await session.scalar(
        select(SupportCase.id).where(
            SupportCase.conversation_id == conversation_id, SupportCase.closed_at.is_(None)
        )
    )
    return found is not None


def open_case_conversations() -> Select[Any]:
    """Conversations with an open case (their transcripts are kept)."""
    return select(SupportCase.conversation_id).where(SupportCase.closed_at.is_(None))
