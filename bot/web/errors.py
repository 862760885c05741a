"""Every HTTP error as JSON a person can read; database outages as 503, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RETRY_AFTER = "5"  # seconds a client should wait after a 503 (database unavailable)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        kept = {k: v for k, v in exc.headers.items() if k in ("Retry-After", "Allow")}
        return json_error(exc.status, exc.reason, kept)
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError) as exc:
        log.warning("database unavailable: %s", type(exc).__name__)
        return json_error(
            503,
            "The service is temporarily unavailable. Please try again shortly.",
            {"Retry-After": RETRY_AFTER},
        )
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "Something went wrong on our side. Please try again.")
