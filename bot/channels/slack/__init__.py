"""Slack: customers in direct messages, the privacy team in an approvals channel.

`setup(app, runtime)` mounts it in the web process; `privacybot slack socket` runs it
over Socket Mode instead (local development, no public URL).
"""

from __future__ import annotations

from bot.channels.slack.context import Slack, is_configured, make_client
from bot.channels.slack.dm import register_sender
from bot.channels.slack.housekeeping import sync_approvals
from bot.channels.slack.web import setup

__all__ = [
    "Slack",
    "is_configured",
    "make_client",
    "register_sender",
    "setup",
    "sync_approvals",
]
