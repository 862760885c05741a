"""Right to rectification (Art. 16): correct one field of the account or a person on it.

`ctx.details` = {"field": email|phone|name|company|address, "value": ..., "person_id"?}.
The conversation already proved control of a new email or phone by a code; here the
value is validated again (the request may have waited), applied, and audited as keyed
hashes of the old and new value, never the values themselves.

An address is not corrected here: the only addresses we hold are on issued invoices,
which are accounting records and keep the address they were issued with. Such a
request fails permanently with an explanation for the agent, who answers it.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap import keyed_hash
from storage.models import Account, Person
from workflow import identity
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure

MAX_LENGTH = {"name": 200, "company": 200}
FIELDS = ("email", "phone", "name", "company", "address")


def normalise(field: str, value: Any) -> str:
    """The value as stored (lower-case email, E.164 phone, tidy text); raises if invalid."""
    if not isinstance(value, str) or not value.strip():
        raise PermanentFailure(f"no new value given for {field}")
    text = " ".join(value.split())
    if field == "email":
        contact = identity.parse_email(text)
        if contact is None or contact.value != text.lower():
            raise PermanentFailure("the new email address is not valid")
        return contact.value
    if field == "phone":
        try:
            number = phonenumbers.parse(text, "DK")
        except phonenumbers.NumberParseException:
            raise PermanentFailure("the new phone number is not valid") from None
        if not phonenumbers.is_possible_number(number):
            raise PermanentFailure("the new phone number is not valid")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(text) > MAX_LENGTH[field]:
        raise PermanentFailure(f"the new {field} is longer than {MAX_LENGTH[field]} characters")
    return text


async def _person(session: AsyncSession, ctx: ActionContext) -> Person:
    """The person named in the request, or the account's primary person."""
    stmt = select(Person).where(Person.account_id == ctx.account_id)
    person_id = ctx.details.get("person_id")
    if person_id is not None:
        if isinstance(person_id, bool) or not isinstance(person_id, int | str):
            raise PermanentFailure("person_id is not a number")
        try:
            stmt = stmt.where(Person.id == int(person_id))
        except ValueError:
            raise PermanentFailure("person_id is not a number") from None
    else:
        stmt = stmt.order_by(Person.is_primary.desc(), Person.id)
    found = (await session.execute(stmt.limit(1).with_for_update())).scalar_one_or_none()
    if found is None:
        raise PermanentFailure("the person is not on this account")
    return found


async def _taken(session: AsyncSession, field: str, value: str, person_id: int) -> bool:
    """Whether another person already uses this email or phone (logins must be unique)."""
    column = Person.email if field == "email" else Person.phone
    stmt = select(func.count()).where(column == value, Person.id != person_id)
    return bool(await session.scalar(stmt))


async def run(ctx: ActionContext) -> ExecutorResult:
    field = ctx.details.get("field")
    if field not in FIELDS:
        raise PermanentFailure("unknown field to rectify")
    if field == "address":
        raise PermanentFailure(
            "addresses are held only on issued invoices, which are accounting records and keep "
            "their historical address; an agent must answer this request"
        )
    new = normalise(field, ctx.details.get("value"))
    async with ctx.db.transaction() as session:
        account = await session.get(Account, ctx.account_id, with_for_update=True)
        if account is None:
            raise PermanentFailure("the account no longer exists")
        target: Account | Person
        if field == "company":
            target, person_id = account, None
        else:
            target = await _person(session, ctx)
            person_id = target.id
            if field in ("email", "phone") and await _taken(session, field, new, target.id):
                raise PermanentFailure(f"the new {field} is already registered to another person")
        old = getattr(target, field)
        changed = old != new
        if changed:
            setattr(target, field, new)
    return ExecutorResult(
        effects={
            "field": field,
            "person_id": person_id,
            "changed": changed,
            "old_hash": keyed_hash(ctx.secret, old) if old is not None else None,
            "new_hash": keyed_hash(ctx.secret, new),
        },
        notice={"field": field},
    )
