"""`privacybot chat`: talk to the bot in a terminal, through the console channel."""

from __future__ import annotations

import asyncio
import sys

import click

from bot.commands.common import EXIT_SETTINGS, settings_from


@click.command("chat")
@click.option("--conversation", default=None, help="Continue this console conversation id.")
@click.option("--demo", "demo_mode", is_flag=True, help="Use demo mode (generated secret key).")
@click.pass_context
def chat(ctx: click.Context, conversation: str | None, demo_mode: bool) -> None:
    """Talk to the bot on stdin/stdout; type a button's number to press it."""
    from bot.channels.console import run_console
    from bot.config import SettingsError

    settings = settings_from(ctx, demo=demo_mode or None)
    try:
        ctx.exit(asyncio.run(run_console(settings, conversation, sys.stdin, sys.stdout)))
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
