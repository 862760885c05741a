"""Slack's markup becomes plain text at the door, and our text is escaped once going out.

Slack delivers `&`, `<`, `>` as entities and wraps what it recognises (links, mailto,
tel, user and channel mentions) in angle brackets. A company-name correction typed in a
DM must reach the account store as the customer typed it, and the approval card must
show it escaped exactly once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.blocks import escape
from bot.channels.slack.markup import to_plain
from storage.models import Account, Person
from storage.privacy_models import PrivacyRequest
from tests.slack.helpers import AGENT1, APPROVALS, SlackEnv, open_request, status_of
from tests.test_conversation_auth import latest_code
from tests.workflow.conftest import make_deps
from workflow import worker


@pytest.mark.parametrize(
    ("delivered", "typed"),
    [
        ("Annas Bageri &amp; Café &lt;Nørrebro&gt; ApS", "Annas Bageri & Café <Nørrebro> ApS"),
        ("<http://Webshop.dk|Webshop.dk> ApS", "Webshop.dk ApS"),
        ("see <https://example.com/a?b=1&amp;c=2>", "see https://example.com/a?b=1&c=2"),
        ("<mailto:anna@example.dk|anna@example.dk>", "anna@example.dk"),
        ("<mailto:anna@example.dk>", "anna@example.dk"),
        ("call <tel:+4520000001|+45 20 00 00 01>", "call +45 20 00 00 01"),
        ("<tel:+4520000001>", "+4520000001"),
        ("ask <@U0123ABC> or <@U0456|ben>", "ask @U0123ABC or @ben"),
        ("in <#C0123|general> and <#C0456>", "in #general and #C0456"),
        (
            "<!here> <!channel|@channel> <!subteam^S012|@privacy-team>",
            "@here @channel @privacy-team",
        ),
        ("<!date^1392734382^{date}|February 18th, 2014>", "February 18th, 2014"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("&amp;lt; stays", "&lt; stays"),
        ("plain text, no markup", "plain text, no markup"),
    ],
)
def test_slack_markup_becomes_what_the_customer_typed(delivered: str, typed: str) -> None:
    assert to_plain(delivered) == typed


def test_escaping_slack_markup_round_trips() -> None:
    for typed in ("Annas Bageri & Café <Nørrebro> ApS", "a &amp; b", "<<>>&&"):
        assert to_plain(escape(typed)) == typed


def _dm_event(channel: str, user: str, text: str) -> dict[str, Any]:
    from tests.slack.helpers import dm_event

    return dm_event(text, user=user, channel=channel)


async def _say(slack: SlackEnv, channel: str, user: str, text: str) -> None:
    response = await slack.event(_dm_event(channel, user, text))
    assert response.status == 200
    await slack.settle()


async def _press(slack: SlackEnv, channel: str, user: str, value: str) -> None:
    response = await slack.click("reply_button_0", value, user=user, channel=channel)
    assert response.status == 200
    await slack.settle()


async def _correct_company(
    slack: SlackEnv, channel: str, user: str, email: str, delivered: str
) -> PrivacyRequest:
    """The rectification dialog in a DM, with the new name as Slack delivers it."""
    await _say(slack, channel, user, "I need to correct my company name")
    await _press(slack, channel, user, "confirm")
    await _say(slack, channel, user, email)
    await _say(slack, channel, user, await latest_code(slack.runtime.db, email))
    await _say(slack, channel, user, delivered)  # the field was named: its value is asked
    await _say(slack, channel, user, "yes")  # read back: "I'll change the company name to …"
    async with slack.runtime.db.sessions() as session:
        request = await session.scalar(
            select(PrivacyRequest)
            .where(PrivacyRequest.kind == "rectification")
            .order_by(PrivacyRequest.id.desc())
        )
    assert request is not None, [p["text"] for p in slack.dm_posts(channel)]
    return request


async def _company_of(slack: SlackEnv, email: str) -> str | None:
    async with slack.runtime.db.sessions() as session:
        return await session.scalar(
            select(Account.company)
            .join(Person, Person.account_id == Account.id)
            .where(Person.email == email)
        )


async def test_a_company_name_correction_stores_the_plain_name_and_shows_it_escaped_once(
    slack: SlackEnv, tmp_path: Path
) -> None:
    corrections = [
        ("D0ANNA", "UANNA", "anna@example.dk", "Annas Bageri &amp; Café &lt;Nørrebro&gt; ApS"),
        ("D0BEN", "UBEN", "ben@example.com", "<http://Webshop.dk|Webshop.dk> ApS"),
    ]
    expected = {"anna@example.dk": "Annas Bageri & Café <Nørrebro> ApS"}
    expected["ben@example.com"] = "Webshop.dk ApS"
    for channel, user, email, delivered in corrections:
        request = await _correct_company(slack, channel, user, email, delivered)
        assert request.details["value"] == expected[email]
        await slack.sync()
        await slack.click("approval_approve", request.reference, user=AGENT1)
        await slack.settle()
        assert await status_of(slack.runtime, request.id) == "approved"
    deps = make_deps(slack.runtime.db, slack.runtime.services.clock, tmp_path)
    await worker.run_worker(deps, stop=asyncio.Event(), concurrency=1, once=True)
    for email, name in expected.items():
        assert await _company_of(slack, email) == name

    # The next approval card shows the corrected name as mrkdwn: escaped exactly once.
    erasure = await open_request(slack.runtime, "erasure", email="anna@example.dk")
    await slack.sync()
    (card,) = [
        p
        for p in slack.api.to("chat.postMessage", channel=APPROVALS)
        if erasure.reference in p["text"]
    ]
    fields = [f["text"] for b in card["blocks"] for f in b.get("fields", [])]
    assert "*Account*\nAnnas Bageri &amp; Café &lt;Nørrebro&gt; ApS" in fields, fields
    assert not any("&amp;amp;" in f or "&amp;lt;" in f for f in fields)
