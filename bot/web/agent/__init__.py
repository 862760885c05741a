"""The agent console at /agent: the privacy team's side of the bot, in a browser.

Sign-in for agents (`privacybot agents add NAME`), the requests by due date, one
request's facts (personal data left out), approve / reject / extend through the same
workflow functions as Slack and the CLI, the audit trail, the failed-request alerts and
the DPO overview (figures and charts). Server-rendered from Jinja2 templates
(`bot/web/templates/agent/`) in the agent's language (Danish or English), no JavaScript.
"""

from __future__ import annotations

from bot.web.agent.views import create_console, setup

__all__ = ["create_console", "setup"]
