"""Liveness and readiness: is the process up, and can it serve (database, schema)?"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from bot.web.keys import RUNTIME
from storage.db import Database

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

PROBE_SECONDS = 5.0  # a probe must answer even when the database hangs


async def database_reachable(db: Database) -> bool:
    """One `SELECT 1`, bounded in time; False on any failure."""
    try:
        async with asyncio.timeout(PROBE_SECONDS), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # unreachable, refused, timed out: all mean "not reachable"
        log.info("database probe failed: %s", type(exc).__name__)
        return False
    return True


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    # Imported here: Alembic costs the web process ~35 MB, and only this probe needs it.
    from storage.migrate import schema_is_current

    db = request.app[RUNTIME].db
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await schema_is_current(db)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return web.json_response(
            {"ready": False, "database": "unreachable", "error": type(exc).__name__}, status=503
        )
    if not current:
        return web.json_response(
            {"ready": False, "database": "ok", "schema": "outdated: run `privacybot db upgrade`"},
            status=503,
        )
    return web.json_response({"ready": True, "database": "ok", "schema": "current"})
