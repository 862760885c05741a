"""`privacybot worker`: carry out approved requests, deliver notifications, remind agents.

SIGTERM or SIGINT stops claiming; actions in flight finish; then the process exits 0.
With `--once` it drains what is due now and exits: 0, or 1 when an action failed
(or was put back for a retry) during the run. Started while the database is away, it
waits for it (backing off) instead of exiting. Every worker also runs the retention
sweep when it is due (RETENTION_INTERVAL_SECONDS; one sweep across all workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from bot import delivery, logs, metrics
from bot.commands.retention import scheduler_from
from bot.config import Settings
from bot.notifier import Dispatcher
from bot.runtime import configure_workflow
from storage import account_store, migrate
from storage.db import Database
from storage.types import utcnow
from workflow.worker import WorkerConfig, WorkerDeps, run_worker

if TYPE_CHECKING:
    from bot.runtime import Runtime

__all__ = ["build_deps", "configure_workflow", "run_in_process", "worker"]


def _progress(line: str) -> None:
    click.echo(line, err=True)


def register_channel_senders(settings: Settings, db: Database) -> None:
    """Channels other than the web chat deliver notifications through their own API."""
    from bot.channels.slack import register_sender as register_slack_sender
    from bot.channels.telegram import register_sender as register_telegram_sender

    register_slack_sender(settings, db)
    register_telegram_sender(settings, db)


def build_deps(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    progress: Callable[[str], None] | None = None,
) -> WorkerDeps:
    """Worker dependencies from settings; channels with a sender register it here."""
    configure_workflow(settings)
    register_channel_senders(settings, db)
    public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    return WorkerDeps(
        db=db,
        secret=settings.secret(),
        public_url=public_url.rstrip("/"),
        data_dir=settings.data_dir,
        clock=clock,
        config=WorkerConfig(
            lease=timedelta(seconds=settings.worker_lease_seconds),
            poll_seconds=settings.worker_poll_seconds,
        ),
        housekeeping=(delivery.dispatch, Dispatcher.from_settings(settings).dispatch),
        progress=progress,
        retention=scheduler_from(settings, progress),
        observe=metrics.observe_action,
    )


async def run_in_process(runtime: Runtime, stop: asyncio.Event, concurrency: int = 1) -> int:
    """A worker inside the web process (`serve --demo`), sharing the runtime's database."""
    deps = build_deps(runtime.settings, runtime.db, clock=runtime.services.clock)
    return await run_worker(deps, stop=stop, concurrency=concurrency, once=False)


async def _schema_current(db: Database, stop: asyncio.Event) -> bool | None:
    """Whether the schema is current, waiting (with back-off) while the database is away.
    None when stopped before the database answered."""
    wait = 1.0
    while not stop.is_set():
        try:
            return await migrate.schema_is_current(db)
        except Exception as exc:  # unreachable: the platform may be starting it too
            _progress(f"database not reachable ({type(exc).__name__}); next try in {wait:.0f}s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        wait = min(wait * 2, 30.0)
    return None


async def _main(
    settings: Settings, concurrency: int, once: bool, metrics_port: int | None = None
) -> int:
    logs.configure(settings.log_level, settings.library_log_level)
    logs.handle_lost_connections()
    db = settings.database()
    runner = None
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        current = await _schema_current(db, stop)
        if current is None:
            return 0
        if not current:
            _progress(f"error: {migrate.OUT_OF_DATE}")
            return 1
        if metrics_port is not None:
            from bot.web.metrics import serve_process_metrics

            runner = await serve_process_metrics(settings.host, metrics_port)
            _progress(f"worker metrics: http://{settings.host}:{metrics_port}/metrics")
        deps = build_deps(settings, db, progress=_progress)
        _progress(f"worker started: concurrency {concurrency}{', once' if once else ''}")
        return await run_worker(deps, stop=stop, concurrency=concurrency, once=once)
    finally:
        if runner is not None:
            await runner.cleanup()
        await account_store.close(db)
        await db.dispose()


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
    from bot.cli import settings_from

    settings = settings_from(ctx)
    ctx.exit(asyncio.run(_main(settings, concurrency, once, metrics_port)))
