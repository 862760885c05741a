"""PostgreSQL goes away while a web process and a worker run, then comes back.

The processes reach the database through `PgProxy`; the outage cuts their connections
and refuses new ones (the shared server itself is never stopped). The agent's approval
arrives during the outage on a path that still works (the test's own connection), so
the worker has work it cannot claim until the database is back. Checked in numbers:
503s with Retry-After while it is away, /readyz not ready, the worker backing off with
growing waits, then everything resumed and nothing accepted before lost or doubled.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Conversation, TranscriptMessage
from storage.privacy_models import PrivacyRequest
from storage.types import utcnow
from tests.faults.pgproxy import PgProxy
from tests.faults.processes import BotProcess, Fleet, wait_until
from tests.faults.scenario import (
    Opened,
    approve,
    customer_lines,
    outcome,
    request_status,
    scalar,
)
from tests.slack.helpers import DM, SIGNING, dm_event, event_body, signed
from tests.slack.standin import BOT_TOKEN, SlackStandIn
from tests.workflow.conftest import account_id, open_request

pytestmark = pytest.mark.postgres

BEN = "ben@example.com"
JSON = "application/json"


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()
    await standin.start()
    yield standin
    await standin.close()
    assert standin.refused == [], "the bot sent calls Slack would refuse"


async def _chat_open(http: aiohttp.ClientSession, web: BotProcess) -> tuple[str, str]:
    async with http.post(f"{web.url}/webchat/api/conversations", json={"locale": "en"}) as r:
        assert r.status == 201
        body = await r.json()
    return body["conversation_id"], body["token"]


async def _chat_send(
    http: aiohttp.ClientSession, web: BotProcess, chat: tuple[str, str], **body: str
) -> tuple[int, dict[str, Any], str | None]:
    url = f"{web.url}/webchat/api/conversations/{chat[0]}/messages"
    headers = {"Authorization": f"Bearer {chat[1]}"}
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


async def _slack_event(
    http: aiohttp.ClientSession, web: BotProcess, body: str, retry: int | None = None
) -> int:
    headers = signed(body, JSON)
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"}
    async with http.post(f"{web.url}/slack/events", data=body, headers=headers) as response:
        return response.status


async def _readyz(http: aiohttp.ClientSession, web: BotProcess) -> tuple[int, dict[str, Any]]:
    async with http.get(f"{web.url}/readyz") as response:
        return response.status, await response.json()


def _backoff_waits(log: str) -> list[float]:
    """The waits the worker's claim loop announced while the database was away."""
    waits = []
    for line in log.splitlines():
        if "claim or finish failed" in line:
            found = re.search(r"next try in ([0-9.]+)s", json.loads(line)["message"])
            assert found is not None
            waits.append(float(found.group(1)))
    return waits


async def test_database_outage_503s_backs_off_and_resumes_with_nothing_lost(
    pg: Database,
    pg_url: str,
    proxy: PgProxy,
    fleet: Fleet,
    http: aiohttp.ClientSession,
    slack_api: SlackStandIn,
) -> None:
    via_proxy = proxy.url_for(pg_url)
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_API_URL": slack_api.url,
    }
    web = fleet.web("web", DATABASE_URL=via_proxy, **slack)
    worker = fleet.worker("worker", DATABASE_URL=via_proxy)
    await web.wait_ready(http)
    await worker.wait_log("worker started")

    # accepted before the outage: a web chat turn and a request waiting for approval
    chat = await _chat_open(http, web)
    status, _reply, _ = await _chat_send(http, web, chat, text="Hello")
    assert status == 200
    account = await account_id(pg, BEN)
    request = await open_request(
        pg, "access", now=utcnow(), account=account, conversation_id=chat[0]
    )
    assert await request_status(pg, request.id) == "awaiting_approval"

    cut = proxy.outage()
    assert cut > 0, "the processes held connections that are now gone"

    # while the database is away
    status, body = await _readyz(http, web)
    assert (status, body["ready"], body["database"]) == (503, False, "unreachable")
    async with http.get(f"{web.url}/healthz") as response:
        assert response.status == 200, "alive, just not ready"
    async with http.get(f"{web.url}/metrics") as response:
        assert response.status == 200, "a scrape still answers"
        assert "privacybot_database_up 0.0" in await response.text()
    status, error, retry_after = await _chat_send(http, web, chat, text="Are you there?")
    assert (status, retry_after) == (503, "5")
    assert error == {"error": "The service is temporarily unavailable. Please try again shortly."}
    async with http.post(f"{web.url}/webchat/api/conversations", json={}) as response:
        assert response.status == 503
    slack_body = event_body(dm_event("I want a copy of my data"), "EvOUTAGE0001")
    assert await _slack_event(http, web, slack_body) == 503, "so Slack delivers it again"
    await approve(pg, request.reference)  # the agent's decision, on a path still working
    await worker.wait_log("claim or finish failed", count=3)
    waits = _backoff_waits(worker.log())
    assert waits == sorted(waits) and waits[-1] > waits[0], f"backing off: {waits}"
    assert await request_status(pg, request.id) == "approved", "nothing ran while away"
    refused = proxy.refused
    assert refused > 0

    proxy.restore()

    async def ready() -> bool:
        return (await _readyz(http, web))[0] == 200

    await wait_until(ready, "/readyz to be ready again")
    status, _reply, _ = await _chat_send(http, web, chat, text="Are you there?")
    assert status == 200, "the customer's retry goes through"
    assert await _slack_event(http, web, slack_body, retry=1) == 200
    assert await _slack_event(http, web, slack_body, retry=2) == 200, "a duplicate is acked"

    async def done() -> bool:
        return (await outcome(pg, _opened(request, chat[0], account))).completed_notices == [
            "delivered"
        ]

    await wait_until(done, "the approved request to be carried out and notified")

    async def slack_answered() -> bool:
        return bool(slack_api.to("chat.postMessage", channel=DM))

    await wait_until(slack_answered, "the bot to answer the Slack DM")
    web.signal(signal.SIGTERM)
    worker.signal(signal.SIGTERM)
    assert await web.exit_code() == 0
    assert await worker.exit_code() == 0

    # the final data
    assert await customer_lines(pg, chat[0]) == ["Hello", "Are you there?"]
    async with pg.sessions() as session:
        slack_ids = list(
            await session.scalars(select(Conversation.id).where(Conversation.channel == "slack"))
        )
    assert len(slack_ids) == 1
    assert await customer_lines(pg, slack_ids[0]) == ["I want a copy of my data"]
    answers = slack_api.to("chat.postMessage", channel=DM)
    assert len(answers) == 1, "the DM Slack delivered three times is answered once"
    result = await outcome(pg, _opened(request, chat[0], account))
    assert result.status == "completed"
    assert result.actions == [("done", 1)], "claimed once, after the outage"
    assert result.action_done_audits == 1
    assert result.completed_audits == 1
    assert result.completed_notices == ["delivered"]
    assert result.transcript_notices == 1
    transcript = await scalar(
        pg,
        select(func.count())
        .select_from(TranscriptMessage)
        .where(TranscriptMessage.conversation_id == chat[0]),
    )
    print(
        f"\noutage: {cut} connections cut, {refused} refused; worker waits {waits}; "
        f"Slack answers {len(answers)}; web chat transcript {transcript} messages"
    )


def _opened(request: PrivacyRequest, conversation_id: str, account: int) -> Opened:
    return Opened(request.reference, request.id, conversation_id, account)
