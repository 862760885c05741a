"""`privacybot` (also `python -m bot`): serve, worker, db, demo, chat and the agent commands.

Exit codes: 0 success, 1 the command ran but failed (e.g. out-of-date schema, a refused
decision), 2 usage error (click), 3 bad settings, 4 the database is unavailable. The
last two are mapped here, in one place, for every command (`PrivacyBotGroup`).
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
EXIT_DATABASE = 4


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def database_unavailable(exc: BaseException) -> BaseException | None:
    """The error in `exc`'s chain that says the database cannot be reached, if any."""
    from storage.db import unavailable

    return next((error for error in _chain(exc) if unavailable(error)), None)


class PrivacyBotGroup(click.Group):
    """The command group that turns bad settings and an unreachable database into a clear
    message and their own exit codes, whichever command met them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_SETTINGS) from None
        except Exception as exc:
            cause = database_unavailable(exc)
            if cause is None:
                raise
            origin = _chain(cause)[-1]
            click.echo(
                f"error: the database is unavailable ({type(origin).__name__}); the command "
                "did not complete. Check DATABASE_URL and that the database server is "
                "running, then run it again (a decision that was recorded after all is "
                "then refused as already decided, so running it again is safe).",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_DATABASE) from None


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


@click.group(cls=PrivacyBotGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from storage.db import Database, Timeouts

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = Database(settings.database_url, timeouts=Timeouts(command=None))
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
    from storage.db import Database, Timeouts

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = Database(settings.database_url, timeouts=Timeouts(command=None))
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

    settings = settings_from(ctx)

    async def go() -> str | None:
        database = settings.database()
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
@click.option(
    "--history",
    is_flag=True,
    help="Also replay a year of past privacy requests through the workflow (for the overview).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def demo_seed(ctx: click.Context, history: bool, as_json: bool) -> None:
    """Create the demo accounts (anna@example.dk, ben@example.com); safe to run again."""
    from storage import demo_seed as seeding
    from storage.types import utcnow

    settings = settings_from(ctx)

    async def go() -> dict[str, Any]:
        database = settings.database()
        try:
            async with database.transaction() as session:
                result: dict[str, Any] = dict(await seeding.seed(session))
            if history:
                result["history"] = await _history(settings, database, utcnow())
            return result
        finally:
            await database.dispose()

    result = run(go)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"demo accounts: {result['created']} created, {result['existing']} already there")
    if history:
        past = result["history"]
        click.echo(
            f"history: {past['requests']} past requests {past['outcomes']}, "
            f"{past['sweeps']} retention sweeps"
            if past["created"]
            else "history: already there"
        )


async def _history(settings: Settings, database: Any, now: Any) -> dict[str, Any]:
    """A year of past requests (workflow.demo_history); progress on stderr."""
    from bot.runtime import configure_workflow
    from workflow.demo_history import seed_history

    configure_workflow(settings)
    click.echo("replaying a year of privacy requests (this takes a little while)…", err=True)
    public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    done = await seed_history(
        database,
        secret=settings.secret(),
        data_dir=settings.data_dir,
        public_url=public_url.rstrip("/"),
        now=now,
    )
    return {
        "created": done.created,
        "requests": done.requests,
        "outcomes": done.outcomes,
        "sweeps": done.sweeps,
    }


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
    ("bot.commands.report", "report"),
    ("bot.commands.alerts", "alerts"),
    ("bot.commands.retention", "retention"),
    ("bot.commands.datamap", "command"),
    ("bot.commands.agents", "agents"),
    ("bot.commands.accounts", "accounts"),
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
