"""Mount Slack in the web process: the route, the notification sender, the sync loop.

Nothing is mounted unless SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set. At shutdown
the sync loop is stopped and in-flight Slack work is given a moment to finish before
the runtime cancels what is left. Web API calls share one pooled HTTP session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot import delivery
from bot.channels.slack import adapter, dm
from bot.channels.slack.app import build_app
from bot.channels.slack.context import CHANNEL, Slack, is_configured
from bot.channels.slack.housekeeping import INTERVAL, run_periodically
from bot.runtime import Runtime

log = logging.getLogger(__name__)

SLACK: web.AppKey[Slack] = web.AppKey("slack", Slack)
DRAIN_SECONDS = 10.0


def setup(
    app: web.Application,
    runtime: Runtime,
    *,
    client: AsyncWebClient | None = None,
    sync_interval: float | None = INTERVAL,
) -> Slack | None:
    """Add POST /slack/events and the Slack background work; None when Slack is off.

    `sync_interval=None` leaves out the periodic approvals sync (tests call it).
    """
    if not is_configured(runtime.settings):
        return None
    slack = Slack.build(runtime, client)
    app[SLACK] = slack
    app[adapter.BOLT_APP] = build_app(slack)
    app.router.add_post(adapter.PATH, adapter.handle)
    stop = asyncio.Event()
    loop_task: list[asyncio.Task[None]] = []

    owned: list[aiohttp.ClientSession] = []

    async def start(_app: web.Application) -> None:
        if slack.client.session is None:
            # One pooled HTTP session for every Web API call: without it the SDK opens a
            # new session and connection per call (a reply, a notification).
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=slack.client.timeout)
            )
            slack.client.session = session
            owned.append(session)
        delivery.register_sender(CHANNEL, dm.notification_sender(runtime.db, slack.client))
        if sync_interval is not None and slack.approvals_channel:
            loop_task.append(
                asyncio.create_task(
                    run_periodically(slack, stop, sync_interval), name="slack-approvals-sync"
                )
            )

    async def shutdown(_app: web.Application) -> None:
        stop.set()
        for task in loop_task:
            await task
        delivery.unregister_sender(CHANNEL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.tasks.drain(), timeout=DRAIN_SECONDS)
        for session in owned:  # a late call finds it closed and uses a session of its own
            await session.close()

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    return slack
