"""The agent console at /agent: the privacy team's side of the bot, in a browser.

Sign-in for agents (`privacybot agents add NAME`), the requests by due date, one
request's facts (personal data left out), approve / reject / extend through the same
workflow functions as Slack and the CLI, the audit trail and the failed-request alerts.
Server-rendered HTML in the agent's language (Danish or English), no JavaScript.
"""

from __future__ import annotations

from bot.web.agent.views import create_console, setup

__all__ = ["create_console", "setup"]
