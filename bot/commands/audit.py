"""`privacybot audit verify`: check that no audit entry was altered, removed or reordered."""

from __future__ import annotations

import asyncio
import json

import click

from bot.commands.common import settings_from
from workflow import audit as audit_log

EXIT_BROKEN = 1


@click.group("audit")
def audit() -> None:
    """The hash-chained audit log of every privacy request."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Walk the hash chain; exit 1 and name the first bad entry when it is broken."""
    settings = settings_from(ctx)

    async def go() -> audit_log.VerifyResult:
        db = settings.database()
        try:
            async with db.sessions() as session:
                return await audit_log.verify(session)
        finally:
            await db.dispose()

    result = asyncio.run(go())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "checked": result.checked,
                    "first_bad_id": result.first_bad_id,
                    "reason": result.reason,
                }
            )
        )
    elif result.ok:
        click.echo(f"audit log intact: {result.checked} entries checked")
    else:
        click.echo(
            f"audit log BROKEN at entry {result.first_bad_id}: {result.reason} "
            f"({result.checked} entries before it are intact)"
        )
    if not result.ok:
        ctx.exit(EXIT_BROKEN)
