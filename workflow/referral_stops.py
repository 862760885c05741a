"""The suppression list: (account, number) pairs the SMS sending path must not send to.

A recipient's "stop" lands here only for an account that has instructed us to honour it;
otherwise the account, as controller, decides. Numbers are kept as keyed hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.referral_models import Referral, SmsSuppression
from workflow import audit
from workflow import referral_lifecycle as lifecycle
from workflow.referral_lifecycle import SYSTEM
from workflow.referral_numbers import normalise, number_hash


async def suppress(session: AsyncSession, referral: Referral, now: datetime) -> bool:
    """Put (account, number) on the suppression list; True when it is there afterwards."""
    values = {
        "account_id": referral.account_id,
        "number_hash": referral.number_hash,
        "number_masked": referral.number_masked,
        "referral_id": referral.id,
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(SmsSuppression)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "number_hash"])
    )
    await audit.append(
        session,
        actor=SYSTEM,
        event="referral_suppressed",
        request_id=None,
        data=lifecycle.audit_data(referral, number=referral.number_hash[:16]),
        now=now,
    )
    return True


async def is_suppressed(
    session: AsyncSession, account_id: int, e164: str, *, secret: bytes
) -> bool:
    """What the SMS sending path asks before it sends for `account_id` to `e164`."""
    found = await session.scalar(
        select(SmsSuppression.id).where(
            SmsSuppression.account_id == account_id,
            SmsSuppression.number_hash == number_hash(secret, normalise(e164)),
        )
    )
    return found is not None
