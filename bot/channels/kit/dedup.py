"""Exactly once per delivery, across processes and restarts: one rule for every channel.

A delivery's key (Slack's event id, Telegram's update_id) becomes a
`ProcessedDelivery(source, key)` row inserted in the *same transaction as the work*
(a conversation turn: the router's `prepare` hook; an agent's decision: its own
transaction), and the platform hears "handled" only once that transaction committed,
or once the delivery itself is stored (Slack's inbox). So:

- a crash or database error before the commit rolls the work and the key back
  together: the delivery is tried again (the platform retries, or the inbox is swept)
  and handled as if for the first time;
- after the commit the key is there: a redelivery (a retry, a second process, a
  restart) fails on the primary key in every process, its transaction is rolled back,
  and it is acknowledged without doing the work twice;
- two deliveries at the same moment serialise on the key's unique index (and on
  PostgreSQL on the conversation's row lock first): one commits, the other is a
  duplicate.

Work that changes nothing else in the database (a note, a refused contact) claims its
key in a transaction of its own before its answer is sent.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ProcessedDelivery

MAX_KEY = 200  # the column's length


class Duplicate(Exception):
    """This delivery was handled before (by this or another process)."""


def _key(key: str) -> str:
    return key[:MAX_KEY]


async def claim(session: AsyncSession, source: str, key: str) -> None:
    """Record the delivery in `session`'s transaction; Duplicate when it is known."""
    await session.flush()  # what the work added so far (a new conversation) goes first,
    # so an IntegrityError below can only be this key's
    session.add(ProcessedDelivery(source=source, key=_key(key)))
    try:
        await session.flush()
    except IntegrityError:
        raise Duplicate(f"{source}:{key}") from None


async def claim_alone(db: Database, source: str, key: str) -> bool:
    """Record the delivery in its own transaction; False when it was handled before."""
    try:
        async with db.transaction() as session:
            await claim(session, source, key)
    except Duplicate:
        return False
    return True


async def seen(db: Database, source: str, key: str) -> bool:
    """Whether the delivery was handled (a race's loser asks; tests ask)."""
    async with db.sessions() as session:
        row = await session.get(ProcessedDelivery, (source, _key(key)))
    return row is not None
