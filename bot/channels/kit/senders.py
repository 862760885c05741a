"""A channel's notification sender, registered while the channel runs, and the drain.

Slack (web process and Socket Mode) and Telegram register a sender with
`bot.delivery` when they start; at shutdown the sender goes first (no new sends start)
and the work already running is given `DRAIN_SECONDS` to finish before the runtime
cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot import delivery
from bot.delivery import Sender
from bot.tasks import BackgroundTasks

DRAIN_SECONDS = 10.0


async def drain(tasks: BackgroundTasks, seconds: float = DRAIN_SECONDS) -> None:
    """Wait up to `seconds` for running background work to finish on its own."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tasks.drain(), timeout=seconds)


@contextlib.asynccontextmanager
async def sending(channel: str, sender: Sender, tasks: BackgroundTasks) -> AsyncIterator[None]:
    """Register `sender` for `channel` inside the block; unregister, then drain, after it."""
    delivery.register_sender(channel, sender)
    try:
        yield
    finally:
        delivery.unregister_sender(channel)
        await drain(tasks)


def mount(
    app: web.Application, channel: str, make_sender: Callable[[], Sender], tasks: BackgroundTasks
) -> None:
    """`sending` for the life of an aiohttp application: from startup to shutdown."""
    running: list[contextlib.AbstractAsyncContextManager[None]] = []

    async def start(_app: web.Application) -> None:
        context = sending(channel, make_sender(), tasks)
        await context.__aenter__()
        running.append(context)

    async def stop(_app: web.Application) -> None:
        while running:
            await running.pop().__aexit__(None, None, None)

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
