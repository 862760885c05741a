"""Who sent messages to a number: only accounts with traceable messages inside the window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, insert, select

from storage import datamap
from storage.db import Database
from storage.models import SmsMessage
from storage.types import utcnow
from tests.referrals.conftest import (
    ANONYMISED,
    BEN_ONLY,
    BOTH,
    UNKNOWN,
    account_of,
    senders,
    set_account,
)
from workflow import referrals


async def test_a_number_with_messages_from_both_demo_accounts(seeded: Database) -> None:
    anna, ben = (
        await account_of(seeded, "anna@example.dk"),
        await account_of(seeded, "ben@example.com"),
    )
    found = await senders(seeded, BOTH)
    assert {s.account_id: s.sender_names for s in found} == {
        anna: ("AnnasBageri",),
        ben: ("BensBikes",),
    }
    assert all(s.reachable and s.company is None for s in found), "not named unless allowed"
    assert found[0].last_sent_at >= found[1].last_sent_at, "newest first"


async def test_a_number_with_messages_from_one_account(seeded: Database) -> None:
    ben = await account_of(seeded, "ben@example.com")
    assert [(s.account_id, s.sender_names) for s in await senders(seeded, BEN_ONLY)] == [
        (ben, ("BensBikes",))
    ]


async def test_anonymised_and_unknown_numbers_trace_to_nobody(seeded: Database) -> None:
    async with seeded.sessions() as session:
        kept = await session.scalar(
            select(func.count()).where(SmsMessage.recipient == datamap.mask_last4(ANONYMISED))
        )
    assert kept == 3, "the demo keeps the anonymised messages, as the sweep leaves them"
    assert await senders(seeded, ANONYMISED) == []
    assert await senders(seeded, UNKNOWN) == []


async def test_the_number_may_be_written_as_people_write_it(seeded: Database) -> None:
    assert await senders(seeded, "31 00 00 03") == await senders(seeded, BOTH)
    with pytest.raises(ValueError):
        await senders(seeded, "not a number")


async def test_the_window_is_the_retention_rule_even_before_the_sweep_ran(
    seeded: Database,
) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    now = utcnow()
    window = timedelta(days=datamap.sms_retention_days())
    number = "+4531777777"
    async with seeded.transaction() as session:
        for age, name in (
            (window + timedelta(hours=1), "Old"),
            (window - timedelta(hours=1), "New"),
        ):
            await session.execute(
                insert(SmsMessage).values(
                    account_id=anna, sender_name=name, recipient=number, sent_at=now - age
                )
            )
    assert [s.sender_names for s in await senders(seeded, number, now)] == [("New",)]
    later = now + timedelta(hours=2)
    assert await senders(seeded, number, later) == [], "an hour later it has left the window"


async def test_a_sender_without_a_name_is_shown_by_its_number(seeded: Database) -> None:
    ben = await account_of(seeded, "ben@example.com")
    async with seeded.transaction() as session:
        await session.execute(
            insert(SmsMessage).values(
                account_id=ben,
                sender_number="+447700900001",
                sender_name=None,
                recipient=BEN_ONLY,
                sent_at=utcnow() - timedelta(days=1),
            )
        )
    [sender] = await senders(seeded, BEN_ONLY)
    assert sender.sender_names == ("+447700900001", "BensBikes")


async def test_the_company_is_named_only_where_the_account_allows_it(seeded: Database) -> None:
    anna = await account_of(seeded, "anna@example.dk")
    await set_account(seeded, anna, name_shown_to_recipients=True)
    named = {s.account_id: s.company for s in await senders(seeded, BOTH)}
    assert named[anna] == "Anna's Bageri ApS"
    assert [c for a, c in named.items() if a != anna] == [None]


async def test_a_closed_account_is_found_but_not_reachable(seeded: Database) -> None:
    ben = await account_of(seeded, "ben@example.com")
    await set_account(seeded, ben, status="closed")
    [sender] = await senders(seeded, BEN_ONLY)
    assert sender.account_id == ben and not sender.reachable


def test_the_window_comes_from_the_data_map(tmp_path: Path) -> None:
    assert referrals.window() == timedelta(days=30), "the built-in map's SMS rule"
    raw = yaml.safe_load(datamap.BUILTIN.read_text())
    [rule] = raw["tables"]["sms_messages"]["retention"]
    rule["after_days"] = 45
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    with datamap.using(datamap.load(path)):
        assert referrals.window() == timedelta(days=45)
