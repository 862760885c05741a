"""What the Telegram channel shares: the settings test, the Bot, the per-chat locks.

The `Bot` talks to `TELEGRAM_API_URL` through aiogram's `TelegramAPIServer`, so tests
point it at a local stand-in. Slow work (Bot API calls) runs in tasks owned by the
runtime's `BackgroundTasks`: referenced, and awaited at shutdown.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import AiogramError
from aiogram.utils.token import TokenValidationError

from bot.channels.telegram.configured import has_token, is_configured
from bot.config import Settings, SettingsError
from bot.keyed_locks import KeyedLocks
from bot.runtime import Runtime

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# The only updates the bot listens to; Telegram sends nothing else (no group events).
ALLOWED_UPDATES = ["message", "callback_query"]
# What a Bot API call may raise: Telegram's refusal, aiogram's own errors, the network.
TELEGRAM_ERRORS = (AiogramError, OSError, TimeoutError)

__all__ = ["Telegram", "has_token", "is_configured", "make_bot"]


def make_bot(settings: Settings) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN at TELEGRAM_API_URL; a malformed token is a settings error."""
    token = settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        return Bot(token.get_secret_value(), session=session)
    except TokenValidationError:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN: not a bot token (expected the form 123456:ABC-...)"
        ) from None


@dataclass
class Telegram:
    """The Telegram channel of one process (web process or `privacybot telegram poll`)."""

    runtime: Runtime
    bot: Bot
    chat_locks: KeyedLocks = field(default_factory=KeyedLocks)

    @classmethod
    def build(cls, runtime: Runtime, bot: Bot | None = None) -> Telegram:
        return cls(runtime, bot or make_bot(runtime.settings))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def now(self) -> datetime:
        return self.runtime.services.clock()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> None:
        self.runtime.tasks.spawn(coro, name=f"telegram-{name}")
