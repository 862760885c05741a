"""Run the web process until SIGINT/SIGTERM, then shut down cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from aiohttp import web

from bot import logs
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.app import create_app
from storage import demo_seed, migrate

log = logging.getLogger(__name__)


async def prepare_demo(runtime: Runtime) -> None:
    """Demo mode: bring the schema up to date and make sure the demo accounts exist."""
    await migrate.upgrade(runtime.db)
    async with runtime.db.transaction() as session:
        await demo_seed.seed(session)


def freeze_startup_objects() -> None:
    """What start-up built (modules, mappings, the recogniser's tables, the catalogues)
    lives as long as the process: out of the collector's sight, a full collection walks
    only what requests made. A full collection of the started web process took 90 ms, a
    stall of every request in flight (it was the one slow Slack acknowledgement of a
    benchmark run); the worker does the same (`bot/worker_process.py`)."""
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> int:
    logs.configure(settings.log_level, settings.library_log_level)
    logs.handle_lost_connections()
    runtime = Runtime.build(settings)
    if settings.demo:
        await prepare_demo(runtime)
    elif not await migrate.schema_is_current(runtime.db):
        await runtime.db.dispose()
        print(f"error: {migrate.OUT_OF_DATE} first", file=sys.stderr)
        return 1
    app = create_app(runtime)
    stop = asyncio.Event()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    freeze_startup_objects()
    address = f"http://{settings.host}:{settings.port}/"
    print(f"privacybot is running. Web chat: {address}", flush=True)
    if settings.demo:
        print(f"Demo mode: one-time codes are shown at {address}dev/outbox", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # demo mode is one process: it runs the worker too, so approved requests get done
    worker = None
    if settings.demo:
        from bot.worker_process import run_in_process

        worker = asyncio.create_task(run_in_process(runtime, stop), name="worker")
    await stop.wait()
    log.info("shutting down")
    if worker is not None:
        await worker  # finishes the actions in flight, claims no new ones
    await runner.cleanup()
    return 0
