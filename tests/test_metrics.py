"""`/metrics` speaks Prometheus: messages by channel, requests by kind and status, queue
depth and age, action durations, overdue requests, retention rows processed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.runtime import Runtime
from tests.clock import FakeClock
from tests.webchat import WebChat
from tests.workflow.conftest import account_id, agent, make_deps, open_request
from workflow import decisions, retention_runs, worker


async def _samples(
    client: TestClient[Any, Any],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_web_chat_messages_are_counted(client: TestClient[Any, Any]) -> None:
    key = ("privacybot_messages_total", (("channel", "webchat"),))
    before = (await _samples(client)).get(key, 0.0)
    chat = await WebChat.open(client)
    await chat.send(button="handover")
    await chat.send(button="handover")
    after = await _samples(client)
    assert after[key] == before + 2
    assert after[("privacybot_turn_seconds_count", ())] >= 2


async def test_a_message_sent_again_is_counted_as_resent(client: TestClient[Any, Any]) -> None:
    key = ("privacybot_messages_resent_total", (("channel", "webchat"),))
    before = (await _samples(client)).get(key, 0.0)
    chat = await WebChat.open(client)
    await chat.send("hello", client_id="msg-0001-aaaa")
    assert (await _samples(client)).get(key, 0.0) == before  # the first time is no resend
    await chat.send("hello", client_id="msg-0001-aaaa")
    assert (await _samples(client))[key] == before + 1


async def test_requests_queue_overdue_actions_and_retention_are_measured(
    client: TestClient[Any, Any], runtime: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    db = runtime.db
    account = await account_id(db, "ben@example.com")
    waiting = await open_request(db, "access", now=clock(), account=account)
    erasure = await open_request(db, "erasure", now=clock(), account=account)
    async with db.transaction() as session:
        await decisions.approve(session, erasure.reference, agent("agent-ida"), clock())
    clock.advance(seconds=90)
    samples = await _samples(client)
    assert samples[("privacybot_database_up", ())] == 1
    assert (
        samples[("privacybot_requests", (("kind", "access"), ("status", "awaiting_approval")))] == 1
    )
    assert samples[("privacybot_requests", (("kind", "erasure"), ("status", "approved")))] == 1
    assert samples[("privacybot_queue_depth", ())] == 1
    assert samples[("privacybot_queue_oldest_age_seconds", ())] == 90
    assert samples[("privacybot_requests_overdue", ())] == 0

    key = ("privacybot_action_seconds_count", (("kind", "erasure"),))
    before = samples.get(key, 0.0)
    deps = make_deps(db, clock, tmp_path)
    deps.observe = metrics.observe_action
    assert await worker.run_worker(deps, stop=asyncio.Event(), once=True) == 0
    clock.advance(days=40)  # past the access request's one-month deadline
    report = await retention_runs.run_sweep(db, clock=clock)
    assert report is not None
    samples = await _samples(client)
    assert samples[key] == before + 1
    assert samples[("privacybot_actions_total", (("kind", "erasure"), ("outcome", "done")))] >= 1
    assert samples[("privacybot_queue_depth", ())] == 0
    assert samples[("privacybot_requests", (("kind", "erasure"), ("status", "completed")))] == 1
    assert samples[("privacybot_requests_overdue", ())] == 1, waiting.reference
    anonymised = ("privacybot_retention_rows_total", (("category", "sms_messages_anonymised"),))
    assert samples[anonymised] == report.counts["sms_messages_anonymised"] > 0
