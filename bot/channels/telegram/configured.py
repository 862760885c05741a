"""Whether Telegram is on: a settings test that needs no aiogram.

aiogram builds several hundred pydantic models at import (seconds), so a process where
Telegram is off never imports it: `bot.channels.telegram` only reaches for the modules
that use aiogram once these say Telegram is configured.
"""

from __future__ import annotations

from bot.config import Settings


def has_token(settings: Settings) -> bool:
    token = settings.telegram_bot_token
    return bool(token and token.get_secret_value())


def is_configured(settings: Settings) -> bool:
    """The webhook is on when both the bot token and the webhook secret are set:
    a webhook nobody can authenticate is never mounted."""
    secret = settings.telegram_webhook_secret
    return has_token(settings) and bool(secret and secret.get_secret_value())
