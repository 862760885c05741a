"""`/privacy` for the privacy team: list, show ID, help. Answers are ephemeral.

The command may be typed anywhere in the workspace, and customers may be in it too,
so everything except help is for approvers only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import select

import locales
from bot import agent_labels as labels
from bot.channels.slack import approval_view, keys
from bot.channels.slack.blocks import Block, escape
from bot.channels.slack.context import AGENT_LANGUAGE, SLACK_ERRORS, Slack
from bot.channels.slack.inbox import Delivery
from locales import _, ngettext
from storage.privacy_models import PrivacyRequest
from workflow import agent_view, deadlines

log = logging.getLogger(__name__)

COMMAND = "/privacy"
LIST_LIMIT = 30


def register(app: AsyncApp, slack: Slack) -> None:
    slack.inbox.on("command", lambda item: answer(slack, item), urgent=True)

    @app.command(COMMAND)
    async def on_privacy(ack: AsyncAck, body: dict[str, Any], command: dict[str, Any]) -> None:
        payload = {key: str(command.get(key) or "") for key in ("text", "user_id", "response_url")}
        await slack.inbox.accept(keys.command_key(body), "command", payload)
        await ack()


async def answer(slack: Slack, item: Delivery) -> None:
    """Answer one stored /privacy (read-only: recorded as processed first)."""
    if await slack.inbox.done_alone(item.key):
        await run(slack, item.payload)


async def run(slack: Slack, command: dict[str, Any]) -> None:
    words = str(command.get("text") or "").split()
    verb = words[0].lower() if words else "help"
    user = str(command.get("user_id") or "")
    with locales.use(AGENT_LANGUAGE):
        if verb == "help" or verb not in ("list", "show"):
            text, blocks = help_text(), None
        elif not await slack.approvers.allows(user):
            text, blocks = _("Only members of the privacy team can use /privacy."), None
        elif verb == "list":
            text, blocks = await list_text(slack), None
        else:
            text, blocks = await show(slack, words[1] if len(words) > 1 else "")
    await _respond(str(command.get("response_url") or ""), text, blocks)


def help_text() -> str:
    return _(
        "*/privacy list*: open requests, the most urgent first\n"
        "*/privacy show PR-XXXXXX*: one request, with Approve, Reject and Extend\n"
        "*/privacy help*: this help"
    )


async def list_text(slack: Slack) -> str:
    now = slack.now()
    async with slack.db.sessions() as session:
        rows = await agent_view.request_list(session, "open", limit=LIST_LIMIT)
    if not rows:
        return _("No open requests.")
    lines = []
    for request in rows:
        left = deadlines.days_left(request.due_at, now)
        when = (
            ngettext("{n} day left", "{n} days left", left).format(n=left)
            if left >= 0
            else ngettext("overdue by {n} day", "overdue by {n} days", -left).format(n=-left)
        )
        lines.append(
            f"• *{escape(request.reference)}* {labels.kind(request.kind)}, "
            f"{labels.status(request.status)}, "
            f"{locales.format_date(request.due_at)} ({when})"
        )
    return "\n".join(lines)


async def show(slack: Slack, reference: str) -> tuple[str, list[Block] | None]:
    if not reference:
        return _("Which request? For example: /privacy show PR-7K3F9Q"), None
    async with slack.db.sessions() as session:
        request_id = await session.scalar(
            select(PrivacyRequest.id).where(PrivacyRequest.reference == reference.upper())
        )
        facts = (
            await approval_view.load_facts(
                session, request_id, slack.now(), slack.runtime.services.policy
            )
            if request_id is not None
            else None
        )
    if facts is None:
        return _("No request {reference}.").format(reference=escape(reference)), None
    return approval_view.render(facts)


async def _respond(response_url: str, text: str, blocks: list[Block] | None) -> None:
    """Answer through the command's response_url: works in any channel, DMs included."""
    if not response_url:
        return
    try:
        sent = await AsyncWebhookClient(response_url).send(
            text=text, blocks=blocks, response_type="ephemeral"
        )
    except SLACK_ERRORS as exc:
        log.warning("/privacy answer failed: %s", type(exc).__name__)
        return
    if sent.status_code != 200:
        log.warning("/privacy answer refused: HTTP %d", sent.status_code)
