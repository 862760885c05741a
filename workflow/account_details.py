"""The correctable details an account has now, for the dialog to compare a new value with."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Person


async def current(session: AsyncSession, account_id: int) -> dict[str, str | None]:
    """email, phone and name of the account's primary person, and the company name."""
    person = await session.scalar(
        select(Person)
        .where(Person.account_id == account_id)
        .order_by(Person.is_primary.desc(), Person.id)
        .limit(1)
    )
    company = await session.scalar(select(Account.company).where(Account.id == account_id))
    return {
        "email": person.email if person else None,
        "phone": person.phone if person else None,
        "name": person.name if person else None,
        "company": company,
    }
