"""`privacybot retention run`: apply the retention rules now (the worker also runs them hourly).

Exit codes: 0 done (also when nothing needed changing), 1 another process is sweeping
right now or the database could not be reached.
"""

from __future__ import annotations

import asyncio
import json

import click
from sqlalchemy.exc import DBAPIError

from bot.commands.common import settings_from
from bot.retention_schedule import policy_from
from storage import account_store
from workflow import retention as rules
from workflow import retention_runs

EXIT_BUSY = 1


def _progress(category: str, rows: int) -> None:
    click.echo(f"  {category}: {rows} rows so far", err=True)


@click.group("retention")
def retention_group() -> None:
    """Retention: anonymise old SMS, erase old transcripts, purge expired codes and links."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
@click.option(
    "--full",
    is_flag=True,
    help="Look at every row, not only those since the last completed sweep.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def run(ctx: click.Context, dry_run: bool, full: bool, as_json: bool) -> None:
    """Run the retention sweep once and print what it changed (or would change) per category.

    Waits for nothing: when a worker is sweeping right now it says so and exits 1.
    """
    settings = settings_from(ctx)

    async def go() -> rules.RetentionReport | None:
        db = settings.database()
        try:
            return await retention_runs.run_sweep(
                db,
                policy=policy_from(settings),
                data_dir=settings.data_dir,
                dry_run=dry_run,
                full=full,
                progress=None if as_json else _progress,
            )
        finally:
            await account_store.close(db)
            await db.dispose()

    try:
        report = asyncio.run(go())
    except (OSError, DBAPIError) as exc:
        click.echo(f"error: the database could not be reached ({type(exc).__name__})", err=True)
        ctx.exit(EXIT_BUSY)
    if report is None:
        click.echo("error: another retention sweep is running; try again later", err=True)
        ctx.exit(EXIT_BUSY)
    counts = {category: report.counts.get(category, 0) for category in rules.categories()}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "dry_run": report.dry_run,
                    "interrupted": report.interrupted,
                    "counts": counts,
                    "total": sum(counts.values()),
                }
            )
        )
        return
    verb = "would change" if dry_run else "changed"
    width = max(len(category) for category in counts)
    for category, rows in counts.items():
        click.echo(f"{category:<{width}}  {rows:>9,} rows {verb}")
    if not any(counts.values()):
        click.echo(f"retention: nothing {'to change' if dry_run else 'changed'}")


retention = retention_group
