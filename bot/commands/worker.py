"""`privacybot worker`: carry out approved requests, deliver notifications, remind agents.

SIGTERM or SIGINT stops claiming; actions in flight finish; then the process exits 0.
With `--once` it drains what is due now and exits: 0, or 1 when an action failed
(or was put back for a retry) during the run. The process itself is `bot.worker_process`.
"""

from __future__ import annotations

import asyncio

import click

from bot.commands.common import settings_from


def _progress(line: str) -> None:
    click.echo(line, err=True)


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Actions run at the same time.",
)
@click.option("--once", is_flag=True, help="Drain the queue of what is due now, then exit.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    envvar="WORKER_METRICS_PORT",
    default=None,
    help="Serve this worker's Prometheus counters at http://HOST:PORT/metrics.",
)
@click.pass_context
def worker(ctx: click.Context, concurrency: int, once: bool, metrics_port: int | None) -> None:
    """Run queued privacy actions, deliver customer notifications and deadline reminders,
    and the retention sweep when it is due."""
    from bot import worker_process

    settings = settings_from(ctx)
    ctx.exit(asyncio.run(worker_process.main(settings, concurrency, once, _progress, metrics_port)))
