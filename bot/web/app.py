"""The aiohttp application factory: one app serves the page, the APIs and the webhooks."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.channels import slack, telegram, webchat
from bot.runtime import Runtime
from bot.web import (
    agent,
    chat_page,
    dev_outbox,
    downloads,
    health,
    metrics,
    referral_ack,
    templating,
)
from bot.web.client import TRUSTED_PROXIES
from bot.web.deadline import DEADLINE, deadline_middleware
from bot.web.errors import error_middleware
from bot.web.keys import RUNTIME
from bot.web.ratelimit import CLIENT_LIMIT, client_limit_middleware, webchat_limiter
from bot.web.security import security_headers

STATIC = Path(__file__).resolve().parent / "static"


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        # outermost first: headers on every answer, then the deadline (a 503 in time even
        # when the database hangs), then errors as JSON, then the limit per client
        middlewares=[
            security_headers,
            deadline_middleware,
            error_middleware,
            client_limit_middleware,
        ],
        client_max_size=webchat.MAX_BODY,
    )
    app[RUNTIME] = runtime
    app[DEADLINE] = runtime.settings.web_request_timeout
    app[TRUSTED_PROXIES] = runtime.settings.trusted_proxy_networks()
    app[CLIENT_LIMIT] = webchat_limiter()
    app[webchat.LIMITS] = webchat.Limits()
    templating.setup(app)
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
    app.add_routes(chat_page.routes)
    app.router.add_static("/static/", STATIC)

    async def _close(_app: web.Application) -> None:
        await runtime.close()

    app.on_cleanup.append(_close)
    return app
