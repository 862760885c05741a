"""A deadline per web request: past it, 503 with Retry-After instead of a hung request.

When the database's network drops packets (a partition), a query waits for the link to
come back; the connect and statement timeouts bound that, but a request can meet several
of them in a row. So every request gets WEB_REQUEST_TIMEOUT seconds. The handler runs in
its own task: at the deadline the client gets its answer at once, while the cancelled
handler unwinds (its transaction rolls back) in the background; the task is kept until
it ends and its outcome is always retrieved, so nothing is left unobserved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.web.errors import RETRY_AFTER, json_error

log = logging.getLogger(__name__)

DEADLINE: web.AppKey[float] = web.AppKey("request_deadline", float)
UNAVAILABLE = "The service is temporarily unavailable. Please try again shortly."
_UNWINDING: set[asyncio.Task[Any]] = set()  # handlers cancelled at their deadline

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _forget(task: asyncio.Task[Any]) -> None:
    _UNWINDING.discard(task)
    error = None if task.cancelled() else task.exception()
    if error is not None:
        log.info("a request cancelled at its deadline ended with %s", type(error).__name__)


def _wake(finished: asyncio.Future[None]) -> None:
    if not finished.done():
        finished.set_result(None)


async def _handled(
    handler: Handler, request: web.Request, finished: asyncio.Future[None]
) -> web.StreamResponse:
    """The handler, waking the middleware from its own last step: a done callback
    would cost the answer one more pass of the event loop."""
    try:
        return await handler(request)
    finally:
        _wake(finished)


@web.middleware
async def deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    seconds = request.app.get(DEADLINE)
    if not seconds:
        return await handler(request)
    # One future that the handler's end or the deadline completes, whichever comes
    # first: what `asyncio.wait` does, without its sets and callbacks per call
    # (13 µs of a turn's CPU here).
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    task = loop.create_task(_handled(handler, request, finished))
    timer = loop.call_later(seconds, _wake, finished)
    try:
        await finished
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        timer.cancel()
    if task.done():
        return task.result()
    task.cancel()
    _UNWINDING.add(task)
    task.add_done_callback(_forget)
    log.warning("request deadline of %.1fs passed: answered 503", seconds)
    return json_error(503, UNAVAILABLE, {"Retry-After": RETRY_AFTER})
