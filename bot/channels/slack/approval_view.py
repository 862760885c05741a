"""The approvals-channel message for one request: facts in, Block Kit out.

It shows what an agent needs to decide (kind, company, how the customer was verified,
received, due, days left, the request's non-personal parameters), read through
`workflow.agent_view` as the console and the CLI read it: never the customer's contact
details or own words. The same message is edited as the request moves on, so it always
tells who decided and what happened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from bot import agent_labels as labels
from bot.channels.slack.blocks import Block, escape, plain
from locales import _, ngettext
from storage.models import Account
from storage.privacy_models import Approval, PrivacyRequest
from workflow import deadlines, lifecycle
from workflow.agent_view import RequestView
from workflow.approvals import ApprovalPolicy
from workflow.lifecycle import Status

APPROVE = "approval_approve"
REJECT = "approval_reject"
EXTEND = "approval_extend"


@dataclass(frozen=True, slots=True)
class Facts:
    request: RequestView
    company: str | None
    approvers: tuple[str, ...]  # agents who approved, in order
    needed: int
    now: datetime


async def load_facts(
    session: AsyncSession, request_id: int, now: datetime, policy: ApprovalPolicy
) -> Facts | None:
    request = await session.get(PrivacyRequest, request_id, populate_existing=True)
    if request is None:
        return None
    company = await session.scalar(select(Account.company).where(Account.id == request.account_id))
    names = await session.scalars(
        select(Approval.approver)
        .where(Approval.request_id == request_id, Approval.decision == "approve")
        .order_by(Approval.id)
    )
    needed = policy.approvals_needed(request.kind)
    return Facts(RequestView.of(request), company, tuple(names), needed, now)


def agent_mention(name: str) -> str:
    """`slack:U123` as a Slack mention; any other agent name (the CLI's) as plain text."""
    if name.startswith("slack:"):
        return f"<@{escape(name.removeprefix('slack:'))}>"
    return escape(name.removeprefix("agent:"))


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def _due(facts: Facts) -> str:
    request = facts.request
    due = locales.format_date(request.due_at)
    if request.status in lifecycle.CLOSED:
        return due
    left = deadlines.days_left(request.due_at, facts.now)
    if left >= 0:
        note = ngettext("{n} day left", "{n} days left", left).format(n=left)
    else:
        note = ngettext("overdue by {n} day", "overdue by {n} days", -left).format(n=-left)
    return f"{due} ({note})"


def _status(facts: Facts) -> str:
    status = labels.status(facts.request.status)
    if facts.request.status == Status.AWAITING_APPROVAL and facts.needed > 1:
        return _("{status} ({given} of {needed} approvals)").format(
            status=status, given=len(facts.approvers), needed=facts.needed
        )
    return status


def _history(facts: Facts) -> list[str]:
    """Lines saying who decided and what happened, newest last."""
    request, lines = facts.request, []
    if facts.approvers:
        lines.append(
            _("Approved by {agents}").format(
                agents=", ".join(agent_mention(a) for a in facts.approvers)
            )
        )
    if request.status == Status.REJECTED:
        lines.append(
            _("Rejected by {agent}. Reason: {reason}").format(
                agent=agent_mention(request.decided_by or "?"),
                reason=escape(request.decision_reason or ""),
            )
        )
    if request.extended:
        lines.append(
            ngettext(
                "Deadline extended by {n} month. Reason: {reason}",
                "Deadline extended by {n} months. Reason: {reason}",
                request.extension_months,
            ).format(n=request.extension_months, reason=escape(request.extension_reason or ""))
        )
    if request.status == Status.FAILED:
        lines.append(_("Failed: {reason}").format(reason=escape(request.failure_reason or "")))
    return lines


def _parameters(request: RequestView) -> str:
    """The request's parameters as the console lists them; hidden ones by key only."""
    if not request.details:
        return ""
    shown = []
    for key, value in request.details:
        if value is None:
            text = _("hidden")
        elif value is True or value is False:
            text = _("yes") if value else _("no")
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        shown.append(f"{escape(key)}: {escape(text)}")
    return "*{label}* {items}".format(label=_("Parameters"), items="; ".join(shown))


def _confirm(request: RequestView, kind: str) -> dict[str, Any]:
    """Approve asks once more: the work starts at once, and an erasure is final."""
    text = _("{kind} request {reference} will be carried out.").format(
        kind=kind, reference=request.reference
    )
    if request.kind == "erasure":
        final = _("An erasure cannot be undone.")
        text = f"{text} {final}"
    return {
        "title": plain(_("Approve this request?")),
        "text": {"type": "mrkdwn", "text": text},
        "confirm": plain(_("Approve")),
        "deny": plain(_("Back")),
    }


def _buttons(request: RequestView) -> list[dict[str, Any]]:
    kind = labels.kind(request.kind)
    buttons: list[dict[str, Any]] = []
    if request.status == Status.AWAITING_APPROVAL:
        buttons += [
            {
                "type": "button",
                "action_id": APPROVE,
                "text": plain(_("Approve")),
                "style": "primary",
                "value": request.reference,
                "confirm": _confirm(request, kind),
            },
            {
                "type": "button",
                "action_id": REJECT,
                "text": plain(_("Reject")),
                "style": "danger",
                "value": request.reference,
            },
        ]
    if request.status in lifecycle.OPEN:
        buttons.append(
            {
                "type": "button",
                "action_id": EXTEND,
                "text": plain(_("Extend deadline")),
                "value": request.reference,
            }
        )
    return buttons


def render(facts: Facts) -> tuple[str, list[Block]]:
    """The message's fallback text and blocks."""
    request = facts.request
    kind = labels.kind(request.kind)
    title = _("{kind} request {reference}").format(kind=kind, reference=request.reference)
    company = escape(facts.company) if facts.company else _("(no company name)")
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
        {
            "type": "section",
            "fields": [
                _field(_("Status"), _status(facts)),
                _field(_("Account"), company),
                _field(_("Verified by"), labels.verified_via(request.verified_via)),
                _field(_("Received"), locales.format_date(request.received_at)),
                _field(_("Due"), _due(facts)),
            ],
        },
    ]
    parameters = _parameters(request)
    if parameters:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": parameters}]})
    history = _history(facts)
    if history:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(history)}]}
        )
    buttons = _buttons(request)
    if buttons:
        blocks.append({"type": "actions", "block_id": "approval", "elements": buttons})
    return f"{title}: {_status(facts)}", blocks


def digest(text: str, blocks: list[Block]) -> str:
    """A hash of what the message shows, to skip updates that change nothing."""
    raw = json.dumps([text, blocks], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()
