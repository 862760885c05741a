"""`GET /dev/outbox`: the demo outbox, newest first (mounted only in demo mode).

In demo mode one-time codes are not sent; the operator reads them here. The page
(template `dev/outbox.html`) has no external assets (inline CSS only, a
Content-Security-Policy that forbids everything else), every value is escaped by the
template, and it refreshes itself every few seconds.
`?format=json` answers the same JSON array as `privacybot outbox --json` (oldest first).
"""

from __future__ import annotations

from aiohttp import web

import locales
from bot.notifier.outbox import DEFAULT_LIMIT, MAX_LIMIT, recent
from bot.web.keys import RUNTIME
from bot.web.templating import render_page

routes = web.RouteTableDef()

REFRESH_SECONDS = 5
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise web.HTTPBadRequest(reason=f"limit must be a number from 1 to {MAX_LIMIT}")
    return int(raw)


@routes.get("/dev/outbox")
async def dev_outbox(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    if not runtime.settings.demo:  # the route is only mounted in demo mode; belt and braces
        raise web.HTTPNotFound()
    entries = await recent(runtime.db, _limit(request))
    if request.query.get("format") == "json":
        return web.json_response(
            [entry.to_json() for entry in entries], headers={"Cache-Control": "no-store"}
        )
    with locales.use(request.headers.get("Accept-Language")) as language:
        page = render_page(
            request,
            "dev/outbox.html",
            {"entries": entries, "language": language, "refresh": REFRESH_SECONDS},
        )
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=_HEADERS)
