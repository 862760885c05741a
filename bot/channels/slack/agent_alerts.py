"""Deliver the workflow's agent alerts (deadlines, failures, reviews) to the approvals channel.

An alert is claimed with a lease (`next_attempt_at`) in a short transaction, posted
outside any transaction (no row lock while Slack answers), then marked delivered: a
process that dies in between leaves the lease to run out and the alert is posted again
(at-least-once, like every chat send). An "awaiting approval" alert needs no post of
its own: the request's approval message is it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import or_, select, update
from sqlalchemy.sql.elements import ColumnElement

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
LEASE = timedelta(minutes=2)  # a poster's claim; longer than any post may take
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


def _is_due(now: datetime) -> ColumnElement[bool]:
    return or_(AgentAlert.next_attempt_at.is_(None), AgentAlert.next_attempt_at <= now)


async def deliver(db: Database, client: AsyncWebClient, channel: str, now: datetime) -> int:
    """Post pending alerts; returns how many were posted."""
    async with db.sessions() as session:
        ids = (
            await session.scalars(
                select(AgentAlert.id)
                .where(AgentAlert.status == "pending", _is_due(now))
                .order_by(AgentAlert.id)
                .limit(BATCH)
            )
        ).all()
    posted = 0
    with locales.use(AGENT_LANGUAGE):
        for alert_id in ids:
            posted += await _deliver_one(db, client, channel, alert_id, now)
    return posted


async def _claim(db: Database, alert_id: int, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """Take a due alert for posting (a lease, committed): (event, params), or None when
    another process has it or had it."""
    async with db.transaction() as session:
        taken = await session.execute(
            update(AgentAlert)
            .where(AgentAlert.id == alert_id, AgentAlert.status == "pending", _is_due(now))
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = (
            await session.execute(
                select(AgentAlert.event, AgentAlert.params).where(AgentAlert.id == alert_id)
            )
        ).one()
        return str(row.event), dict(row.params or {})


async def _settle(db: Database, alert_id: int, posted: bool, now: datetime) -> None:
    values: dict[str, Any] = (
        {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        if posted
        else {"next_attempt_at": None}  # the next pass tries again
    )
    async with db.transaction() as session:
        await session.execute(
            update(AgentAlert)
            .where(AgentAlert.id == alert_id, AgentAlert.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def _deliver_one(
    db: Database, client: AsyncWebClient, channel: str, alert_id: int, now: datetime
) -> int:
    claimed = await _claim(db, alert_id, now)
    if claimed is None:
        return 0
    event, params = claimed
    if event in SHOWN_BY_APPROVAL_MESSAGE:
        await _settle(db, alert_id, True, now)
        return 0
    message: dict[str, Any] = {"text": alert_text(event, params, now)}
    if event == referral_cards.EVENT:
        message = {
            "text": referral_cards.card_text(params),
            "blocks": referral_cards.card_blocks(params),
        }
    try:
        await client.chat_postMessage(channel=channel, **message)
    except SLACK_ERRORS as exc:
        log.warning("agent alert %d not posted: %s", alert_id, type(exc).__name__)
        await _settle(db, alert_id, False, now)
        return 0
    await _settle(db, alert_id, True, now)
    return 1
