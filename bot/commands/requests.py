"""`privacybot requests …`: the privacy team's console for requests.

list, show, approve, reject, extend and answer (a human review). Exit codes: 0 done,
1 the workflow refused (the message says why), 2 usage, 3 bad settings. Nothing
printed here holds the customer's contact details: `details` values that could
(a new email or phone number) are shown as field names only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import EXIT_FAILED, EXIT_SETTINGS, run_session, settings_from
from bot.config import Settings, SettingsError
from storage.models import Account
from storage.privacy_models import Action, Approval, PrivacyRequest, RequestEvent
from storage.types import utcnow
from workflow import agent_view, deadlines, lifecycle

if TYPE_CHECKING:
    from workflow.approvals import Agent

EXIT_REFUSED = EXIT_FAILED


def _agent(ctx: click.Context, settings: Settings, name: str) -> Agent:
    from workflow.approvals import Agent

    try:
        return Agent.from_identity(settings.secret(), name.strip())
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
        raise


Decision = Callable[[AsyncSession, "Agent"], Awaitable[PrivacyRequest]]


def _decide(ctx: click.Context, agent_name: str, decision: Decision) -> None:
    from bot.runtime import configure_workflow
    from workflow.decisions import WorkflowError

    settings = settings_from(ctx)
    configure_workflow(settings)
    who = _agent(ctx, settings, agent_name)
    try:
        request = run_session(settings, lambda session: decision(session, who), write=True)
    except WorkflowError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_REFUSED)
    click.echo(f"{request.reference}: {request.status}, due {request.due_at.date().isoformat()}")


def summary(request: agent_view.RequestView, now: datetime) -> dict[str, Any]:
    """One request as the list shows it (JSON and table)."""
    is_open = request.is_open
    return {
        "id": request.reference,
        "kind": request.kind,
        "status": request.status,
        "channel": request.channel,
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "days_left": deadlines.days_left(request.due_at, now),
        "overdue": is_open and deadlines.is_overdue(request.due_at, now),
        "extended": request.extended,
    }


@click.group("requests")
def requests() -> None:
    """Privacy requests: list, inspect and decide."""


@requests.command("list")
@click.option("--status", default=None, help="Only this status; 'open' (default) or 'all'.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_requests(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """Requests with their due dates, days left and an OVERDUE marker."""
    wanted = (status or "open").lower()
    if wanted not in agent_view.FILTERS:
        raise click.BadParameter(f"unknown status {wanted!r}", param_hint="--status")
    settings = settings_from(ctx)
    now = utcnow()

    async def work(session: AsyncSession) -> list[agent_view.RequestView]:
        return await agent_view.request_list(session, wanted)

    rows = [summary(r, now) for r in run_session(settings, work, write=False)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no requests")
        return
    click.echo(f"{'ID':<10} {'KIND':<14} {'STATUS':<22} {'DUE':<11} {'DAYS':>5}")
    for row in rows:
        marker = "  OVERDUE" if row["overdue"] else ""
        click.echo(
            f"{row['id']:<10} {row['kind']:<14} {row['status']:<22} "
            f"{row['due_at'][:10]:<11} {row['days_left']:>5}{marker}"
        )


@requests.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def show(ctx: click.Context, reference: str, as_json: bool) -> None:
    """One request: details (no contact values), history, approvals and actions."""
    settings = settings_from(ctx)
    now = utcnow()

    async def work(session: AsyncSession) -> dict[str, Any] | None:
        try:
            request = await lifecycle.load(session, reference=reference, lock=False)
        except lifecycle.NotFound:
            return None
        company = await session.scalar(
            select(Account.company).where(Account.id == request.account_id)
        )
        events = (
            await session.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.id)
            )
        ).all()
        votes = (
            await session.scalars(
                select(Approval).where(Approval.request_id == request.id).order_by(Approval.id)
            )
        ).all()
        actions = (
            await session.scalars(
                select(Action).where(Action.request_id == request.id).order_by(Action.id)
            )
        ).all()
        view = agent_view.RequestView.of(request)
        return {
            **summary(view, now),
            "account_id": view.account_id,
            "company": company,
            "language": view.language,
            "verified_via": view.verified_via,
            "details": agent_view.details_text(view.details),
            "extension_reason": view.extension_reason,
            "decided_by": view.decided_by,
            "decision_reason": view.decision_reason,
            "failure_reason": view.failure_reason,
            "completed_at": view.completed_at.isoformat() if view.completed_at else None,
            "history": [
                {
                    "at": e.at.isoformat(),
                    "from": e.from_status,
                    "to": e.to_status,
                    "actor": e.actor,
                    "reason": e.reason,
                }
                for e in events
            ],
            "approvals": [
                {"approver": v.approver, "decision": v.decision, "at": v.at.isoformat()}
                for v in votes
            ],
            "actions": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "status": a.status,
                    "attempts": a.attempts,
                    "last_error": a.last_error,
                }
                for a in actions
            ],
        }

    data = run_session(settings, work, write=False)
    if data is None:
        click.echo(f"error: no request {reference}", err=True)
        ctx.exit(EXIT_REFUSED)
        return
    if as_json:
        click.echo(json.dumps(data))
        return
    overdue = "  OVERDUE" if data["overdue"] else ""
    click.echo(f"{data['id']}  {data['kind']}  {data['status']}")
    click.echo(f"account:  {data['account_id']} ({data['company'] or '-'}), via {data['channel']}")
    click.echo(f"due:      {data['due_at'][:10]} ({data['days_left']} days left){overdue}")
    if data["extended"]:
        click.echo(f"extended: {data['extension_reason']}")
    if data["details"]:
        click.echo(f"details:  {json.dumps(data['details'], ensure_ascii=False)}")
    for key in ("decided_by", "decision_reason", "failure_reason"):
        if data[key]:
            click.echo(f"{key.replace('_', ' ')}: {data[key]}")
    click.echo("history:")
    for e in data["history"]:
        why = f" — {e['reason']}" if e["reason"] else ""
        click.echo(f"  {e['at'][:19]}  {e['from'] or '-'} → {e['to']}  by {e['actor']}{why}")
    if data["approvals"]:
        click.echo("approvals:")
        for v in data["approvals"]:
            click.echo(f"  {v['at'][:19]}  {v['approver']}: {v['decision']}")
    if data["actions"]:
        click.echo("actions:")
        for a in data["actions"]:
            err = f" ({a['last_error']})" if a["last_error"] else ""
            click.echo(f"  #{a['id']} {a['kind']}: {a['status']}, {a['attempts']} attempt(s){err}")


_AGENT = click.option("--agent", required=True, help="Your name (recorded as the decider).")


@requests.command("approve")
@click.argument("reference")
@_AGENT
@click.pass_context
def approve(ctx: click.Context, reference: str, agent: str) -> None:
    """Approve a request waiting for approval (erasure may need a second approver)."""
    from workflow import decisions
    from workflow.approvals import ApprovalPolicy

    policy = ApprovalPolicy.from_settings(settings_from(ctx))
    _decide(
        ctx, agent, lambda session, who: decisions.approve(session, reference, who, policy=policy)
    )


@requests.command("reject")
@click.argument("reference")
@_AGENT
@click.option("--reason", required=True, help="Why; the customer receives it.")
@click.pass_context
def reject(ctx: click.Context, reference: str, agent: str, reason: str) -> None:
    """Reject a request; the reason is sent to the customer."""
    from workflow import decisions

    _decide(ctx, agent, lambda session, who: decisions.reject(session, reference, who, reason))


@requests.command("extend")
@click.argument("reference")
@_AGENT
@click.option("--reason", required=True, help="Why; the customer receives it.")
@click.option("--months", type=click.IntRange(1, 2), default=1, show_default=True)
@click.pass_context
def extend(ctx: click.Context, reference: str, agent: str, reason: str, months: int) -> None:
    """Extend the deadline (3 months at most from receipt), before the first month ends."""
    from workflow import decisions

    _decide(
        ctx, agent, lambda session, who: decisions.extend(session, reference, who, reason, months)
    )


@requests.command("answer")
@click.argument("reference")
@_AGENT
@click.option("--text", "answer_text", required=True, help="The answer the customer receives.")
@click.pass_context
def answer(ctx: click.Context, reference: str, agent: str, answer_text: str) -> None:
    """Answer a human review; completes the request and sends the answer to the customer."""
    from workflow import decisions

    _decide(ctx, agent, lambda session, who: decisions.answer(session, reference, who, answer_text))
