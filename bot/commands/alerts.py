"""`privacybot alerts …`: what needs the privacy team's attention, without Slack.

Deadline reminders, failed requests, human reviews and hand-over wishes are agent alerts.
With Slack they are posted to the approvals channel; without it they wait here until an
agent marks them done. Alerts hold references and kinds, never contact details.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from sqlalchemy import select

from bot.commands.common import settings_from
from bot.config import Settings
from storage.privacy_models import AgentAlert
from storage.types import utcnow
from workflow import alerts as workflow_alerts

EXIT_NOT_FOUND = 1
OPEN = ("pending",)


def _row(alert: AgentAlert) -> dict[str, Any]:
    params = alert.params or {}
    return {
        "id": alert.id,
        "event": alert.event,
        "status": alert.status,
        "reference": params.get("reference"),
        "kind": params.get("kind"),
        "created_at": alert.created_at.isoformat(),
        "params": {k: v for k, v in params.items() if k not in ("reference", "kind")},
    }


async def _list(settings: Settings, everything: bool, limit: int) -> list[dict[str, Any]]:
    db = settings.database()
    try:
        stmt = select(AgentAlert).order_by(AgentAlert.id).limit(limit)
        if not everything:
            stmt = stmt.where(AgentAlert.status.in_(OPEN))
        async with db.sessions() as session:
            return [_row(a) for a in (await session.scalars(stmt)).all()]
    finally:
        await db.dispose()


async def _done(settings: Settings, ids: tuple[int, ...]) -> int:
    db = settings.database()
    try:
        async with db.transaction() as session:
            return await workflow_alerts.mark_done(session, ids, utcnow())
    finally:
        await db.dispose()


@click.group("alerts")
def alerts() -> None:
    """Alerts for the privacy team: deadlines, failures, reviews, hand-over wishes."""


@alerts.command("list")
@click.option("--all", "everything", is_flag=True, help="Include alerts already done or posted.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_alerts(ctx: click.Context, everything: bool, limit: int, as_json: bool) -> None:
    """Open alerts, oldest first."""
    rows = asyncio.run(_list(settings_from(ctx), everything, limit))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No open alerts.")
        return
    for row in rows:
        what = f"{row['kind'] or ''} {row['reference'] or ''}".strip() or "-"
        extra = ", ".join(f"{k}={v}" for k, v in row["params"].items() if k != "due_at")
        click.echo(
            f"#{row['id']:<6} {row['created_at'][:16]}  {row['event']:<18} {what}"
            + (f"  ({extra})" if extra else "")
        )


@alerts.command("done")
@click.argument("ids", nargs=-1, required=True, type=int)
@click.pass_context
def done(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Mark alerts as handled; exit 1 if any ID was not an open alert."""
    changed = asyncio.run(_done(settings_from(ctx), ids))
    click.echo(f"{changed} of {len(ids)} alert(s) marked done.")
    ctx.exit(0 if changed == len(ids) else EXIT_NOT_FOUND)
