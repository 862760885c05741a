"""`privacybot outbox`: the SMS and emails the bot wrote to customers (one-time codes).

In demo mode nothing is sent and this is where the codes are read. In production the
text of a sent message is blanked, so the listing shows what went where and whether it
was sent, failed or waits for a retry.
"""

from __future__ import annotations

import asyncio
import json

import click

from bot.commands.common import settings_from
from bot.notifier.outbox import DEFAULT_LIMIT, MAX_LIMIT, Entry, recent
from storage import migrate
from storage.db import Database

EXIT_FAILED = 1


async def _load(database_url: str, limit: int) -> list[Entry] | None:
    db = Database(database_url)
    try:
        if not await migrate.schema_is_current(db):
            return None
        return await recent(db, limit)
    finally:
        await db.dispose()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def table(entries: list[Entry]) -> str:
    """A plain-text table, one message per line, the text last and in full."""
    header = ("created (UTC)", "channel", "to", "status", "text")
    rows = [
        (
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.channel,
            e.to,
            e.status if e.status != "failed" else f"failed: {e.last_error or ''}".strip(),
            _one_line(e.text) or ("(blanked after sending)" if e.status == "sent" else ""),
        )
        for e in entries
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


@click.command("outbox")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (oldest first).")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="Show the N newest messages (still printed oldest first).",
)
@click.pass_context
def outbox(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List the SMS and emails to customers, oldest first.

    \b
    --json prints [{"channel": "sms"|"email", "to", "text", "created_at"}, ...].
    In demo mode nothing is sent: one-time codes are read here. Exit 1 when the
    database schema is out of date.
    """
    settings = settings_from(ctx)
    entries = asyncio.run(_load(settings.database_url, limit))
    if entries is None:
        click.echo(f"error: {migrate.OUT_OF_DATE}", err=True)
        ctx.exit(EXIT_FAILED)
        return
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
    elif not entries:
        click.echo("the outbox is empty")
    else:
        if settings.demo:
            click.echo("demo mode: nothing is sent; these messages are the delivery\n")
        click.echo(table(entries))
