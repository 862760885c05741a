"""Reading the outbox, for `privacybot outbox` and the `/dev/outbox` page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage

DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    channel: str
    to: str
    subject: str | None
    text: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, str]:
        """The documented format: `{"channel", "to", "text", "created_at"}`."""
        return {
            "channel": self.channel,
            "to": self.to,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }


async def recent(db: Database, limit: int = DEFAULT_LIMIT) -> list[Entry]:
    """The `limit` newest messages, oldest first."""
    stmt = (
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.to,
            OutboxMessage.subject,
            OutboxMessage.text,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
            OutboxMessage.last_error,
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(max(1, min(limit, MAX_LIMIT)))
    )
    async with db.sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [Entry(**row._asdict()) for row in reversed(rows)]
