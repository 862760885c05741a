"""`privacybot` (also `python -m bot`): serve, worker, db, demo, chat and the agent commands.

Exit codes: 0 success, 1 the command ran but failed (e.g. out-of-date schema),
2 usage error (click), 3 bad settings.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from bot.config import Settings, SettingsError, load_settings

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_SETTINGS = 3


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Load settings once per command; a bad setting ends the command with exit code 3."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
        raise  # unreachable: ctx.exit raises


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="privacybot")
def cli() -> None:
    """Privacy support bot: answers customers and carries out their GDPR requests."""


@cli.group()
def db() -> None:
    """Database schema: apply or roll back Alembic migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from storage import migrate
    from storage.db import Database

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database, revision)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    click.echo(f"schema at revision {run(go)}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Roll migrations back to REVISION ('base' removes every table)."""
    from storage import migrate
    from storage.db import Database

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            await migrate.downgrade(database, revision)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    click.echo(f"schema at revision {run(go) or 'base (empty)'}")


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show the schema revision and whether it is the newest; exit 1 when out of date."""
    from storage import migrate
    from storage.db import Database

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    current, head = run(go), migrate.head_revision()
    if as_json:
        click.echo(json.dumps({"current": current, "head": head, "up_to_date": current == head}))
    else:
        click.echo(f"current: {current or 'base (empty)'}\nhead:    {head}")
    if current != head:
        ctx.exit(EXIT_FAILED)


@cli.group()
def demo() -> None:
    """Demo data for trying the bot out."""


@demo.command("seed")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def demo_seed(ctx: click.Context, as_json: bool) -> None:
    """Create the demo accounts (anna@example.dk, ben@example.com); safe to run again."""
    from storage import demo_seed as seeding
    from storage.db import Database

    settings = settings_from(ctx)

    async def go() -> dict[str, int]:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                return await seeding.seed(session)
        finally:
            await database.dispose()

    result = run(go)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"demo accounts: {result['created']} created, {result['existing']} already there"
        )


@cli.command()
@click.option(
    "--demo",
    "demo_mode",
    is_flag=True,
    help="Upgrade the schema, seed demo data, run a worker in-process.",
)
@click.option("--host", default=None, help="Address to listen on (default: HOST setting).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: PORT setting).")
@click.pass_context
def serve(ctx: click.Context, demo_mode: bool, host: str | None, port: int | None) -> None:
    """Run the web process: web chat, health checks and the channel webhooks."""
    from bot.server import serve as run_server

    settings = settings_from(ctx, host=host, port=port, demo=demo_mode or None)
    try:
        code = asyncio.run(run_server(settings))
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    ctx.exit(code)


@cli.command()
@click.option("--conversation", default=None, help="Continue this console conversation id.")
@click.option("--demo", "demo_mode", is_flag=True, help="Use demo mode (generated secret key).")
@click.pass_context
def chat(ctx: click.Context, conversation: str | None, demo_mode: bool) -> None:
    """Talk to the bot on stdin/stdout; type a button's number to press it."""
    from bot.channels.console import run_console

    settings = settings_from(ctx, demo=demo_mode or None)
    try:
        ctx.exit(asyncio.run(run_console(settings, conversation, sys.stdin, sys.stdout)))
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)


# Commands that live in their own modules, attached if present: module -> attribute.
_PLUGGED = (
    ("bot.commands.classify", "classify"),
    ("bot.commands.outbox", "outbox"),
    ("bot.commands.worker", "worker"),
    ("bot.commands.requests", "requests"),
    ("bot.commands.referrals", "referrals_group"),
    ("bot.commands.audit", "audit"),
    ("bot.commands.alerts", "alerts"),
    ("bot.commands.retention", "retention"),
    ("bot.commands.agents", "agents"),
    ("bot.commands.slack", "slack"),
    ("bot.commands.telegram", "telegram"),
)
for _module, _name in _PLUGGED:
    try:
        cli.add_command(getattr(importlib.import_module(_module), _name))
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise


def main() -> None:
    cli(prog_name="privacybot")


if __name__ == "__main__":
    main()
