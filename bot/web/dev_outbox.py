"""`GET /dev/outbox`: the demo outbox, newest first (mounted only in demo mode).

In demo mode one-time codes are not sent; the operator reads them here. The page has no
external assets (inline CSS only, a Content-Security-Policy that forbids everything
else), every value is HTML-escaped, and it refreshes itself every few seconds.
`?format=json` answers the same JSON array as `privacybot outbox --json` (oldest first).
"""

from __future__ import annotations

from html import escape

from aiohttp import web

import locales
from bot.notifier.outbox import DEFAULT_LIMIT, MAX_LIMIT, Entry, recent
from bot.web.keys import RUNTIME
from locales import _

routes = web.RouteTableDef()

REFRESH_SECONDS = 5
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid #ddd}"
    "td.text{white-space:pre-wrap}"
    ".muted{color:#777}"
)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise web.HTTPBadRequest(reason=f"limit must be a number from 1 to {MAX_LIMIT}")
    return int(raw)


def _row(entry: Entry) -> str:
    status = {
        "pending": _("pending"),
        "sent": _("sent"),
        "failed": _("failed"),
    }.get(entry.status, entry.status)
    channel = _("SMS") if entry.channel == "sms" else _("Email")
    text = (
        escape(entry.text) if entry.text else f'<span class="muted">{escape(_("(empty)"))}</span>'
    )
    subject = f"<strong>{escape(entry.subject)}</strong>\n" if entry.subject else ""
    return (
        "<tr>"
        f"<td>{escape(locales.format_datetime(entry.created_at))}</td>"
        f"<td>{escape(channel)}</td>"
        f"<td>{escape(entry.to)}</td>"
        f'<td class="text">{subject}{text}</td>'
        f"<td>{escape(status)}</td>"
        "</tr>"
    )


def render(entries: list[Entry]) -> str:
    """The page, newest first."""
    title = _("Demo outbox")
    intro = _(
        "Demo mode: nothing is sent. The SMS and emails the bot would send, such as "
        "one-time codes, are shown here instead. The page refreshes every {seconds} seconds."
    ).format(seconds=REFRESH_SECONDS)
    if entries:
        head = "".join(
            f"<th>{escape(label)}</th>"
            for label in (_("Created"), _("Channel"), _("To"), _("Message"), _("Status"))
        )
        body = "".join(_row(entry) for entry in reversed(entries))
        listing = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    else:
        listing = f'<p class="muted">{escape(_("The outbox is empty."))}</p>'
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(locales.current())}"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(intro)}</p>{listing}</body></html>\n"
    )


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
    with locales.use(request.headers.get("Accept-Language")):
        page = render(entries)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=_HEADERS)
