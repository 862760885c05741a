"""Socket Mode: the same listeners over a WebSocket (the stand-in plays Slack's side)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.channels.slack.socket import run_socket_mode
from bot.runtime import Runtime
from tests.slack.helpers import DM, customer_lines, dm_event, event_body
from tests.slack.standin import APP_TOKEN, SlackStandIn


@pytest.mark.parametrize("slack_overrides", [{"slack_app_token": APP_TOKEN}])
async def test_a_dm_over_socket_mode_is_acknowledged_and_answered_once(
    runtime: Runtime, slack_api: SlackStandIn
) -> None:
    event = json.loads(event_body(dm_event("Hello"), event_id="Ev0SOCKET1"))
    envelope: dict[str, Any] = {
        "type": "events_api",
        "accepts_response_payload": False,
        "payload": event,
    }
    slack_api.envelopes = [
        {**envelope, "envelope_id": "env-1"},
        {**envelope, "envelope_id": "env-2", "retry_attempt": 1},  # Slack's retry
    ]
    stop = asyncio.Event()
    serving = asyncio.create_task(run_socket_mode(runtime, stop))
    await asyncio.wait_for(slack_api.all_acked.wait(), timeout=10)
    await runtime.tasks.drain()
    stop.set()
    await asyncio.wait_for(serving, timeout=10)
    assert sorted(a["envelope_id"] for a in slack_api.acks) == ["env-1", "env-2"]
    assert len(slack_api.to("apps.connections.open")) == 1
    assert slack_api.to("chat.postMessage", channel=DM), "the customer was answered"
    assert await customer_lines(runtime) == 1, "the retried envelope ran no second turn"
