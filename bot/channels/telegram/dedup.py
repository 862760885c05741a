"""Exactly once per `update_id`, across processes and restarts.

The key is a `ProcessedDelivery(source="telegram", key=update_id)` row, and it is
inserted in the *same transaction as the conversation turn* (the router's `prepare`
hook), and the webhook answers 200 only after that transaction has committed:

- a crash or database error before the commit rolls back the turn and the key together;
  Telegram gets no 200 (or a 503) and delivers the update again, which is then handled
  as if for the first time: nothing is lost and nothing is half done;
- after the commit the key is there: a redelivery (Telegram retrying a slow answer, a
  second web process, a restart, `getUpdates` handing out an unconfirmed update again)
  fails on the primary key in every process, its transaction is rolled back, and it is
  answered 200 without a second turn;
- two deliveries at the same moment serialise on the key's unique index (and on
  PostgreSQL on the conversation's row lock first): one commits, the other is a duplicate.

A claim committed *before* the work, as Slack does, would lose the update if the process
died after the claim: Telegram has its 200 and will not send it again. Here the only
thing a crash can lose is the sending of replies that were already committed (they are
in the transcript); the customer sees no answer and writes again.

Updates that change nothing in the database (a refused contact, a sticker) are claimed
in a transaction of their own before their answer is sent.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ProcessedDelivery

SOURCE = "telegram"


class DuplicateUpdate(Exception):
    """This update_id was handled before (by this or another process)."""


async def claim(session: AsyncSession, update_id: int) -> None:
    """Record the update in `session`'s transaction; DuplicateUpdate when it is known."""
    await session.flush()  # what the turn added so far (a new conversation) goes first,
    # so an IntegrityError below can only be this key's
    session.add(ProcessedDelivery(source=SOURCE, key=str(update_id)))
    try:
        await session.flush()
    except IntegrityError:
        raise DuplicateUpdate(update_id) from None


async def claim_alone(db: Database, update_id: int) -> bool:
    """Record the update in its own transaction; False when it was handled before."""
    try:
        async with db.transaction() as session:
            await claim(session, update_id)
    except DuplicateUpdate:
        return False
    return True


async def seen(db: Database, update_id: int) -> bool:
    """Whether the update was handled (for tests and diagnostics)."""
    async with db.sessions() as session:
        row = await session.get(ProcessedDelivery, (SOURCE, str(update_id)))
    return row is not None
