"""Deliver the workflow's agent alerts (deadlines, failures, reviews) to the approvals channel.

An alert row is locked (PostgreSQL: SKIP LOCKED, so processes share the work), posted
and marked delivered in one transaction: at-least-once, like every chat send. An
"awaiting approval" alert needs no post of its own: the request's approval message is it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

import locales
from bot import agent_labels as labels
from bot.channels.slack import referral_cards
from bot.channels.slack.blocks import escape
from bot.channels.slack.context import AGENT_LANGUAGE, SLACK_ERRORS
from locales import _, ngettext
from storage.db import Database
from storage.privacy_models import AgentAlert
from workflow import deadlines

log = logging.getLogger(__name__)

BATCH = 50
SHOWN_BY_APPROVAL_MESSAGE = frozenset({"awaiting_approval"})


def alert_text(event: str, params: dict[str, Any], now: datetime) -> str:
    """The channel message for one alert (agent-facing; never contact details)."""
    reference = escape(str(params.get("reference", "")))
    kind = labels.kind(str(params.get("kind", "")))
    due_raw = params.get("due_at")
    due = datetime.fromisoformat(due_raw) if isinstance(due_raw, str) else None
    due_date = locales.format_date(due) if due else ""
    if event == "deadline_soon" and due is not None:
        left = max(0, deadlines.days_left(due, now))
        return ngettext(
            ":hourglass_flowing_sand: {kind} request {reference} is due {due_date}: {n} day left.",
            ":hourglass_flowing_sand: {kind} request {reference} is due {due_date}: {n} days left.",
            left,
        ).format(kind=kind, reference=reference, due_date=due_date, n=left)
    if event == "deadline_passed":
        return _(
            ":rotating_light: {kind} request {reference} is overdue: it was due {due_date}."
        ).format(kind=kind, reference=reference, due_date=due_date)
    if event == "action_failed":
        return _(":x: {kind} request {reference} failed: {error}").format(
            kind=kind, reference=reference, error=escape(str(params.get("error", "")))
        )
    if event == "human_review":
        return _(
            ":eyes: {kind} request {reference}: the customer asks a person to review an "
            "automated decision."
        ).format(kind=kind, reference=reference)
    if event == "code_locked":
        return _(
            ":lock: Verification codes for account {account} are paused: 10 wrong codes within "
            "an hour. The account holder has been told. `privacybot accounts unlock` lifts it."
        ).format(account=escape(str(params.get("account_id", ""))))
    if event == "handover":
        return _(
            ":wave: A customer on {channel} asks to talk to a person (conversation {conversation})."
        ).format(
            channel=escape(str(params.get("channel", ""))),
            conversation=escape(str(params.get("conversation_id", ""))),
        )
    return _("{kind} request {reference}: {event}").format(
        kind=kind, reference=reference, event=escape(event)
    )


async def deliver(db: Database, client: AsyncWebClient, channel: str, now: datetime) -> int:
    """Post pending alerts; returns how many were posted."""
    async with db.sessions() as session:
        ids = (
            await session.scalars(
                select(AgentAlert.id)
                .where(AgentAlert.status == "pending")
                .order_by(AgentAlert.id)
                .limit(BATCH)
            )
        ).all()
    posted = 0
    with locales.use(AGENT_LANGUAGE):
        for alert_id in ids:
            posted += await _deliver_one(db, client, channel, alert_id, now)
    return posted


async def _deliver_one(
    db: Database, client: AsyncWebClient, channel: str, alert_id: int, now: datetime
) -> int:
    async with db.transaction() as session:
        stmt = select(AgentAlert).where(AgentAlert.id == alert_id, AgentAlert.status == "pending")
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        alert = (await session.execute(stmt)).scalar_one_or_none()
        if alert is None:
            return 0
        if alert.event not in SHOWN_BY_APPROVAL_MESSAGE:
            params = alert.params or {}
            message: dict[str, Any] = {"text": alert_text(alert.event, params, now)}
            if alert.event == referral_cards.EVENT:
                message = {
                    "text": referral_cards.card_text(params),
                    "blocks": referral_cards.card_blocks(params),
                }
            try:
                await client.chat_postMessage(channel=channel, **message)
            except SLACK_ERRORS as exc:
                log.warning("agent alert %d not posted: %s", alert_id, type(exc).__name__)
                return 0
        alert.status, alert.delivered_at = "delivered", now
        return 0 if alert.event in SHOWN_BY_APPROVAL_MESSAGE else 1
