"""`privacybot referrals …` through click's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from storage import demo_seed
from storage.db import Database
from tests.conftest import TEST_SECRET
from tests.referrals.conftest import BEN_ONLY, BOTH, forward
from tests.workflow.test_cli import on_db


@pytest.fixture
def url(database_url: str) -> str:
    async def seed(db: Database) -> None:
        async with db.transaction() as session:
            await demo_seed.seed(session)

    on_db(database_url, seed)
    return database_url


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        list(args),
        env={"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET},
        catch_exceptions=False,
    )


def forwarded(url: str, number: str, **kwargs: Any) -> list[str]:
    views = on_db(url, lambda db: forward(db, number, **kwargs))
    return [v.reference for v in views]


def test_list_and_show_mask_the_number(url: str) -> None:
    references = forwarded(url, BOTH, details="Karen here, delete 31000003")
    listed = invoke(url, "referrals", "list")
    assert listed.exit_code == 0
    assert all(r in listed.output for r in references)
    assert "+45 31 ** ** 03" in listed.output and "AnnasBageri" in listed.output
    rows = json.loads(invoke(url, "referrals", "list", "--json").output)
    assert {r["id"] for r in rows} == set(references)
    assert {r["status"] for r in rows} == {"forwarded"}
    shown = invoke(url, "referrals", "show", references[0].lower())
    assert shown.exit_code == 0 and "opened → forwarded" in shown.output
    detail = json.loads(invoke(url, "referrals", "show", references[0], "--json").output)
    assert detail["number"] == "+45 31 ** ** 03" and detail["details_given"] is True
    assert [h["to"] for h in detail["history"]] == ["opened", "forwarded"]
    everything = listed.output + shown.output + json.dumps(rows) + json.dumps(detail)
    assert "31000003" not in everything and "Karen" not in everything


def test_ack_and_close_with_exit_codes(url: str) -> None:
    [reference] = forwarded(url, BEN_ONLY)
    acked = invoke(url, "referrals", "ack", reference, "--agent", "mette")
    assert (acked.exit_code, acked.output.strip()) == (0, f"{reference}: acknowledged")
    again = invoke(url, "referrals", "ack", reference, "--agent", "mette")
    assert again.exit_code == 1 and "cannot go from acknowledged" in again.output
    closed = invoke(
        url, "referrals", "close", reference, "--agent", "mette", "--note", "answered by Ben"
    )
    assert (closed.exit_code, closed.output.strip()) == (0, f"{reference}: closed")
    assert "answered by Ben" in invoke(url, "referrals", "show", reference).output
    assert invoke(url, "referrals", "list").output.strip() == "no referrals"
    done = json.loads(invoke(url, "referrals", "list", "--status", "closed", "--json").output)
    assert [r["id"] for r in done] == [reference] and done[0]["closed_by"] == "mette"


def test_account_gone_and_the_errors(url: str) -> None:
    [reference] = forwarded(url, BEN_ONLY)
    gone = invoke(url, "referrals", "close", reference, "--agent", "mette", "--account-gone")
    assert gone.output.strip() == f"{reference}: account_gone"
    missing = invoke(url, "referrals", "show", "RF-NOPE00")
    assert missing.exit_code == 1 and "no referral RF-NOPE00" in missing.output
    assert invoke(url, "referrals", "close", "RF-NOPE00", "--agent", "m").exit_code == 1
    assert invoke(url, "referrals", "list", "--status", "bogus").exit_code == 2
    assert invoke(url, "referrals", "ack", reference).exit_code == 2, "--agent is required"
    assert invoke(url, "referrals", "ack", reference, "--agent", " ").exit_code == 2
