"""Telegram: customers chat with the bot in a private chat, through the same router.

`setup(app, runtime)` mounts the webhook in the web process; `privacybot telegram poll`
runs long polling instead (local development, no public URL). `register_sender` lets a
worker send Telegram customers their notifications.
"""

from __future__ import annotations

from bot.channels.telegram.context import Telegram, has_token, is_configured, make_bot
from bot.channels.telegram.notify import register_sender
from bot.channels.telegram.webhook import setup

__all__ = ["Telegram", "has_token", "is_configured", "make_bot", "register_sender", "setup"]
