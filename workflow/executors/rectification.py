"""Right to rectification (Art. 16): correct one field, wherever the data map says it lives.

`ctx.details` = {"field": a rectifiable field of the map (email, phone, name, company in
the built-in store), "value": ..., "person_id"?}. The conversation already proved
control of a new email or phone by a code; here the value is validated again (the
request may have waited), applied, and audited as keyed hashes of the old and new
value, never the values themselves.

A field the map does not mark rectifiable (an address: the only addresses we hold are
on issued invoices, which are accounting records and keep the address they were issued
with) goes to a person: an alert, and the request stays open until an agent answers it
(`privacybot requests answer`), as a human review does.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from sqlalchemy import and_, func, not_, select, update

from storage import account_store, datamap
from storage.datamap import keyed_hash
from storage.datamap.scope import Scope
from storage.datamap.tables import store_tables
from storage.privacy_models import PrivacyRequest
from workflow import alerts, identity
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure, recipients


def normalise(field: datamap.RectifiableField, value: Any) -> str:
    """The value as stored (lower-case email, E.164 phone, tidy text); raises if invalid."""
    if not isinstance(value, str) or not value.strip():
        raise PermanentFailure(f"no new value given for {field.field}")
    text = " ".join(value.split())
    if field.kind == "email":
        contact = identity.parse_email(text)
        if contact is None or contact.value != text.lower():
            raise PermanentFailure("the new email address is not valid")
        text = contact.value
    elif field.kind == "phone":
        try:
            number = phonenumbers.parse(text, "DK")
        except phonenumbers.NumberParseException:
            raise PermanentFailure("the new phone number is not valid") from None
        if not phonenumbers.is_possible_number(number):
            raise PermanentFailure("the new phone number is not valid")
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(text) > field.max_length:
        raise PermanentFailure(
            f"the new {field.field} is longer than {field.max_length} characters"
        )
    return text


def _field(data_map: datamap.DataMap, name: Any) -> datamap.RectifiableField | None:
    """The map's rectifiable field of this name; None when no column may be corrected
    automatically (addresses, for example, are held only on issued invoices, which are
    accounting records and keep their historical address)."""
    for field in data_map.rectifiable_fields():
        if field.field == name:
            return field
    return None


async def _for_a_person(ctx: ActionContext, name: Any) -> ExecutorResult:
    """A correction the system cannot make: a person answers it (an alert, once)."""
    async with ctx.db.transaction() as session:
        request = await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.id == ctx.request_id)
        )
        if request is None:
            raise PermanentFailure("the request no longer exists")
        await alerts.raise_alert(
            session,
            "human_review",
            now=ctx.now(),
            request=request,
            params={"field": str(name)},
            dedup_key=f"rectification_by_person:{ctx.request_id}",
        )
    return ExecutorResult(
        effects={"field": str(name), "by_person": True},
        notice={"in_review": True, "field": str(name)},
        needs_person=True,
    )


def _person_id(details: dict[str, Any]) -> int | None:
    person_id = details.get("person_id")
    if person_id is None:
        return None
    if isinstance(person_id, bool) or not isinstance(person_id, int | str):
        raise PermanentFailure("person_id is not a number")
    try:
        return int(person_id)
    except ValueError:
        raise PermanentFailure("person_id is not a number") from None


async def run(ctx: ActionContext) -> ExecutorResult:
    data_map = datamap.current()
    field = _field(data_map, ctx.details.get("field"))
    if field is None:
        return await _for_a_person(ctx, ctx.details.get("field"))
    new = normalise(field, ctx.details.get("value"))
    store = account_store.of(ctx.db)
    tables = await store_tables(store, data_map)
    scope = Scope(data_map, tables, ctx.account_id)
    table, spec = tables[field.table], data_map.tables[field.table]
    keys = [table.c[k] for k in spec.key]
    column = table.c[field.column]
    is_account = field.table == data_map.account.table
    async with store.transaction() as session:
        account = tables[data_map.account.table]
        found = await session.scalar(
            select(account.c[data_map.account.key])
            .where(scope.condition(account.name))
            .with_for_update()
        )
        if found is None:
            raise PermanentFailure("the account no longer exists")
        stmt = select(*keys, column).where(
            scope.condition(field.table), *(table.c[c] == v for c, v in field.where.items())
        )
        person_id = None if is_account else _person_id(ctx.details)
        if person_id is not None:
            stmt = stmt.where(keys[0] == person_id)
        order = spec.pick_first or spec.key
        stmt = stmt.order_by(
            *(table.c[c[1:]].desc() if c.startswith("-") else table.c[c] for c in order)
        )
        row = (await session.execute(stmt.limit(1).with_for_update())).first()
        if row is None:
            raise PermanentFailure("the person is not on this account")
        key_values, old = tuple(row[: len(keys)]), row[len(keys)]
        if data_map.columns[field.table][field.column].spec.identifier:
            mine = [k == v for k, v in zip(keys, key_values, strict=True)]
            taken = await session.scalar(
                select(func.count()).where(func.lower(column) == new.lower(), not_(and_(*mine)))
            )
            if taken:
                raise PermanentFailure(
                    f"the new {field.field} is already registered to another person"
                )
        changed = old != new
        if changed:
            await session.execute(
                update(table)
                .where(*(k == v for k, v in zip(keys, key_values, strict=True)))
                .values({field.column: new}),
                execution_options={"synchronize_session": False},
            )
    category = data_map.columns[field.table][field.column].spec.category
    told = await recipients.notify(ctx, data_map, [category]) if changed and category else []
    return ExecutorResult(
        effects={
            "recipients_told": told,
            "field": field.field,
            "person_id": None if is_account else key_values[0],
            "changed": changed,
            "old_hash": keyed_hash(ctx.secret, str(old)) if old is not None else None,
            "new_hash": keyed_hash(ctx.secret, new),
        },
        notice={"field": field.field},
    )
