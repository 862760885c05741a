"""The web servers the ingestion benchmark loads, each run as its own process.

`python -m bench.webserver product|bare|bolt` listens on 127.0.0.1 (a free port), prints
`{"port": N}` once it accepts connections, and stops on SIGTERM. With BENCH_REUSE_PORT
set (a port number, or 0 for a free one) it listens with SO_REUSEPORT, so several
processes can share one port and the kernel spreads the connections among them.
- product: the real web process (`bot.web.app.create_app`) from the environment's
  settings, with every channel configured. The one change: the web chat's flood limits
  are raised, because the whole load comes from one address (the limiter still runs).
- bare: a bare aiohttp handler that reads the body and answers `{"replies": []}`.
- bolt: a slack-bolt AsyncApp (signature verification on) whose listener only acks,
  behind bolt's own aiohttp adapter, as the product's is.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from aiohttp import web


def _product() -> web.Application:
    from bot import logs
    from bot.channels import webchat
    from bot.config import load_settings
    from bot.runtime import Runtime
    from bot.web.app import create_app
    from bot.web.ratelimit import CLIENT_LIMIT, RateLimiter

    settings = load_settings()
    logs.configure(settings.log_level)
    app = create_app(Runtime.build(settings))
    app[webchat.LIMITS] = webchat.Limits(per_conversation=RateLimiter(limit=10**9, window=60.0))
    app[CLIENT_LIMIT].limit = 10**9  # still counted in the database, as in production
    return app


def _bare() -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"replies": []})

    app = web.Application()
    app.router.add_post("/webchat/api/conversations/{conversation_id}/messages", answer)
    app.router.add_post("/slack/events", answer)
    return app


def _bolt() -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        process_before_response=True,
    )

    @bolt.event("message")
    async def noop(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


async def serve(mode: str) -> None:
    app = {"product": _product, "bare": _bare, "bolt": _bolt}[mode]()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    shared = os.environ.get("BENCH_REUSE_PORT")
    if shared is None:
        site = web.TCPSite(runner, "127.0.0.1", 0)
    else:
        site = web.TCPSite(runner, "127.0.0.1", int(shared), reuse_port=True)
    await site.start()
    port = runner.addresses[0][1]
    if mode == "product":
        from bot.server import freeze_startup_objects

        freeze_startup_objects()  # as the web process does once started
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"port": port}), flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
