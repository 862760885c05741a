"""Long polling (`privacybot telegram poll`): for local development, no public URL needed.

The webhook is removed first (Telegram refuses getUpdates while one is set). Updates
go through the same `Inbound.process` as the webhook's, one at a time in order, and an
update is confirmed (the next getUpdates offset moves past it) only once it is handled;
when the database is unavailable the same update is tried again after a pause. The
update_id claim makes a re-fetched update, or one the webhook already handled, a no-op.
The batch is fetched as plain JSON and each update parsed on its own, leniently
(`parsing`), so one update aiogram cannot read never blocks the ones after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates

from bot.channels.telegram import parsing
from bot.channels.telegram.context import ALLOWED_UPDATES, TELEGRAM_ERRORS
from bot.channels.telegram.turns import DATABASE_ERRORS
from bot.channels.telegram.updates import Inbound

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds an empty getUpdates open
PAUSE = 5.0  # seconds to wait after an error before trying again


class RawGetUpdates(GetUpdates):
    """getUpdates answered as plain JSON objects: each is parsed on its own afterwards."""

    __returning__ = list[dict[str, Any]]


async def _until_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _fetch(inbound: Inbound, offset: int | None, stop: asyncio.Event) -> list[dict[str, Any]]:
    """One getUpdates call, abandoned as soon as `stop` is set."""
    method = RawGetUpdates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
    fetch = asyncio.ensure_future(inbound.tg.bot(method, request_timeout=POLL_TIMEOUT + 10))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (fetch, stopped):
            if not task.done():
                task.cancel()
        await asyncio.gather(fetch, stopped, return_exceptions=True)
    if not fetch.done() or fetch.cancelled():
        return []
    return cast(list[dict[str, Any]], fetch.result())  # RawGetUpdates: not parsed into Updates


async def run_polling(
    inbound: Inbound,
    stop: asyncio.Event,
    *,
    pause: float = PAUSE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fetch and handle updates until `stop` is set; returns how many were handled.

    Telegram being away is waited out; a refused token (and a failing deleteWebhook at
    the start) raises. `progress(total)` is called after each batch that handled
    something."""
    await inbound.tg.bot.delete_webhook(drop_pending_updates=False)
    handled = 0
    offset: int | None = None
    while not stop.is_set():
        try:
            updates = await _fetch(inbound, offset, stop)
        except TelegramUnauthorizedError:
            raise  # a wrong token does not heal by waiting
        except TELEGRAM_ERRORS as exc:
            log.warning("telegram getUpdates failed: %s", type(exc).__name__)
            await _until_stopped(stop, pause)
            continue
        for data in updates:
            update_id = parsing.update_id(data)
            if update_id is None:
                log.warning("telegram getUpdates gave an entry without an update_id; skipped")
                continue
            update = inbound.parse(data)
            try:
                if update is not None:
                    await inbound.process(update)
            except DATABASE_ERRORS as exc:
                log.warning(
                    "telegram update not handled, database unavailable: %s", type(exc).__name__
                )
                await _until_stopped(stop, pause)
                break  # fetched again from this offset
            offset = update_id + 1
            handled += 1
        if updates and progress is not None:
            progress(handled)
    return handled
