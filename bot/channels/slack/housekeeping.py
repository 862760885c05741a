"""The approvals channel's upkeep: message sync and agent alerts, now and periodically.

`sync_approvals` is what the web process runs every `INTERVAL` seconds, what runs right
after a decision (for that request) and what `privacybot slack sync` runs for ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import agent_alerts, approvals_sync
from bot.channels.slack.context import Slack, make_client
from bot.runtime import Runtime

log = logging.getLogger(__name__)

INTERVAL = 15.0


@dataclass(slots=True)
class Synced:
    posted: int = 0
    updated: int = 0
    alerts: int = 0


async def sync_approvals(runtime: Runtime, client: AsyncWebClient | None = None) -> Synced:
    """Post and update approval messages and deliver pending agent alerts."""
    channel = runtime.settings.slack_approvals_channel
    if not channel:
        return Synced()
    client = client or make_client(runtime.settings)
    now = runtime.services.clock()
    result = await approvals_sync.sync(
        runtime.db, client, channel, now, policy=runtime.services.policy
    )
    alerts = await agent_alerts.deliver(runtime.db, client, channel, now)
    return Synced(result.posted, result.updated, alerts)


async def sync_request(slack: Slack, request_id: int) -> None:
    """Bring one request's message up to date (after a decision); never raises."""
    if not slack.approvals_channel:
        return
    try:
        await approvals_sync.sync(
            slack.db,
            slack.client,
            slack.approvals_channel,
            slack.now(),
            policy=slack.runtime.services.policy,
            request_id=request_id,
        )
    except Exception as exc:  # the periodic sync will try again
        log.warning("approval message sync failed: %s", type(exc).__name__)


async def run_periodically(slack: Slack, stop: asyncio.Event, interval: float = INTERVAL) -> None:
    """Sync until `stop` is set; an error is logged (type only) and the loop goes on."""
    while not stop.is_set():
        try:
            await sync_approvals(slack.runtime, slack.client)
        except Exception as exc:  # database or Slack down: next round
            log.warning("approvals channel sync failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
