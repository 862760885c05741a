"""/privacy for the privacy team, and `privacybot slack sync` for ops."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from bot.channels.slack.context import is_configured
from bot.commands.slack import slack as slack_group
from tests.conftest import TEST_SECRET
from tests.slack.helpers import (
    AGENT1,
    APPROVALS,
    OUTSIDER,
    SIGNING,
    SlackEnv,
    blocks_text,
    open_request,
)
from tests.slack.standin import BOT_TOKEN


async def test_help_is_for_everyone(slack: SlackEnv) -> None:
    answer = await slack.command("help", user=OUTSIDER)
    assert answer["response_type"] == "ephemeral"
    assert "/privacy list" in answer["text"]


async def test_list_and_show_are_for_approvers_only(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    refused = await slack.command("list", user=OUTSIDER)
    assert "privacy team" in refused["text"] and request.reference not in refused["text"]
    refused = await slack.command(f"show {request.reference}", user=OUTSIDER)
    assert request.reference not in str(refused)


async def test_list_shows_open_requests_most_urgent_first(slack: SlackEnv) -> None:
    first = await open_request(slack.runtime, "erasure")
    slack.runtime.services.clock.advance(days=3)  # type: ignore[attr-defined]
    second = await open_request(slack.runtime, "rectification", email="ben@example.com")
    answer = await slack.command("list", user=AGENT1)
    text = answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert text.index(first.reference) < text.index(second.reference)
    assert "Erasure" in text and "Awaiting approval" in text and "days left" in text


async def test_show_renders_the_request_with_its_buttons(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    answer = await slack.command(f"show {request.reference.lower()}", user=AGENT1)
    shown = blocks_text(answer["blocks"])
    assert request.reference in shown and "Anna's Bageri ApS" in shown
    assert "approval_approve" in str(answer["blocks"])
    missing = await slack.command("show PR-NOPE00", user=AGENT1)
    assert "No request PR-NOPE00" in missing["text"]


async def test_privacybot_slack_sync_posts_the_missing_messages(slack: SlackEnv) -> None:
    """The ops command, run as a user would: settings from the environment, own loop."""
    request = await open_request(slack.runtime, "erasure")
    settings = slack.runtime.settings
    assert is_configured(settings)
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": TEST_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_APPROVALS_CHANNEL": APPROVALS,
        "SLACK_API_URL": settings.slack_api_url,
    }
    result = await asyncio.to_thread(CliRunner().invoke, slack_group, ["sync"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 posted" in result.output
    posts = slack.api.to("chat.postMessage", channel=APPROVALS)
    assert len(posts) == 1 and request.reference in posts[0]["text"]
    again = await asyncio.to_thread(CliRunner().invoke, slack_group, ["sync"], env=env)
    assert "0 posted" in again.output


def test_privacybot_slack_sync_without_slack_settings_fails_clearly() -> None:
    env = {"SLACK_BOT_TOKEN": "", "SLACK_APPROVALS_CHANNEL": "", "SECRET_KEY": TEST_SECRET}
    result = CliRunner().invoke(slack_group, ["sync"], env=env)
    assert result.exit_code == 1
    assert "SLACK_APPROVALS_CHANNEL" in result.output
