"""`privacybot agents …`: accounts for the agent console at /agent.

add, list, remove, set-password, and link/unlink an agent's other identities (Slack or
Telegram user, the email or phone on their own customer account), so the workflow
refuses their own requests whichever channel they decide in.

A password is asked for twice at the terminal (not echoed), or read from the first line
of stdin with `--password-stdin` (for scripts); it is never an argument, so it stays out
of shell history and process lists. Removing an agent or changing their password signs
them out everywhere.

Exit codes: 0 done, 1 refused (name taken, no such agent, weak password, identity linked
to another agent, schema out of date), 2 usage, 3 bad settings, 4 database unavailable.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import settings_from
from bot.web.agent import accounts
from storage import migrate
from storage.types import utcnow
from workflow import agent_identities

T = TypeVar("T")

EXIT_REFUSED = 1


class _OutOfDate(Exception):
    pass


def _run(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction; refusals end the command with exit code 1."""
    settings = settings_from(ctx)

    async def go() -> T:
        db = settings.database()
        try:
            if not await migrate.schema_is_current(db):
                raise _OutOfDate
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except _OutOfDate:
        click.echo(f"error: {migrate.OUT_OF_DATE}", err=True)
    except (accounts.AgentError, agent_identities.IdentityError) as exc:
        click.echo(f"error: {exc}", err=True)
    ctx.exit(EXIT_REFUSED)
    raise AssertionError("unreachable")


def _password(ctx: click.Context, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        return accounts.check_password(password)
    except accounts.WeakPassword as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_REFUSED)
        raise


def _name(ctx: click.Context, name: str) -> str:
    try:
        return accounts.normalise_name(name)
    except accounts.InvalidName as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None


_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
_IDENTITY_OPTIONS = (
    ("slack", "--slack-user", "A Slack user ID (U…) of this agent."),
    ("telegram", "--telegram-user", "A Telegram user id (a number) of this agent."),
    ("email", "--email", "An email address on the agent's own customer account."),
    ("phone", "--phone", "A phone number on the agent's own customer account."),
)


def _identity_options(command: Callable[..., None]) -> Callable[..., None]:
    for kind, flag, text in reversed(_IDENTITY_OPTIONS):
        command = click.option(flag, kind, multiple=True, help=text + " Repeatable.")(command)
    return command


def _identities(*given: tuple[str, ...]) -> list[tuple[str, str]]:
    """(kind, value) pairs from the options in `_IDENTITY_OPTIONS` order, each checked
    (a bad value is a usage error)."""
    kinds = [kind for kind, _flag, _text in _IDENTITY_OPTIONS]
    pairs = [(kind, value) for kind, values in zip(kinds, given, strict=True) for value in values]
    for kind, value in pairs:
        try:
            agent_identities.canonical(kind, value)
        except agent_identities.IdentityError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{kind}") from None
    return pairs


async def _link_all(
    session: AsyncSession, secret: bytes, agent_id: int, pairs: list[tuple[str, str]]
) -> int:
    linked = 0
    for kind, value in pairs:
        linked += await agent_identities.link(session, secret, agent_id, kind, value, utcnow())
    return linked


@click.group("agents")
def agents() -> None:
    """Agent console accounts: add, list, remove, set-password."""


@agents.command("add")
@click.argument("name")
@click.option(
    "--language",
    type=click.Choice(accounts.LANGUAGES),
    default="da",
    show_default=True,
    help="The console's language for this agent (they can switch it there).",
)
@_STDIN
@_identity_options
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    language: str,
    password_stdin: bool,
    slack: tuple[str, ...],
    telegram: tuple[str, ...],
    email: tuple[str, ...],
    phone: tuple[str, ...],
) -> None:
    """Create an agent who can sign in at /agent (the password is asked for), with their
    other identities linked."""
    cleaned = _name(ctx, name)
    pairs = _identities(slack, telegram, email, phone)
    password = _password(ctx, password_stdin)
    secret = settings_from(ctx).secret()

    async def work(session: AsyncSession) -> int:
        agent = await accounts.add(session, cleaned, password, language=language)
        return await _link_all(session, secret, agent.id, pairs)

    linked = _run(ctx, work)
    click.echo(f"agent {cleaned} added" + (f", {linked} identities linked" if linked else ""))


@agents.command("link")
@click.argument("name")
@_identity_options
@click.pass_context
def link(
    ctx: click.Context,
    name: str,
    slack: tuple[str, ...],
    telegram: tuple[str, ...],
    email: tuple[str, ...],
    phone: tuple[str, ...],
) -> None:
    """Link other identities to an agent: nobody decides a request made through them, or
    about an account carrying their email or phone."""
    cleaned = _name(ctx, name)
    pairs = _identities(slack, telegram, email, phone)
    if not pairs:
        raise click.UsageError(
            "give at least one of --slack-user, --telegram-user, --email, --phone"
        )
    secret = settings_from(ctx).secret()

    async def work(session: AsyncSession) -> int:
        agent = await accounts.existing(session, cleaned)
        return await _link_all(session, secret, agent.id, pairs)

    linked = _run(ctx, work)
    click.echo(f"{linked} identities linked to {cleaned}")


@agents.command("unlink")
@click.argument("name")
@_identity_options
@click.pass_context
def unlink(
    ctx: click.Context,
    name: str,
    slack: tuple[str, ...],
    telegram: tuple[str, ...],
    email: tuple[str, ...],
    phone: tuple[str, ...],
) -> None:
    """Remove linked identities from an agent."""
    cleaned = _name(ctx, name)
    pairs = _identities(slack, telegram, email, phone)
    secret = settings_from(ctx).secret()

    async def work(session: AsyncSession) -> int:
        agent = await accounts.existing(session, cleaned)
        removed = 0
        for kind, value in pairs:
            removed += await agent_identities.unlink(session, secret, agent.id, kind, value)
        return removed

    removed = _run(ctx, work)
    click.echo(f"{removed} identities unlinked from {cleaned}")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_agents(ctx: click.Context, as_json: bool) -> None:
    """The agents, with their language and last sign-in."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "name": agent.name,
                "language": agent.language,
                "created_at": agent.created_at.isoformat(),
                "last_login_at": agent.last_login_at.isoformat() if agent.last_login_at else None,
                "linked": [
                    {"kind": i.kind, "label": i.label}
                    for i in await agent_identities.linked(session, agent.id)
                ],
            }
            for agent in await accounts.all_agents(session)
        ]

    rows = _run(ctx, work)
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no agents; add one with `privacybot agents add NAME`")
        return
    click.echo(f"{'NAME':<24} {'LANG':<5} {'LAST SIGN-IN':<20} LINKED")
    for row in rows:
        last = (row["last_login_at"] or "never")[:19]
        linked = ", ".join(f"{i['kind']} {i['label']}" for i in row["linked"]) or "-"
        click.echo(f"{row['name']:<24} {row['language']:<5} {last:<20} {linked}")


@agents.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Delete an agent and end their sessions (their past decisions stay in the history)."""
    cleaned = _name(ctx, name)

    async def work(session: AsyncSession) -> None:
        await accounts.remove(session, cleaned)

    _run(ctx, work)
    click.echo(f"agent {cleaned} removed")


@agents.command("set-password")
@click.argument("name")
@_STDIN
@click.pass_context
def set_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Give an agent a new password; their open sessions end."""
    cleaned = _name(ctx, name)
    password = _password(ctx, password_stdin)

    async def work(session: AsyncSession) -> None:
        await accounts.set_password(session, cleaned, password)

    _run(ctx, work)
    click.echo(f"password of {cleaned} changed; their sessions have ended")
