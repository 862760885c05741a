"""Approve, Reject and Extend in the approvals channel.

Only configured approvers may decide (others get an ephemeral refusal); the engine
refuses what the policy forbids (self-approval, deciding twice) and its message is
shown to the agent, ephemerally. Reject and Extend ask for a reason in a modal, since
the customer is told it. After a decision the request's message is updated at once.
Clicks and submissions are stored before they are acknowledged (`inbox`); a decision
records its click as processed in the decision's own transaction. A submission whose
metadata is not our modal's is acknowledged and ignored, before anything is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.kit import dedup
from bot.channels.slack import approval_view, keys
from bot.channels.slack.blocks import escape, plain
from bot.channels.slack.context import SLACK_ERRORS, Slack
from bot.channels.slack.housekeeping import sync_request
from bot.channels.slack.inbox import Delivery
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
    slack.inbox.on("approve", lambda item: approve(slack, item), urgent=True)
    slack.inbox.on("ask_reason", lambda item: open_modal(slack, item), urgent=True)
    slack.inbox.on("decide", lambda item: decide_with_reason(slack, item), urgent=True)

    @app.action(approval_view.APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        user, channel = _who(body)
        payload = {"user": user, "channel": channel, "reference": str(action.get("value"))}
        await slack.inbox.accept(keys.action_key(body, action), "approve", payload)
        await ack()

    @app.action(approval_view.REJECT)
    @app.action(approval_view.EXTEND)
    async def on_ask_reason(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        user, channel = _who(body)
        payload = {
            "user": user,
            "channel": channel,
            "reference": str(action.get("value")),
            "trigger_id": str(body.get("trigger_id")),
            "extend": action.get("action_id") == approval_view.EXTEND,
        }
        await slack.inbox.accept(keys.action_key(body, action), "ask_reason", payload)
        await ack()

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
        meta = _metadata(view)
        if meta is None:  # not a modal of ours: acknowledged, and nothing is done
            log.warning("reason modal without its request; ignored")
            await ack()
            return
        payload = {
            "user": _who(body)[0],
            "channel": meta["channel"],
            "reference": meta["reference"],
            "reason": reason[:MAX_REASON],
            "extend": view.get("callback_id") == EXTEND_VIEW,
            "months": 2 if _selected(view, MONTHS_BLOCK, MONTHS_INPUT) == "2" else 1,
        }
        await slack.inbox.accept(keys.view_key(body), "decide", payload)
        await ack()


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


async def _decide(slack: Slack, item: Delivery, decision: Decision, *args: Any) -> None:
    """Run one engine decision for the agent who clicked; the click is recorded as
    processed in the decision's own transaction. Refusals are told to the agent,
    ephemerally."""
    user, channel = str(item.payload["user"]), str(item.payload["channel"])
    reference = str(item.payload["reference"])
    if not await _allowed(slack, user, channel):
        await slack.inbox.done_alone(item.key)
        return
    agent, now = slack.agent(user), slack.now()

    async def work(session: AsyncSession) -> PrivacyRequest:
        await slack.inbox.done(session, item.key)
        return await decision(session, reference, agent, *args, now=now)

    try:
        request = await queue.in_transaction(slack.db, work)
    except dedup.Duplicate:
        return
    except decisions.WorkflowError as exc:
        if await slack.inbox.done_alone(item.key):
            text = _("Not done: {reason}").format(reason=escape(str(exc)))
            await slack.ephemeral(channel or slack.approvals_channel or "", user, text)
        return
    await sync_request(slack, request.id)


async def approve(slack: Slack, item: Delivery) -> None:
    policy = slack.runtime.services.policy

    async def approve_by(
        session: AsyncSession, ref: str, agent: Agent, now: datetime
    ) -> PrivacyRequest:
        return await decisions.approve(session, ref, agent, now, policy=policy)

    await _decide(slack, item, approve_by)


async def decide_with_reason(slack: Slack, item: Delivery) -> None:
    """A submitted Reject or Extend modal."""
    reason = str(item.payload["reason"])[:MAX_REASON]
    if not item.payload.get("extend"):
        await _decide(slack, item, decisions.reject, reason)
        return
    months = 2 if item.payload.get("months") == 2 else 1

    async def extend_by(
        session: AsyncSession, ref: str, agent: Agent, why: str, now: datetime
    ) -> PrivacyRequest:
        return await decisions.extend(session, ref, agent, why, months=months, now=now)

    await _decide(slack, item, extend_by, reason)


async def open_modal(slack: Slack, item: Delivery) -> None:
    """The reason modal; opened only for approvers (the trigger is valid for 3 seconds)."""
    payload = item.payload
    user, channel, reference = (
        str(payload["user"]),
        str(payload["channel"]),
        str(payload["reference"]),
    )
    extend = bool(payload.get("extend"))
    if not await slack.inbox.done_alone(item.key) or not await _allowed(slack, user, channel):
        return
    view = extend_view(reference, channel) if extend else reject_view(reference, channel)
    try:
        await slack.client.views_open(trigger_id=str(payload["trigger_id"]), view=view)
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


def _metadata(view: dict[str, Any]) -> dict[str, str] | None:
    """The request and channel our modal carries; None when the metadata is not ours
    (not JSON, not an object, no reference)."""
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
    except json.JSONDecodeError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("reference"), str):
        return None
    channel = meta.get("channel")
    return {"reference": meta["reference"], "channel": channel if isinstance(channel, str) else ""}
