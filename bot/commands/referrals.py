"""`privacybot referrals …`: SMS recipients' requests forwarded to the sending accounts.

list, show, ack (the controller confirmed receipt, e.g. by replying to the email) and
close. Exit codes as `privacybot requests`: 0 done, 1 refused or not found (the message
says why), 2 usage, 3 bad settings. Numbers are shown masked; the recipient's words and
full number are for the controller's email only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import EXIT_FAILED as EXIT_REFUSED
from bot.commands.common import run_session, settings_from
from storage.types import utcnow
from workflow import referral_queries, referrals
from workflow.lifecycle import WorkflowError
from workflow.referral_queries import AgentReferral, ReferralDetail


@click.group("referrals")
def referrals_group() -> None:
    """Requests from SMS recipients, forwarded to the accounts that sent the messages."""


def _line(row: AgentReferral) -> str:
    names = ",".join(row.sender_names) or "-"
    return (
        f"{row.reference:<10} {row.kind:<14} {row.status:<13} {row.created_at.date().isoformat()} "
        f"{row.account_id:>7}  {row.number:<17} {names}"
    )


@referrals_group.command("list")
@click.option(
    "--status",
    default="open",
    show_default=True,
    help="Only this status: open, all, " + ", ".join(referral_queries.FILTERS[2:]) + ".",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_referrals(ctx: click.Context, status: str, as_json: bool) -> None:
    """Referrals, oldest first, with the masked number and the sender names."""
    wanted = status.strip().lower()
    if wanted not in referral_queries.FILTERS:
        raise click.BadParameter(f"unknown status {status!r}", param_hint="--status")
    rows = run_session(
        settings_from(ctx),
        lambda session: referral_queries.for_agents(session, wanted),
        write=False,
    )
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("no referrals")
        return
    click.echo(
        f"{'ID':<10} {'KIND':<14} {'STATUS':<13} {'OPENED':<10} {'ACCOUNT':>7}  "
        f"{'NUMBER':<17} SENDERS"
    )
    for row in rows:
        click.echo(_line(row))


@referrals_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def show(ctx: click.Context, reference: str, as_json: bool) -> None:
    """One referral: account, masked number, sender names and history."""

    async def work(session: AsyncSession) -> ReferralDetail | None:
        try:
            return await referral_queries.detail(session, reference)
        except WorkflowError:
            return None

    found = run_session(settings_from(ctx), work, write=False)
    if found is None:
        click.echo(f"error: no referral {reference}", err=True)
        ctx.exit(EXIT_REFUSED)
        return
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
        return
    row = found.referral
    click.echo(f"{row.reference}  {row.kind}  {row.status}")
    gone = " (closed)" if row.account_status == "closed" else ""
    click.echo(f"account:  {row.account_id} ({row.company or '-'}){gone}")
    click.echo(f"number:   {row.number}")
    click.echo(f"senders:  {', '.join(row.sender_names) or '-'}")
    click.echo(f"via:      {row.channel}, language {row.language}")
    if row.details_given is not None:
        click.echo(f"words:    {'given (sent to the controller)' if row.details_given else 'none'}")
    if found.suppressed:
        click.echo("stop:     further messages from the account to the number are suppressed")
    click.echo("history:")
    for event in found.events:
        note = f" — {event.note}" if event.note else ""
        was = event.from_status or "-"
        click.echo(
            f"  {event.at.isoformat()[:19]}  {was} → {event.to_status}  by {event.actor}{note}"
        )


_AGENT = click.option("--agent", required=True, help="Your name (recorded in the history).")
_NOTE = click.option("--note", default=None, help="A note for the history (no personal data).")


def _change(
    ctx: click.Context, work: Callable[[AsyncSession], Awaitable[referrals.ReferralView]]
) -> None:
    try:
        done = run_session(settings_from(ctx), work, write=True)
    except WorkflowError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_REFUSED)
        return
    click.echo(f"{done.reference}: {done.status}")


def _agent_name(agent: str) -> str:
    name = agent.strip()
    if not name:
        raise click.BadParameter("give your name", param_hint="--agent")
    return name[:100]


@referrals_group.command("ack")
@click.argument("reference")
@_AGENT
@_NOTE
@click.pass_context
def ack(ctx: click.Context, reference: str, agent: str, note: str | None) -> None:
    """Record that the account confirmed receipt (e.g. replied to the email)."""
    name = _agent_name(agent)
    _change(
        ctx,
        lambda session: referrals.acknowledge(
            session, reference, actor=name, now=utcnow(), note=note
        ),
    )


@referrals_group.command("close")
@click.argument("reference")
@_AGENT
@_NOTE
@click.option(
    "--account-gone",
    is_flag=True,
    help="End it as account_gone: the sending account is closed or cannot be reached.",
)
@click.pass_context
def close(
    ctx: click.Context, reference: str, agent: str, note: str | None, account_gone: bool
) -> None:
    """Close a referral (done), or end it as account_gone."""
    name = _agent_name(agent)
    _change(
        ctx,
        lambda session: referrals.close(
            session, reference, name, now=utcnow(), note=note, account_gone=account_gone
        ),
    )
