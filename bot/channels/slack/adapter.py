"""aiohttp ↔ bolt: the raw request in, bolt's response out. Nothing else happens here.

The body is passed as the exact text Slack signed: bolt's first middleware verifies
`X-Slack-Signature` over it (and the timestamp's age) and answers 401 when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.web.errors import RETRY_AFTER, json_error
from bot.web.health import database_reachable
from bot.web.keys import RUNTIME

PATH = "/slack/events"
BOLT_APP: web.AppKey[AsyncApp] = web.AppKey("slack_bolt_app", AsyncApp)


async def to_bolt_request(request: web.Request) -> AsyncBoltRequest:
    headers: dict[str, str | Sequence[str]] = {
        name.lower(): request.headers.getall(name) for name in request.headers
    }
    return AsyncBoltRequest(body=await request.text(), query=request.query_string, headers=headers)


def to_aiohttp_response(response: BoltResponse) -> web.Response:
    headers = response.first_headers_without_set_cookie()
    content_type = headers.pop("content-type", "text/plain").split(";", 1)[0]
    return web.Response(
        status=response.status,
        body=(response.body or "").encode(),
        content_type=content_type,
        charset="utf-8",
        headers=headers,
    )


async def handle(request: web.Request) -> web.Response:
    """POST /slack/events: Events API, interactivity and slash commands on one URL.

    A listener that failed because the database is away answers 503, so Slack retries
    the delivery once it is back (the retry carries the same event id: no duplicate).
    """
    bolt_request = await to_bolt_request(request)
    response = to_aiohttp_response(await request.app[BOLT_APP].async_dispatch(bolt_request))
    if response.status >= 500 and not await database_reachable(request.app[RUNTIME].db):
        return json_error(
            503, "The service is temporarily unavailable.", {"Retry-After": RETRY_AFTER}
        )
    return response
