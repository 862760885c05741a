"""`privacybot serve`: the web process (web chat, health checks, channel webhooks, and in
demo mode a worker too); `bot.server` runs it."""

from __future__ import annotations

import asyncio

import click

from bot.commands.common import EXIT_SETTINGS, settings_from


@click.command("serve")
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
    from bot.config import SettingsError
    from bot.server import serve as run_server

    settings = settings_from(ctx, host=host, port=port, demo=demo_mode or None)
    try:
        code = asyncio.run(run_server(settings))
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    ctx.exit(code)
