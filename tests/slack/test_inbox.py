"""Persist-then-ack: stored, acknowledged, then worked on; nothing lost, nothing twice.

A delivery is answered 200 once its row is committed; the turn runs afterwards and
records the delivery as processed in its own transaction. A process that dies in
between leaves the row, and the next process's sweep works on it, once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.channels.slack import setup
from bot.channels.slack.approvals_actions import REASON_BLOCK, REASON_INPUT, REJECT_VIEW
from bot.channels.slack.inbox import GRACE
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.keys import RUNTIME
from handlers.types import Reply
from storage.models import ProcessedDelivery
from storage.slack_models import SlackInboxEntry
from tests.clock import FakeClock
from tests.slack.helpers import (
    AGENT1,
    DM,
    FORM,
    SlackEnv,
    customer_lines,
    dm_event,
    event_body,
    open_request,
    signed,
    status_of,
)


async def _inbox(runtime: Runtime) -> list[SlackInboxEntry]:
    async with runtime.db.sessions() as session:
        return list((await session.scalars(select(SlackInboxEntry))).all())


async def _processed(runtime: Runtime) -> list[str]:
    async with runtime.db.sessions() as session:
        return list((await session.scalars(select(ProcessedDelivery.key))).all())


async def test_the_event_is_acknowledged_before_the_slow_work(slack: SlackEnv) -> None:
    slack.api.hold = asyncio.Event()  # Slack's Web API stalls
    response = await asyncio.wait_for(slack.event(dm_event("Hello"), event_id="Ev0SLOW01"), 10)
    assert response.status == 200
    await slack.api.wait_for("chat.postMessage")  # the answer is on its way, not yet answered
    assert slack.dm_posts() and await customer_lines(slack.runtime) == 1
    slack.api.hold.set()
    await slack.settle()
    assert "Ev0SLOW01" in await _processed(slack.runtime)
    assert await _inbox(slack.runtime) == [], "the row leaves with the turn"


async def test_a_delivery_left_by_a_dead_process_is_worked_on_once_by_the_next(
    slack: SlackEnv, settings: Settings, clock: FakeClock
) -> None:
    await slack.channel.inbox.stop(0)  # the process dies right after acknowledging
    response = await slack.event(dm_event("Hello there"), event_id="Ev0CRASH01")
    assert response.status == 200
    (left,) = await _inbox(slack.runtime)
    assert (left.key, left.kind, left.payload["text"]) == ("Ev0CRASH01", "dm", "Hello there")
    assert slack.dm_posts() == [] and await customer_lines(slack.runtime) == 0

    restarted = Runtime.build(settings, clock=clock)
    app = web.Application()
    app[RUNTIME] = restarted
    channel = setup(app, restarted, sync_interval=None, sweep_interval=None)
    assert channel is not None
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            assert await channel.inbox.sweep() == 0, "not before GRACE: it may still be worked on"
            clock.advance(seconds=GRACE.total_seconds() + 1)
            sweeps = await asyncio.gather(channel.inbox.sweep(), channel.inbox.sweep())
            assert sorted(sweeps) == [0, 1], "one sweep takes it"
            await channel.inbox.idle()
            await restarted.tasks.drain()
            body = event_body(dm_event("Hello there"), "Ev0CRASH01")
            retry = await client.post(
                "/slack/events", data=body, headers=signed(body, "application/json")
            )
            assert retry.status == 200
            await channel.inbox.idle()
    finally:
        await restarted.close()
    assert len(slack.dm_posts()) >= 1, "the customer got the answer"
    assert await customer_lines(slack.runtime) == 1, "one turn"
    assert await _inbox(slack.runtime) == []
    assert (await _processed(slack.runtime)).count("Ev0CRASH01") == 1


async def test_a_turn_the_database_failed_is_tried_again_by_the_sweep(
    slack: SlackEnv, clock: FakeClock
) -> None:
    router = slack.runtime.router
    original = router.handle
    failures = 0

    async def unavailable(*args: Any, **kwargs: Any) -> list[Reply]:
        nonlocal failures
        failures += 1
        raise OperationalError("SELECT", {}, OSError("connection refused"))

    router.handle = unavailable  # type: ignore[method-assign]
    try:
        assert (await slack.event(dm_event("Hello"), event_id="Ev0DBDOWN1")).status == 200
        await slack.settle()
    finally:
        router.handle = original  # type: ignore[method-assign]
    assert failures == 1 and slack.dm_posts() == [], "no apology for an outage: a retry"
    assert [row.key for row in await _inbox(slack.runtime)] == ["Ev0DBDOWN1"]
    clock.advance(seconds=GRACE.total_seconds() + 1)
    assert await slack.channel.inbox.sweep() == 1
    await slack.settle()
    assert len(slack.dm_posts()) >= 1 and await customer_lines(slack.runtime) == 1
    assert await _inbox(slack.runtime) == []


async def test_a_reply_goes_to_the_thread_the_customer_wrote_in(slack: SlackEnv) -> None:
    thread = "1700000000.000900"
    event = dm_event("Hello, what can you do?", thread_ts=thread, parent_user_id="UCUSTOMER1")
    assert (await slack.event(event)).status == 200
    await slack.settle()
    posts = slack.dm_posts()
    assert posts and all(p.get("thread_ts") == thread for p in posts)
    top = await slack.dm("I want to delete my account")
    assert top and "thread_ts" not in slack.dm_posts()[-1], "a top-level message: top level"
    click = await slack.click("reply_button_0", "cancel", user="UCUSTOMER1", channel=DM)
    assert click.status == 200
    await slack.settle()
    assert "thread_ts" not in slack.dm_posts()[-1]


async def test_a_button_in_a_thread_is_answered_in_that_thread(slack: SlackEnv) -> None:
    thread = "1700000000.000777"
    await slack.event(dm_event("I want to delete my account", thread_ts=thread))
    await slack.settle()
    payload = {
        "type": "block_actions",
        "user": {"id": "UCUSTOMER1"},
        "trigger_id": "t-thread",
        "channel": {"id": DM},
        "container": {
            "type": "message",
            "channel_id": DM,
            "message_ts": "1.1",
            "thread_ts": thread,
        },
        "message": {"ts": "1.1", "thread_ts": thread, "blocks": []},
        "actions": [{"type": "button", "action_id": "reply_button_1", "value": "cancel"}],
    }
    assert (await slack.interact(payload)).status == 200
    await slack.settle()
    assert slack.dm_posts()[-1]["thread_ts"] == thread


async def test_a_stale_button_is_answered_no_longer_open_whatever_its_value(
    slack: SlackEnv,
) -> None:
    for value in ("cancel", "confirm", "access"):  # nothing was offered yet
        texts = await slack.press(value)
        assert len(texts) == 1 and "no longer open" in texts[0], (value, texts)
    assert await customer_lines(slack.runtime) == 0, "no turn ran"
    await slack.dm("I want to delete my account")  # offers confirm and cancel
    lines = await customer_lines(slack.runtime)
    texts = await slack.press("access")  # a button of an earlier answer
    assert len(texts) == 1 and "no longer open" in texts[0]
    assert await customer_lines(slack.runtime) == lines
    texts = await slack.press("cancel")  # on the latest answer: the customer's answer
    assert any("stopped" in t for t in texts), texts


async def test_a_text_over_the_limit_is_answered_too_long_in_the_customers_language(
    slack: SlackEnv,
) -> None:
    await slack.dm("Hej, hvad kan du hjælpe med?")
    lines = await customer_lines(slack.runtime)
    texts = await slack.dm("ø" * 4001)
    assert len(texts) == 1 and "for lang" in texts[0] and "4.001" in texts[0], texts
    assert await customer_lines(slack.runtime) == lines, "not cut and answered: not a turn"
    texts = await slack.dm("x" * 6000, channel="D0NEWCOMER", user="UNEW")
    assert len(texts) == 1 and "too long" in texts[0] and "6,000" in texts[0], texts


async def test_a_file_without_words_gets_the_text_only_note(slack: SlackEnv) -> None:
    event = dm_event("", subtype="file_share", files=[{"id": "F111", "name": "scan.png"}])
    assert (await slack.event(event)).status == 200
    await slack.settle()
    (post,) = slack.dm_posts()
    assert "only read text" in post["text"]
    texts = await slack.dm("")  # a caption-less share, read as text: the same note
    assert texts == [] or "only read text" in texts[0]
    shared = dm_event("Here is my question", subtype="file_share", files=[{"id": "F2"}])
    assert (await slack.event(shared)).status == 200
    await slack.settle()
    assert await customer_lines(slack.runtime) == 1, "a caption is read as the message"


async def test_a_submission_whose_metadata_is_not_our_modals_is_ignored_before_storing(
    slack: SlackEnv,
) -> None:
    request = await open_request(slack.runtime, "erasure")
    values = {REASON_BLOCK: {REASON_INPUT: {"type": "plain_text_input", "value": "No basis"}}}
    for metadata in ("[1, 2]", '"PR-XXXXXX"', "42", "null", "true", "not json", "{}"):
        body = _submission(values, metadata, trigger=f"t-{metadata[:4]}")
        response = await slack.post(body, FORM)
        assert response.status == 200, (metadata, await response.text())
    await slack.settle()
    assert await _inbox(slack.runtime) == [] and await _processed(slack.runtime) == []
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"
    meta = json.dumps({"reference": request.reference, "channel": "C0APPROVALS"})
    for retry in range(2):  # the real modal, delivered twice: rejected once
        response = await slack.post(_submission(values, meta, trigger="t-real"), FORM)
        assert response.status == 200, retry
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "rejected"


def _submission(values: dict[str, Any], metadata: str, *, trigger: str) -> str:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEAM"},
        "user": {"id": AGENT1, "team_id": "T0TEAM"},
        "api_app_id": "A0APP",
        "trigger_id": trigger,
        "view": {
            "id": f"V{trigger}",
            "type": "modal",
            "callback_id": REJECT_VIEW,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_a_row_stored_for_an_event_already_processed_is_only_removed(
    slack: SlackEnv, clock: FakeClock
) -> None:
    """A retry stored while the first delivery's turn committed: the sweep drops it."""
    await slack.dm("Hello")
    (key,) = await _processed(slack.runtime)
    posts = len(slack.dm_posts())
    async with slack.runtime.db.transaction() as session:
        session.add(
            SlackInboxEntry(
                key=key,
                kind="dm",
                payload={"channel": DM, "user": "UCUSTOMER1", "text": "Hello"},
                received_at=clock(),
                attempts=0,
            )
        )
    clock.advance(seconds=GRACE.total_seconds() + 1)
    assert await slack.channel.inbox.sweep() == 0
    await slack.settle()
    assert await _inbox(slack.runtime) == []
    assert len(slack.dm_posts()) == posts and await customer_lines(slack.runtime) == 1


async def test_a_row_that_keeps_failing_is_given_up_after_its_attempts(
    slack: SlackEnv, clock: FakeClock
) -> None:
    async with slack.runtime.db.transaction() as session:
        session.add(
            SlackInboxEntry(
                key="Ev0POISON1", kind="no-such-kind", payload={}, received_at=clock(), attempts=0
            )
        )
    clock.advance(seconds=GRACE.total_seconds() + 1)
    assert await slack.channel.inbox.sweep() == 0
    assert await _inbox(slack.runtime) == [] and "Ev0POISON1" in await _processed(slack.runtime)
