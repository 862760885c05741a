"""`GET /metrics` in the Prometheus text format.

The web process answers with its own counters and the gauges read from the database
at scrape time. A worker started with `--metrics-port` serves its own counters (action
durations and outcomes) on a small server of its own (`serve_process_metrics`).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics as collected
from bot.web.keys import RUNTIME

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await collected.exposition(runtime.db, runtime.services.clock())
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _process_metrics(_request: web.Request) -> web.Response:
    body = generate_latest(collected.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve_process_metrics(host: str, port: int) -> web.AppRunner:
    """Start `GET /metrics` with this process's counters only; the caller cleans it up."""
    app = web.Application()
    app.router.add_get("/metrics", _process_metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
