"""`privacybot agents …`: accounts for the agent console at /agent.

add, list, remove and set-password. A password is asked for twice at the terminal (not
echoed), or read from the first line of stdin with `--password-stdin` (for scripts);
it is never an argument, so it stays out of shell history and process lists. Removing
an agent or changing their password signs them out everywhere.

Exit codes: 0 done, 1 refused (name taken, no such agent, weak password, schema out of
date), 2 usage, 3 bad settings.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.web.agent import accounts
from storage import migrate

T = TypeVar("T")

EXIT_REFUSED = 1


class _OutOfDate(Exception):
    pass


def _settings(ctx: click.Context) -> Settings:
    from bot.cli import settings_from

    return settings_from(ctx)


def _run(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction; refusals end the command with exit code 1."""
    settings = _settings(ctx)

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
    except accounts.AgentError as exc:
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
@click.pass_context
def add(ctx: click.Context, name: str, language: str, password_stdin: bool) -> None:
    """Create an agent who can sign in at /agent (the password is asked for)."""
    cleaned = _name(ctx, name)
    password = _password(ctx, password_stdin)

    async def work(session: AsyncSession) -> None:
        await accounts.add(session, cleaned, password, language=language)

    _run(ctx, work)
    click.echo(f"agent {cleaned} added")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_agents(ctx: click.Context, as_json: bool) -> None:
    """The agents, with their language and last sign-in."""

    async def work(session: AsyncSession) -> list[dict[str, str | None]]:
        return [
            {
                "name": agent.name,
                "language": agent.language,
                "created_at": agent.created_at.isoformat(),
                "last_login_at": agent.last_login_at.isoformat() if agent.last_login_at else None,
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
    click.echo(f"{'NAME':<24} {'LANG':<5} {'LAST SIGN-IN':<20}")
    for row in rows:
        last = (row["last_login_at"] or "never")[:19]
        click.echo(f"{row['name']:<24} {row['language']:<5} {last:<20}")


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
