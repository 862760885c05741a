"""POST /telegram/webhook in the web process, and registering it with Telegram.

Telegram sends TELEGRAM_WEBHOOK_SECRET in `X-Telegram-Bot-Api-Secret-Token`; it is
compared in constant time (missing or wrong: 401). A body that is not a JSON object with
an integer `update_id` is 400. A body that has one is always answered 200 once handled,
even when some field in it cannot be read (`parsing`: read without that field, or
skipped), so Telegram never redelivers an update for ever. The update's turn is
committed before the answer (`bot.channels.kit.dedup`), so the webhook answers 200 once
the update is safely handled, 503 when the database is unavailable (Telegram then
delivers the update again), and the Bot API calls run in the background.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from aiogram import Bot
from aiohttp import web

from bot.channels.kit import senders
from bot.channels.telegram import notify, parsing
from bot.channels.telegram.context import (
    ALLOWED_UPDATES,
    CHANNEL,
    SECRET_HEADER,
    TELEGRAM_ERRORS,
    Telegram,
    is_configured,
)
from bot.channels.telegram.turns import DATABASE_ERRORS
from bot.channels.telegram.updates import Inbound
from bot.config import Settings, SettingsError
from bot.runtime import Runtime
from bot.web.errors import RETRY_AFTER, json_error

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
INBOUND: web.AppKey[Inbound] = web.AppKey("telegram_inbound", Inbound)
_SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the header with the configured secret."""
    raw = given.encode("utf-8", "surrogateescape")
    return bool(expected) and hmac.compare_digest(raw, expected.encode("utf-8"))


async def handle(request: web.Request) -> web.Response:
    inbound = request.app[INBOUND]
    secret = inbound.tg.settings.telegram_webhook_secret
    expected = secret.get_secret_value() if secret is not None else ""
    if not secret_matches(request.headers.get(SECRET_HEADER, ""), expected):
        return json_error(401, "Missing or wrong secret token.")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return json_error(400, "The body must be a JSON update.")
    if parsing.update_id(data) is None:
        return json_error(400, "The body must be a JSON update with an update_id.")
    update = inbound.parse(data)
    if update is None:  # logged (without its content) and skipped: Telegram stops sending it
        return web.Response(status=200)
    try:
        await inbound.process(update)
    except DATABASE_ERRORS as exc:
        log.warning("telegram update not handled, database unavailable: %s", type(exc).__name__)
        return json_error(
            503,
            "The service is temporarily unavailable. Please try again shortly.",
            {"Retry-After": RETRY_AFTER},
        )
    return web.Response(status=200)


async def register_webhook(bot: Bot, settings: Settings, *, drop_pending: bool = False) -> None:
    """setWebhook with TELEGRAM_WEBHOOK_URL, the secret and the update types we read.

    Raises ValueError when a setting is missing, aiogram's error when Telegram refuses."""
    secret = settings.telegram_webhook_secret
    if not settings.telegram_webhook_url or secret is None or not secret.get_secret_value():
        raise ValueError("set TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
    check_secret(settings)
    await bot.set_webhook(
        url=settings.telegram_webhook_url,
        secret_token=secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=drop_pending,
    )


def check_secret(settings: Settings) -> None:
    """Telegram takes 1-256 characters A-Z, a-z, 0-9, _ and - as the secret; any other
    would make every setWebhook fail, so it stops the process at start."""
    secret = settings.telegram_webhook_secret
    if secret is not None and not _SECRET_FORM.fullmatch(secret.get_secret_value()):
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET: use 1-256 characters from A-Z, a-z, 0-9, _ and -"
        )


def setup(app: web.Application, runtime: Runtime, *, bot: Bot | None = None) -> Telegram | None:
    """Add POST /telegram/webhook and the Telegram notification sender; None when
    TELEGRAM_BOT_TOKEN or TELEGRAM_WEBHOOK_SECRET is not set (nothing is mounted).

    With TELEGRAM_WEBHOOK_URL the webhook is registered with Telegram at start; a failure
    is logged and the web process runs on (`privacybot telegram webhook set` retries).
    """
    if not is_configured(runtime.settings):
        return None
    check_secret(runtime.settings)
    tg = Telegram.build(runtime, bot)
    app[INBOUND] = Inbound.build(tg)
    app.router.add_post(PATH, handle)

    senders.mount(
        app,
        CHANNEL,
        lambda: notify.notification_sender(
            runtime.settings, runtime.db, bot=tg.bot, clock=runtime.services.clock
        ),
        runtime.tasks,
    )

    async def start(_app: web.Application) -> None:
        if runtime.settings.telegram_webhook_url:
            try:
                await register_webhook(tg.bot, runtime.settings)
                log.info("telegram webhook registered")
            except TELEGRAM_ERRORS as exc:
                log.error("telegram setWebhook failed: %s", type(exc).__name__)

    async def cleanup(_app: web.Application) -> None:
        await tg.bot.session.close()

    app.on_startup.append(start)
    app.on_cleanup.append(cleanup)
    return tg
