"""`privacybot demo seed`: the demo accounts and, on request, a year of past requests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from bot.commands.common import run, settings_from

if TYPE_CHECKING:
    from datetime import datetime

    from bot.config import Settings
    from storage.db import Database


@click.group("demo")
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


async def _history(settings: Settings, database: Database, now: datetime) -> dict[str, Any]:
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
