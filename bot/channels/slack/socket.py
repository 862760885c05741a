"""Socket Mode: the same listeners over a WebSocket Slack opens to us (SLACK_APP_TOKEN).

For local development and hosts without a public HTTPS URL. The process also runs the
inbox, the approvals sync and the Slack notification sender, like the web process does.
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.channels.kit import senders
from bot.channels.slack import dm
from bot.channels.slack.app import build_app
from bot.channels.slack.context import CHANNEL, Slack
from bot.channels.slack.housekeeping import INTERVAL, run_periodically
from bot.runtime import Runtime

log = logging.getLogger(__name__)


async def run_socket_mode(runtime: Runtime, stop: asyncio.Event) -> None:
    """Connect, serve until `stop` is set, then close the socket and finish in-flight work."""
    token = runtime.settings.slack_app_token
    if token is None:
        raise ValueError("SLACK_APP_TOKEN is not set")
    slack = Slack.build(runtime)
    handler = AsyncSocketModeHandler(
        build_app(slack, socket_mode=True), token.get_secret_value(), logger=log
    )
    sender = dm.notification_sender(runtime.db, slack.client)
    async with senders.sending(CHANNEL, sender, runtime.tasks):
        slack.inbox.start()
        sync = asyncio.create_task(run_periodically(slack, stop, INTERVAL), name="slack-sync")
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack over Socket Mode")
            await stop.wait()
        finally:
            stop.set()
            await handler.close_async()  # type: ignore[no-untyped-call]
            await sync
            await slack.inbox.stop(senders.DRAIN_SECONDS)
