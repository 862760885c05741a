"""The aiohttp application factory: one app serves the page, the APIs and the webhooks."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.channels import slack, telegram, webchat
from bot.runtime import Runtime
from bot.web import agent, dev_outbox, downloads, health, metrics, referral_ack
from bot.web.errors import error_middleware
from bot.web.keys import RUNTIME

STATIC = Path(__file__).resolve().parent / "static"


async def _index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, webchat.rate_limit_middleware],
        client_max_size=webchat.MAX_BODY,
    )
    app[RUNTIME] = runtime
    app[webchat.LIMITS] = webchat.Limits()
    app.add_routes(health.routes)
    app.add_routes(metrics.routes)
    app.add_routes(webchat.routes)
    app.add_routes(downloads.routes)
    app.add_routes(referral_ack.routes)  # the account holder confirms a forwarded request
    slack.setup(app, runtime)
    telegram.setup(app, runtime)  # only when TELEGRAM_BOT_TOKEN and _WEBHOOK_SECRET are set
    agent.setup(app)  # the agent console at /agent
    if runtime.settings.demo:  # the demo outbox page exists only in demo mode
        app.add_routes(dev_outbox.routes)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC)

    async def _close(_app: web.Application) -> None:
        await runtime.close()

    app.on_cleanup.append(_close)
    return app
