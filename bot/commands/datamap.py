"""`privacybot datamap check|show`: the data map against the live schema, and as a record.

Exit codes: 0 fine (check: warnings only), 1 the map has errors or cannot be loaded,
2 usage error.
"""

from __future__ import annotations

import asyncio
import json

import click

from bot.commands.common import settings_from
from storage import account_store
from storage import datamap as maps
from storage.datamap.check import CheckReport, check
from storage.datamap.record import FORMATS, render
from storage.db import Database

EXIT_ERRORS = 1


@click.group("datamap")
def datamap_group() -> None:
    """The data map (DATAMAP_PATH): check it against the database, print the Art. 30 record."""


def _load(path: str | None) -> maps.DataMap:
    try:
        return maps.load(path)
    except maps.DataMapError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_ERRORS) from None


@datamap_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def check_command(ctx: click.Context, as_json: bool) -> None:
    """Validate the map against the live schemas of ACCOUNT_STORE_URL and DATABASE_URL.

    Unknown tables or columns are errors (exit 1); columns not in the map whose name or
    sampled content looks personal are listed as warnings.
    """
    settings = settings_from(ctx)
    data_map = _load(str(settings.datamap_path) if settings.datamap_path else None)

    async def go() -> CheckReport:
        db = Database(settings.database_url)
        store = account_store.connect(db, settings.account_store_url)
        try:
            return await check(store, db, data_map)
        finally:
            await account_store.close(db)
            await db.dispose()

    try:
        report = asyncio.run(go())
    except OSError as exc:
        click.echo(f"error: the database could not be reached ({type(exc).__name__})", err=True)
        ctx.exit(EXIT_ERRORS)
    if as_json:
        click.echo(
            json.dumps({"ok": report.ok, "errors": report.errors, "warnings": report.warnings})
        )
    else:
        for line in report.errors:
            click.echo(f"error: {line}")
        for line in report.warnings:
            click.echo(f"warning: {line}")
        click.echo(
            f"data map {data_map.source}: {len(report.errors)} errors, "
            f"{len(report.warnings)} warnings"
        )
    ctx.exit(0 if report.ok else EXIT_ERRORS)


@datamap_group.command("show")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: a table a DPO can read; html, csv or json for a report.",
)
@click.pass_context
def show_command(ctx: click.Context, fmt: str) -> None:
    """Print the record of processing activities (GDPR Art. 30) generated from the map."""
    settings = settings_from(ctx)
    data_map = _load(str(settings.datamap_path) if settings.datamap_path else None)
    text = render(data_map, fmt)
    click.echo(text, nl=not text.endswith("\n"))


command = datamap_group
