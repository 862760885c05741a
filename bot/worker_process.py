"""The worker process: carry out approved requests, deliver notifications, remind agents.

Built from settings here and run either on its own (`privacybot worker`, through
`main`) or inside the web process in demo mode (`run_in_process`). SIGTERM or SIGINT
stops claiming; actions in flight finish. Started while the database is away, it waits
for it (backing off) instead of exiting. Every worker also runs the retention sweep when
it is due (RETENTION_INTERVAL_SECONDS; one sweep across all workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import delivery, logs, metrics
from bot.config import Settings
from bot.notifier import Dispatcher
from bot.retention_schedule import scheduler_from
from bot.runtime import configure_workflow
from storage import account_store, migrate
from storage.db import Database
from storage.types import utcnow
from workflow import backoff
from workflow.worker import WorkerConfig, WorkerDeps, run_worker

if TYPE_CHECKING:
    from bot.runtime import Runtime

Progress = Callable[[str], None]


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
    progress: Progress | None = None,
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


async def _schema_current(db: Database, stop: asyncio.Event, progress: Progress) -> bool | None:
    """Whether the schema is current, waiting (with back-off) while the database is away.
    None when stopped before the database answered."""
    failures = 0
    while not stop.is_set():
        try:
            return await migrate.schema_is_current(db)
        except Exception as exc:  # the database may still be starting, like the worker
            failures += 1
            wait = backoff.seconds(failures, base=1.0, cap=30.0)
            progress(f"database not reachable ({type(exc).__name__}); next try in {wait:.0f}s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
    return None


async def main(
    settings: Settings,
    concurrency: int,
    once: bool,
    progress: Progress,
    metrics_port: int | None = None,
) -> int:
    """Run a worker process until stopped (or, with `once`, until nothing is due); the
    exit code: 0, or 1 when the schema is out of date or an action failed in a `once` run."""
    logs.configure(settings.log_level, settings.library_log_level)
    logs.handle_lost_connections()
    db = settings.database()
    runner = None
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        current = await _schema_current(db, stop, progress)
        if current is None:
            return 0
        if not current:
            progress(f"error: {migrate.OUT_OF_DATE}")
            return 1
        if metrics_port is not None:
            from bot.web.metrics import serve_process_metrics

            runner = await serve_process_metrics(settings.host, metrics_port)
            progress(f"worker metrics: http://{settings.host}:{metrics_port}/metrics")
        deps = build_deps(settings, db, progress=progress)
        # What start-up built (modules, mappings, the data map, catalogues) lives as long as
        # the process: out of the collector's sight, a full collection during an action
        # walks only what actions made (a tenth of a 200,000-row export's time otherwise).
        gc.freeze()
        progress(f"worker started: concurrency {concurrency}{', once' if once else ''}")
        return await run_worker(deps, stop=stop, concurrency=concurrency, once=once)
    finally:
        if runner is not None:
            await runner.cleanup()
        await account_store.close(db)
        await db.dispose()
