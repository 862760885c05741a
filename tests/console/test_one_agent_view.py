"""One policy for what agents see: the same request through `privacybot requests show`,
the console and the Slack approval card reveals the same details and hides the same ones
(a restriction's free-text reason, a new contact value), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from html import unescape

import pytest
from click.testing import CliRunner

from bot.channels.slack import approval_view
from bot.cli import cli
from bot.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.console.conftest import ConsoleUser, OpenRequest, add_agent

Users = Callable[[], ConsoleUser]

REASON = "my neighbour Karl Jensen disputes the debt"
NEW_PHONE = "+4531000003"
CASES = {
    "restriction": ({"reason": REASON, "lift": False}, REASON),
    "rectification": ({"field": "phone", "value": NEW_PHONE, "confirmed": True}, NEW_PHONE),
}
_ITEM = re.compile(r"^\s*([a-z_]+): (.+?)\s*$")


def _cli_show(url: str, reference: str, *extra: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["requests", "show", reference, *extra],
        env={"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


def _pairs(items: list[str], hidden: str) -> dict[str, bool]:
    """key -> shown? from 'key: value' strings."""
    found = {}
    for item in items:
        match = _ITEM.match(item)
        assert match, item
        found[match.group(1)] = match.group(2) != hidden
    return found


@pytest.mark.parametrize("kind", sorted(CASES))
async def test_cli_console_and_slack_show_and_hide_the_same(
    kind: str, runtime: Runtime, request_for: OpenRequest, user: Users
) -> None:
    details, secret = CASES[kind]
    request = await request_for(kind, details=details)
    url = runtime.settings.database_url

    as_json = json.loads(await asyncio.to_thread(_cli_show, url, request.reference, "--json"))
    as_text = await asyncio.to_thread(_cli_show, url, request.reference)
    cli_seen = {key: value != "<hidden>" for key, value in as_json["details"].items()}

    await add_agent(runtime.db, "mette")
    agent = user()
    await agent.login("mette")
    status, page, _response = await agent.get(f"/agent/requests/{request.reference}")
    assert status == 200
    items = re.findall(r"<li>(.*?)</li>", page.split('class="facts"', 1)[1].split("</dl>", 1)[0])
    console_seen = _pairs([unescape(i) for i in items], "hidden")

    async with runtime.db.sessions() as session:
        facts = await approval_view.load_facts(
            session, request.id, runtime.services.clock(), runtime.services.policy
        )
    assert facts is not None
    text, blocks = approval_view.render(facts)
    card = json.dumps(blocks, ensure_ascii=False) + text
    (parameters,) = re.findall(r"\*Parameters\* ([^\"]*)", card)
    slack_seen = _pairs(parameters.split("; "), "hidden")

    expected = {key: key in ("lift", "field", "confirmed") for key in details}
    assert cli_seen == console_seen == slack_seen == expected
    for shown in (as_text, page, card):
        assert secret not in shown
        assert "Karl" not in shown and "31000003" not in shown
