"""Socket Mode: the same listeners over a WebSocket Slack opens to us (SLACK_APP_TOKEN).

For local development and hosts without a public HTTPS URL. The process also runs the
approvals sync and the Slack notification sender, like the web process does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot import delivery
from bot.channels.slack import dm
from bot.channels.slack.app import build_app
from bot.channels.slack.context import CHANNEL, Slack
from bot.channels.slack.housekeeping import INTERVAL, run_periodically
from bot.runtime import Runtime

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0


async def run_socket_mode(runtime: Runtime, stop: asyncio.Event) -> None:
    """Connect, serve until `stop` is set, then close the socket and finish in-flight work."""
    token = runtime.settings.slack_app_token
    if token is None:
        raise ValueError("SLACK_APP_TOKEN is not set")
    slack = Slack.build(runtime)
    handler = AsyncSocketModeHandler(
        build_app(slack, socket_mode=True), token.get_secret_value(), logger=log
    )
    delivery.register_sender(CHANNEL, dm.notification_sender(runtime.db, slack.client))
    sync = asyncio.create_task(run_periodically(slack, stop, INTERVAL), name="slack-sync")
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode")
        await stop.wait()
    finally:
        stop.set()
        await handler.close_async()  # type: ignore[no-untyped-call]
        await sync
        delivery.unregister_sender(CHANNEL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.tasks.drain(), timeout=DRAIN_SECONDS)
