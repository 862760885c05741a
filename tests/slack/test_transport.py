"""POST /slack/events: signature verification first, then bolt's dispatch."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import select

from bot.channels.slack.blocks import escape, reply_blocks
from handlers.types import Button, Link, Reply
from storage.models import ProcessedDelivery
from storage.slack_models import SlackInboxEntry
from tests.slack.helpers import SlackEnv, customer_lines, dm_event, event_body, signature


async def test_a_wrong_signature_is_refused_with_401(slack: SlackEnv) -> None:
    body = event_body(dm_event("hello"))
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts, secret="not-the-signing-secret"),
    }
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    await slack.settle()
    assert slack.dm_posts() == [], "nothing was handled"


async def test_a_missing_signature_is_refused_with_401(slack: SlackEnv) -> None:
    body = event_body(dm_event("hello"))
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 401


async def test_a_stale_timestamp_is_refused_with_401_even_when_correctly_signed(
    slack: SlackEnv,
) -> None:
    body = event_body(dm_event("hello"))
    old = int(time.time()) - 6 * 60
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(old),
        "X-Slack-Signature": signature(body, old),
    }
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    await slack.settle()
    assert slack.dm_posts() == []


async def test_a_tampered_body_is_refused(slack: SlackEnv) -> None:
    body = event_body(dm_event("hello"))
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts),
    }
    tampered = body.replace("hello", "hallo")
    response = await slack.client.post("/slack/events", data=tampered, headers=headers)
    assert response.status == 401


async def test_url_verification_answers_the_challenge(slack: SlackEnv) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == "c-123"


async def test_a_retried_event_runs_the_conversation_once(slack: SlackEnv) -> None:
    body_event = dm_event("Hello")
    first = await slack.event(body_event, event_id="Ev0RETRY01")
    assert first.status == 200
    await slack.settle()
    answered = len(slack.dm_posts())
    assert answered >= 1

    for retry in (1, 2):
        again = await slack.event(body_event, event_id="Ev0RETRY01", retry=retry)
        assert again.status == 200, "a duplicate is acknowledged, so Slack stops retrying"
    await slack.settle()
    assert len(slack.dm_posts()) == answered, "one conversation turn, one set of replies"
    async with slack.runtime.db.sessions() as session:
        keys = (await session.scalars(select(ProcessedDelivery.key))).all()
    assert keys.count("Ev0RETRY01") == 1


async def test_duplicate_deliveries_arriving_together_are_handled_once(slack: SlackEnv) -> None:
    event = dm_event("Hello")
    responses = await asyncio.gather(
        *(slack.event(event, event_id="Ev0TWINS01", retry=n or None) for n in range(3))
    )
    assert [r.status for r in responses] == [200, 200, 200]
    await slack.settle()
    once = len(slack.dm_posts())
    assert once >= 1
    transcript_turns = await customer_lines(slack.runtime)
    assert transcript_turns == 1


def test_mrkdwn_escaping_and_reply_blocks() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    reply = Reply(
        text="Pick <one> & go",
        buttons=(Button("Yes", "confirm"), Button("No", "cancel")),
        link=Link("https://example.com/x?a=1&b=2", "Download"),
    )
    blocks = reply_blocks(reply)
    assert blocks[0]["text"] == {"type": "mrkdwn", "text": "Pick &lt;one&gt; &amp; go"}
    elements = blocks[1]["elements"]
    assert [e.get("value") for e in elements[:2]] == ["confirm", "cancel"]
    assert [e["action_id"] for e in elements] == ["reply_button_0", "reply_button_1", "reply_link"]
    assert elements[2]["url"] == "https://example.com/x?a=1&b=2"
    long = reply_blocks(Reply(text="x" * 7000))
    assert [len(b["text"]["text"]) for b in long] == [3000, 3000, 1000]


async def test_when_the_inbox_is_full_an_event_gets_503_and_its_retry_is_answered(
    slack: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    backlog = slack.channel.inbox.backlog
    slack.channel.inbox.backlog = 0  # as if `backlog` customer events were waiting
    with caplog.at_level(logging.WARNING, logger="bot.channels.slack"):
        refused = await slack.event(dm_event("Hello"), event_id="Ev0BUSY01")
        for n in range(3):
            assert (await slack.event(dm_event("Hi"), event_id=f"Ev0BUSY1{n}")).status == 503
    assert refused.status == 503
    assert refused.headers["Retry-After"]
    full = [r for r in caplog.records if "inbox full" in r.getMessage()]
    assert len(full) == 1, "an overload is one log line, not one per event"
    async with slack.runtime.db.sessions() as session:
        keys = (await session.scalars(select(ProcessedDelivery.key))).all()
        stored = (await session.scalars(select(SlackInboxEntry.key))).all()
    assert "Ev0BUSY01" not in keys and stored == [], "a refused delivery is not stored"
    await slack.settle()
    assert slack.dm_posts() == []

    slack.channel.inbox.backlog = backlog
    again = await slack.event(dm_event("Hello"), event_id="Ev0BUSY01", retry=1)
    assert again.status == 200
    await slack.settle()
    assert len(slack.dm_posts()) >= 1, "the retried event got its answer"
    assert await customer_lines(slack.runtime) == 1
    assert slack.channel.inbox.backlog_used == 0, "the finished turn gave its place back"
