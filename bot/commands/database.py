"""`privacybot db …`: apply or roll back the schema's Alembic migrations, or show where
it stands (exit 1 when out of date)."""

from __future__ import annotations

import json

import click

from bot.commands.common import EXIT_FAILED, run, settings_from


@click.group("db")
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
