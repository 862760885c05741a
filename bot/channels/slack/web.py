"""Mount Slack in the web process: POST /slack/events, the inbox, the notification
sender, the approvals sync loop.

The request goes to bolt through bolt's own aiohttp adapter. Two things are checked
first, because bolt would answer them with a 500: a body that is not UTF-8 or not a
JSON or form body (400), and an `X-Slack-Request-Timestamp` that is not a number
(401, like any other failed signature). A signed request no listener claims is still
acknowledged (200). Nothing is mounted unless SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
are set. At shutdown the inbox finishes what it can, the sync loop stops, and the
sender is unregistered and the rest drained (`kit.senders`). Web API calls share one
pooled HTTP session.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.kit import senders
from bot.channels.slack import dm
from bot.channels.slack.app import build_app
from bot.channels.slack.context import CHANNEL, Slack, is_configured
from bot.channels.slack.housekeeping import INTERVAL, run_periodically
from bot.channels.slack.inbox import SWEEP_SECONDS
from bot.runtime import Runtime
from bot.web.errors import json_error

log = logging.getLogger(__name__)

PATH = "/slack/events"
SLACK: web.AppKey[Slack] = web.AppKey("slack", Slack)
BOLT_APP: web.AppKey[AsyncApp] = web.AppKey("slack_bolt_app", AsyncApp)
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def _bad_timestamp(value: str | None) -> bool:
    """Not a plain number of seconds (bolt would fail on int() of it)."""
    return value is None or not (0 < len(value) <= 12 and value.isascii() and value.isdigit())


async def handle(request: web.Request) -> web.Response:
    """POST /slack/events: Events API, interactivity and slash commands on one URL."""
    try:
        (await request.read()).decode("utf-8")
        bolt_request = await to_bolt_request(request)
    except (UnicodeDecodeError, ValueError, AttributeError, TypeError, KeyError):
        # not UTF-8, not JSON, or a shape bolt cannot read (unsigned or not, it is no
        # Slack request)
        return json_error(400, "The body must be a Slack event, interaction or command.")
    if not isinstance(bolt_request.body, dict):
        return json_error(400, "The body must be a Slack event, interaction or command.")
    if _bad_timestamp(request.headers.get(TIMESTAMP_HEADER)):
        return json_error(401, "Missing or malformed Slack request timestamp.")
    response = await to_aiohttp_response(await request.app[BOLT_APP].async_dispatch(bolt_request))
    if response.status == 404:  # signed (bolt answers 401 first) and wanted by no listener
        log.info("slack %s acknowledged, no listener", bolt_request.body.get("type"))
        return web.Response(status=200)
    return response


def setup(
    app: web.Application,
    runtime: Runtime,
    *,
    client: AsyncWebClient | None = None,
    sync_interval: float | None = INTERVAL,
    sweep_interval: float | None = SWEEP_SECONDS,
) -> Slack | None:
    """Add POST /slack/events and the Slack background work; None when Slack is off.

    `sync_interval=None` leaves out the periodic approvals sync, `sweep_interval=None`
    the inbox's periodic sweep (tests run both themselves).
    """
    if not is_configured(runtime.settings):
        return None
    slack = Slack.build(runtime, client)
    app[SLACK] = slack
    app[BOLT_APP] = build_app(slack)
    app.router.add_post(PATH, handle)
    stop = asyncio.Event()
    loops: list[asyncio.Task[None]] = []
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
        slack.inbox.start(sweep_every=sweep_interval)
        if sync_interval is not None and slack.approvals_channel:
            loops.append(
                asyncio.create_task(
                    run_periodically(slack, stop, sync_interval), name="slack-approvals-sync"
                )
            )

    async def shutdown(_app: web.Application) -> None:
        stop.set()
        await slack.inbox.stop(senders.DRAIN_SECONDS)
        for task in loops:
            await task

    async def cleanup(_app: web.Application) -> None:
        for session in owned:  # a late call finds it closed and uses a session of its own
            await session.close()

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    senders.mount(
        app, CHANNEL, lambda: dm.notification_sender(runtime.db, slack.client), runtime.tasks
    )
    app.on_cleanup.append(cleanup)
    return slack
