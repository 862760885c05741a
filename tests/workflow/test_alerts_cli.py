"""`privacybot alerts`: the team's to-do list when Slack is not used."""

from __future__ import annotations

import asyncio
import json

from storage.db import Database
from tests.workflow.conftest import START, account_id, open_request
from tests.workflow.test_cli import invoke, url  # noqa: F401 - the fixture


def test_alerts_are_listed_as_json_and_marked_done(url: str) -> None:  # noqa: F811
    async def make() -> str:
        db = Database(url)
        try:
            request = await open_request(
                db, "human_review", now=START, account=await account_id(db)
            )
            return request.reference
        finally:
            await db.dispose()

    reference = asyncio.run(make())
    listed = invoke(url, "alerts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["event"], r["reference"], r["kind"]) for r in rows] == [
        ("awaiting_approval", reference, "human_review")
    ]
    assert "@" not in listed.output

    first = rows[0]["id"]
    assert invoke(url, "alerts", "done", str(first)).exit_code == 0
    again = invoke(url, "alerts", "done", str(first))
    assert again.exit_code == 1, "an alert already done is not open any more"
    assert json.loads(invoke(url, "alerts", "list", "--json").output) == []
    everything = json.loads(invoke(url, "alerts", "list", "--all", "--json").output)
    assert [r["status"] for r in everything] == ["done"]
    assert "No open alerts." in invoke(url, "alerts", "list").output
