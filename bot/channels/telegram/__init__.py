"""Telegram: customers chat with the bot in a private chat, through the same router.

`setup(app, runtime)` mounts the webhook in the web process; `privacybot telegram poll`
runs long polling instead (local development, no public URL). `register_sender` lets a
worker send Telegram customers their notifications. Both import aiogram (slow to
import) only when Telegram is configured, so a process without Telegram never pays it;
when it is, `lazy_types` keeps aiogram from building the validators of the hundreds of
Telegram types the bot never reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.telegram import lazy_types
from bot.channels.telegram.configured import has_token, is_configured
from bot.config import Settings
from storage.db import Database

if TYPE_CHECKING:
    from aiogram import Bot
    from aiohttp import web

    from bot.channels.telegram.context import Telegram
    from bot.runtime import Runtime

__all__ = ["has_token", "is_configured", "register_sender", "setup"]

lazy_types.install()  # before any module of this package imports aiogram


def setup(app: web.Application, runtime: Runtime, *, bot: Bot | None = None) -> Telegram | None:
    """Mount POST /telegram/webhook when TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET
    are set; None (and nothing mounted) otherwise."""
    if not is_configured(runtime.settings):
        return None
    from bot.channels.telegram.webhook import setup as mount

    return mount(app, runtime, bot=bot)


def register_sender(settings: Settings, db: Database) -> bool:
    """Let this process (a worker) send Telegram customers their notifications; False
    when TELEGRAM_BOT_TOKEN is not set."""
    if not has_token(settings):
        return False
    from bot.channels.telegram.notify import register_sender as register

    return register(settings, db)
