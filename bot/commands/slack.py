"""`privacybot slack …`: Socket Mode for local development, and the approvals sync.

Exit codes: 0 done, 1 failed (schema out of date, Slack not configured), 3 bad settings.
"""

from __future__ import annotations

import asyncio

import click

from bot.commands.common import settings_from, stop_on_signals

EXIT_FAILED = 1


@click.group("slack")
def slack() -> None:
    """Slack: run over Socket Mode, or sync the approvals channel."""


@slack.command("socket")
@click.pass_context
def socket(ctx: click.Context) -> None:
    """Serve Slack over Socket Mode (needs SLACK_APP_TOKEN; no public URL needed)."""
    from bot import logs
    from bot.channels.slack.socket import run_socket_mode
    from bot.runtime import Runtime, configure_workflow
    from storage import migrate

    settings = settings_from(ctx)
    if settings.slack_app_token is None or settings.slack_bot_token is None:
        click.echo("error: set SLACK_APP_TOKEN and SLACK_BOT_TOKEN for Socket Mode", err=True)
        ctx.exit(EXIT_FAILED)

    async def go() -> int:
        logs.configure(settings.log_level, settings.library_log_level)
        configure_workflow(settings)
        runtime = Runtime.build(settings)
        try:
            if not await migrate.schema_is_current(runtime.db):
                click.echo(
                    f"error: {migrate.OUT_OF_DATE}",
                    err=True,
                )
                return EXIT_FAILED
            stop = stop_on_signals()
            click.echo("privacybot is connected to Slack over Socket Mode", err=True)
            await run_socket_mode(runtime, stop)
            return 0
        finally:
            await runtime.close()

    ctx.exit(asyncio.run(go()))


@slack.command("sync")
@click.pass_context
def sync(ctx: click.Context) -> None:
    """Post missing approval messages, update changed ones, deliver agent alerts; once."""
    from bot.channels.slack import is_configured, sync_approvals
    from bot.runtime import Runtime, configure_workflow

    settings = settings_from(ctx)
    if not is_configured(settings) or not settings.slack_approvals_channel:
        click.echo(
            "error: set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APPROVALS_CHANNEL",
            err=True,
        )
        ctx.exit(EXIT_FAILED)

    async def go() -> str:
        configure_workflow(settings)
        runtime = Runtime.build(settings)
        try:
            done = await sync_approvals(runtime)
        finally:
            await runtime.close()
        return f"{done.posted} posted, {done.updated} updated, {done.alerts} alerts delivered"

    click.echo(asyncio.run(go()))
