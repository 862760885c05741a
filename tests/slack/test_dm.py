"""Customers in direct messages: turns, buttons, what is ignored, notifications."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot import delivery
from bot.logs import LIBRARY_LOGGERS
from handlers.types import Reply
from storage.models import Conversation
from tests.slack.helpers import CUSTOMER, DM, SlackEnv, dm_event, open_request
from tests.slack.standin import BOT_ID
from tests.test_conversation_auth import outbox
from workflow import decisions
from workflow.approvals import Agent


async def test_a_dm_gets_block_kit_replies_in_the_dm(slack: SlackEnv) -> None:
    texts = await slack.dm("I want to delete my account")
    assert texts, "the bot answered"
    post = slack.dm_posts()[-1]
    actions = [b for b in post["blocks"] if b["type"] == "actions"]
    assert actions, "the erasure offer has buttons"
    values = [e["value"] for e in actions[0]["elements"]]
    assert values[:2] == ["confirm", "cancel"]
    assert actions[0]["elements"][0]["action_id"] == "reply_button_0"
    async with slack.runtime.db.sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.channel == "slack")
        )
    assert conversation is not None and conversation.external_id == DM


async def test_a_button_click_in_the_dm_is_the_customers_answer(slack: SlackEnv) -> None:
    await slack.dm("I want to delete my account")
    texts = await slack.press("cancel")
    assert any("stopped" in t for t in texts), texts


async def test_bot_messages_edits_deletions_and_channels_are_ignored(slack: SlackEnv) -> None:
    ignored = [
        dm_event("from a bot", bot_id=BOT_ID),
        dm_event("edited", subtype="message_changed"),
        dm_event("", subtype="message_deleted"),
        {**dm_event("in a channel"), "channel_type": "channel", "channel": "C0PUBLIC"},
    ]
    for event in ignored:
        response = await slack.event(event)
        assert response.status == 200
    await slack.settle()
    assert slack.api.to("chat.postMessage") == []


async def test_mrkdwn_control_characters_in_replies_are_escaped(slack: SlackEnv) -> None:
    await slack.dm("<!channel> & <@U123> hello")
    for post in slack.dm_posts():
        for block in post["blocks"]:
            text = block.get("text", {}).get("text", "")
            assert "<!channel>" not in text and "<@U123>" not in text


async def test_a_customer_notification_is_delivered_to_the_dm(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure", language="en")
    async with slack.runtime.db.transaction() as session:
        await decisions.reject(
            session, request.reference, Agent.from_identity(b"k", "slack:UX"), "Not possible"
        )
    delivered = await delivery.dispatch(slack.runtime.db, slack.runtime.services.clock())
    assert delivered == 2, "the DM, and the email to the contact the customer verified"
    posts = slack.dm_posts()
    assert len(posts) == 1
    assert request.reference in posts[0]["text"] and "Not possible" in posts[0]["text"]
    emails = [m for m in await outbox(slack.runtime.db) if m.channel == "email"]
    assert [m.to for m in emails] == ["anna@example.dk"] and request.reference in emails[0].text
    assert await delivery.dispatch(slack.runtime.db, slack.runtime.services.clock()) == 0


async def test_a_failing_turn_gets_an_apology_and_no_text_in_the_log(
    slack: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> list[Reply]:
        raise RuntimeError("anna@example.dk secret text")

    router = slack.runtime.router
    original = router.handle
    router.handle = broken  # type: ignore[method-assign]
    quiet = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    try:
        with caplog.at_level(logging.DEBUG):
            for name in quiet:  # as in production: the SQL tracers stay quiet
                logging.getLogger(name).setLevel(logging.WARNING)
            texts = await slack.dm("please erase anna@example.dk")
    finally:
        router.handle = original  # type: ignore[method-assign]
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    assert len(texts) == 1 and "went wrong" in texts[0]
    assert "anna@example.dk" not in caplog.text and "secret text" not in caplog.text
    assert CUSTOMER not in texts[0]


async def test_a_worker_process_registers_the_slack_sender(slack: SlackEnv) -> None:
    from bot.channels.slack import register_sender

    delivery.unregister_sender("slack")
    assert register_sender(slack.runtime.settings, slack.runtime.db)
    request = await open_request(slack.runtime, "erasure", language="en")
    async with slack.runtime.db.transaction() as session:
        agent = Agent.from_identity(b"k", "slack:UX")
        await decisions.reject(session, request.reference, agent, "No")
    assert await delivery.dispatch(slack.runtime.db, slack.runtime.services.clock()) == 2
    assert len(slack.dm_posts()) == 1
    no_token = slack.runtime.settings.model_copy(update={"slack_bot_token": None})
    assert not register_sender(no_token, slack.runtime.db)
