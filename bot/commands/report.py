"""`privacybot report`: the DPO's accountability report (the console's overview, as a file).

Exit codes: 0 written, 1 written but a request is overdue now (so a scheduler can alert),
2 usage error (bad date or format), 3 bad settings.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.commands.common import settings_from
from bot.config import Settings
from storage.db import Database
from storage.types import utcnow

EXIT_OVERDUE = 1

if TYPE_CHECKING:
    from workflow.accountability.figures import Figures


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


async def _figures(settings: Settings, first: date | None, last: date | None) -> Figures:
    from workflow.accountability.figures import collect
    from workflow.accountability.period import Period

    now = utcnow()
    period = Period.between(first, last, now.date())
    db = Database(settings.database_url)
    try:
        async with db.sessions() as session:
            return await collect(session, period, now)
    finally:
        await db.dispose()


@click.command("report")
@click.option(
    "--from", "first", callback=_date, help="First day (YYYY-MM-DD); default: 12 months back."
)
@click.option("--to", "last", callback=_date, help="Last day (YYYY-MM-DD); default: today.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf", "json", "csv"]),
    default="html",
    show_default=True,
    help="html is self-contained; pdf has the same charts.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@click.option("--language", type=click.Choice(["da", "en"]), default="en", show_default=True)
@click.pass_context
def report(
    ctx: click.Context,
    first: date | None,
    last: date | None,
    fmt: str,
    output: Path | None,
    language: str,
) -> None:
    """Requests per month and kind, answered on time, days to answer, open and overdue now,
    extensions and rejections with reasons, channels and languages, retention sweeps,
    verification failures, and the Art. 30 record. Exit 1 when a request is overdue."""
    from bot.report import document, formats
    from workflow.accountability.period import PeriodError

    settings = settings_from(ctx)
    try:
        figures = asyncio.run(_figures(settings, first, last))
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    built = document.build(figures, language, utcnow())
    data = formats.write(built, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        click.echo(f"report written to {output} ({len(data)} bytes)", err=True)
    if figures.overdue:
        click.echo(f"{figures.overdue} request(s) overdue now", err=True)
        ctx.exit(EXIT_OVERDUE)
