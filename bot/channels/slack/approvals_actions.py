"""Approve, Reject and Extend in the approvals channel.

Only configured approvers may decide (others get an ephemeral refusal); the engine
refuses what the policy forbids (self-approval, deciding twice) and its message is
shown to the agent, ephemerally. Reject and Extend ask for a reason in a modal, since
the customer is told it. After a decision the request's message is updated at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import approval_view, dedup
from bot.channels.slack.blocks import escape, plain
from bot.channels.slack.context import SLACK_ERRORS, Slack
from bot.channels.slack.housekeeping import sync_request
from locales import _, ngettext
from storage.privacy_models import PrivacyRequest
from workflow import decisions, queue
from workflow.approvals import Agent

log = logging.getLogger(__name__)

REJECT_VIEW = "approval_reject_view"
EXTEND_VIEW = "approval_extend_view"
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
MONTHS_BLOCK, MONTHS_INPUT = "months", "months_input"
MAX_REASON = decisions.MAX_REASON


def _who(body: dict[str, Any]) -> tuple[str, str]:
    """(user id, channel id) of an interaction; the channel is empty for a modal."""
    user = str((body.get("user") or {}).get("id") or "")
    channel = str((body.get("channel") or {}).get("id") or "")
    return user, channel


def register(app: AsyncApp, slack: Slack) -> None:
    @app.action(approval_view.APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if await dedup.first_delivery(slack.db, dedup.action_key(body, action)):
            user, channel = _who(body)
            slack.spawn(approve(slack, user, channel, str(action.get("value"))), name="approve")

    @app.action(approval_view.REJECT)
    @app.action(approval_view.EXTEND)
    async def on_ask_reason(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        if await dedup.first_delivery(slack.db, dedup.action_key(body, action)):
            user, channel = _who(body)
            slack.spawn(
                open_modal(
                    slack,
                    user,
                    channel,
                    str(action.get("value")),
                    str(body.get("trigger_id")),
                    extend=action.get("action_id") == approval_view.EXTEND,
                ),
                name="modal",
            )

    @app.view(REJECT_VIEW)
    @app.view(EXTEND_VIEW)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = _value(view, REASON_BLOCK, REASON_INPUT).strip()
        if not reason:
            await ack(
                response_action="errors",
                errors={REASON_BLOCK: _("Please give a reason: the customer is told it.")},
            )
            return
        await ack()
        if not await dedup.first_delivery(slack.db, dedup.view_key(body)):
            return
        user, _channel = _who(body)
        meta = _metadata(view)
        if view.get("callback_id") == EXTEND_VIEW:
            months = 2 if _selected(view, MONTHS_BLOCK, MONTHS_INPUT) == "2" else 1
            work = extend(slack, user, meta["channel"], meta["reference"], reason, months)
            slack.spawn(work, name="extend")
        else:
            work = reject(slack, user, meta["channel"], meta["reference"], reason)
            slack.spawn(work, name="reject")


async def _allowed(slack: Slack, user: str, channel: str) -> bool:
    if user and await slack.approvers.allows(user):
        return True
    await slack.ephemeral(
        channel or slack.approvals_channel or "",
        user,
        _("Only members of the privacy team can decide requests."),
    )
    return False


Decision = Callable[..., Awaitable[PrivacyRequest]]


async def _decide(
    slack: Slack, user: str, channel: str, reference: str, decision: Decision, *args: Any
) -> None:
    """Run one engine decision for `user`; refusals are told to the agent, ephemerally."""
    if not await _allowed(slack, user, channel):
        return
    agent, now = slack.agent(user), slack.now()

    async def work(session: AsyncSession) -> PrivacyRequest:
        return await decision(session, reference, agent, *args, now=now)

    try:
        request = await queue.in_transaction(slack.db, work)
    except decisions.WorkflowError as exc:
        text = _("Not done: {reason}").format(reason=escape(str(exc)))
        await slack.ephemeral(channel or slack.approvals_channel or "", user, text)
        return
    await sync_request(slack, request.id)


async def approve(slack: Slack, user: str, channel: str, reference: str) -> None:
    await _decide(slack, user, channel, reference, decisions.approve)


async def reject(slack: Slack, user: str, channel: str, reference: str, reason: str) -> None:
    await _decide(slack, user, channel, reference, decisions.reject, reason[:MAX_REASON])


async def extend(
    slack: Slack, user: str, channel: str, reference: str, reason: str, months: int
) -> None:
    async def extend_by(
        session: AsyncSession, ref: str, agent: Agent, why: str, now: datetime
    ) -> PrivacyRequest:
        return await decisions.extend(session, ref, agent, why, months=months, now=now)

    await _decide(slack, user, channel, reference, extend_by, reason[:MAX_REASON])


async def open_modal(
    slack: Slack, user: str, channel: str, reference: str, trigger_id: str, *, extend: bool
) -> None:
    """The reason modal; opened only for approvers (the trigger is valid for 3 seconds)."""
    if not await _allowed(slack, user, channel):
        return
    view = extend_view(reference, channel) if extend else reject_view(reference, channel)
    try:
        await slack.client.views_open(trigger_id=trigger_id, view=view)
    except SLACK_ERRORS as exc:
        log.warning(
            "could not open the %s modal: %s", "extend" if extend else "reject", type(exc).__name__
        )


def _reason_block(label: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": REASON_BLOCK,
        "label": plain(label, 2000),
        "element": {
            "type": "plain_text_input",
            "action_id": REASON_INPUT,
            "multiline": True,
            "min_length": 1,
            "max_length": MAX_REASON,
        },
    }


def _modal(
    callback_id: str, title: str, submit: str, meta: dict[str, str], blocks: list[Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(meta),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain(_("Cancel"), 24),
        "blocks": blocks,
    }


def _about(reference: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(reference)}*"}}


def reject_view(reference: str, channel: str) -> dict[str, Any]:
    return _modal(
        REJECT_VIEW,
        _("Reject request"),
        _("Reject"),
        {"reference": reference, "channel": channel},
        [_about(reference), _reason_block(_("Why is it rejected? The customer is told this."))],
    )


def extend_view(reference: str, channel: str) -> dict[str, Any]:
    options = [
        {"text": plain(ngettext("{n} month", "{n} months", n).format(n=n)), "value": str(n)}
        for n in (1, 2)
    ]
    months = {
        "type": "input",
        "block_id": MONTHS_BLOCK,
        "label": plain(_("Extend the deadline by"), 2000),
        "element": {
            "type": "radio_buttons",
            "action_id": MONTHS_INPUT,
            "options": options,
            "initial_option": options[0],
        },
    }
    return _modal(
        EXTEND_VIEW,
        _("Extend deadline"),
        _("Extend"),
        {"reference": reference, "channel": channel},
        [
            _about(reference),
            months,
            _reason_block(_("Why is more time needed? The customer is told this.")),
        ],
    )


def _state(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    found = values.get(action)
    return found if isinstance(found, dict) else {}


def _value(view: dict[str, Any], block: str, action: str) -> str:
    return str(_state(view, block, action).get("value") or "")


def _selected(view: dict[str, Any], block: str, action: str) -> str:
    return str((_state(view, block, action).get("selected_option") or {}).get("value") or "")


def _metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    return {
        "reference": str(meta.get("reference", "")),
        "channel": str(meta.get("channel", "")),
    }
