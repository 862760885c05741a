"""Rectification: validated, applied to the right row, audited as hashes only."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from storage.datamap import keyed_hash
from storage.db import Database
from storage.models import Account, Person
from storage.privacy_models import AgentAlert
from tests.clock import FakeClock
from tests.executors.conftest import ANNA, ANNA_PHONE, BEN, SECRET, MakeCtx
from tests.workflow.conftest import open_request
from workflow.executors import PermanentFailure, rectification


async def _person(db: Database, account_id: int) -> Person:
    async with db.sessions() as session:
        person = await session.scalar(select(Person).where(Person.account_id == account_id))
    assert person is not None
    return person


async def test_a_danish_phone_number_is_stored_as_e164(
    seeded: Database, anna: int, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(anna, "rectification", details={"field": "phone", "value": "20 00 00 99"})
    result = await rectification.run(ctx)
    assert (await _person(seeded, anna)).phone == "+4520000099"
    assert result.effects == {
        "field": "phone",
        "person_id": (await _person(seeded, anna)).id,
        "changed": True,
        "old_hash": keyed_hash(SECRET, ANNA_PHONE),
        "new_hash": keyed_hash(SECRET, "+4520000099"),
        "recipients_told": [],
    }
    text = json.dumps([result.effects, result.notice])
    assert ANNA_PHONE not in text and "+4520000099" not in text and "20000099" not in text


async def test_an_email_is_lower_cased_and_a_rerun_changes_nothing(
    seeded: Database, anna: int, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(anna, "rectification", details={"field": "email", "value": "Anna.J@Example.DK"})
    first = await rectification.run(ctx)
    second = await rectification.run(ctx)
    assert (await _person(seeded, anna)).email == "anna.j@example.dk"
    assert first.effects["changed"] is True and second.effects["changed"] is False
    assert ANNA not in json.dumps(first.effects) and "anna.j" not in json.dumps(first.effects)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "anna@@example.dk"),
        ("email", "anna@example.dk and more"),
        ("phone", "call me maybe"),
        ("phone", "12"),
        ("name", "x" * 201),
        ("name", "   "),
        ("colour", "blue"),
    ],
)
async def test_invalid_values_are_refused_without_echoing_them(
    seeded: Database, anna: int, make_ctx: MakeCtx, field: str, value: str
) -> None:
    ctx = make_ctx(anna, "rectification", details={"field": field, "value": value})
    with pytest.raises(PermanentFailure) as failure:
        await rectification.run(ctx)
    if value.strip():
        assert value.strip() not in str(failure.value)
    assert (await _person(seeded, anna)).email == ANNA


async def test_an_email_already_used_by_someone_else_is_refused(
    anna: int, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(anna, "rectification", details={"field": "email", "value": BEN})
    with pytest.raises(PermanentFailure) as failure:
        await rectification.run(ctx)
    assert BEN not in str(failure.value)


async def test_name_and_company(seeded: Database, anna: int, make_ctx: MakeCtx) -> None:
    await rectification.run(
        make_ctx(anna, "rectification", details={"field": "name", "value": "  Anna   Holm "})
    )
    result = await rectification.run(
        make_ctx(anna, "rectification", details={"field": "company", "value": "Holm Bageri ApS"})
    )
    assert (await _person(seeded, anna)).name == "Anna Holm"
    async with seeded.sessions() as session:
        assert (await session.get(Account, anna)).company == "Holm Bageri ApS"  # type: ignore[union-attr]
    assert result.effects["person_id"] is None and "Holm" not in json.dumps(result.effects)


async def test_a_person_of_another_account_cannot_be_changed(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx
) -> None:
    ben_person = await _person(seeded, ben)
    ctx = make_ctx(
        anna,
        "rectification",
        details={"field": "name", "value": "Mallory", "person_id": ben_person.id},
    )
    with pytest.raises(PermanentFailure):
        await rectification.run(ctx)
    assert (await _person(seeded, ben)).name == "Ben Carter"


async def test_an_address_goes_to_an_agent(
    seeded: Database, anna: int, make_ctx: MakeCtx, clock: FakeClock
) -> None:
    """The map marks no address column: the request waits for a person's answer."""
    request = await open_request(
        seeded,
        "rectification",
        now=clock(),
        account=anna,
        details={"field": "address", "value": "Ny Vej 2"},
    )
    base = make_ctx(anna, "rectification", details={"field": "address", "value": "Ny Vej 2"})
    ctx = replace(base, request_id=request.id)
    result = await rectification.run(ctx)
    assert result.needs_person and result.effects == {"field": "address", "by_person": True}
    again = await rectification.run(ctx)  # a re-run raises no second alert
    assert again.needs_person
    async with seeded.sessions() as session:
        raised = (
            await session.scalars(select(AgentAlert).where(AgentAlert.event == "human_review"))
        ).all()
    assert [(a.event, a.params.get("field")) for a in raised] == [("human_review", "address")]
    assert "Ny Vej" not in str([a.params for a in raised])
