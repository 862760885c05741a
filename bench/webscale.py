"""Web scale-out: web chat through 1 and 2 web processes sharing one port (SO_REUSEPORT).

The product web process (`bench.webserver product`, every channel configured) runs once
alone, then twice on one port (each with SO_REUSEPORT; the kernel spreads the load
generator's connections between them), against the same database. Timed as in
`bench.ingestion`: web chat messages/s (closed loop, 16 connections) and p99 at 200
messages/s (open loop). Answers other than 200 (a 503 when a process sheds load past
its deadline) are counted in the note instead of failing the run: the curve is the
figure. Baseline: the bare aiohttp handler, one process, in the same run.
PostgreSQL only: several SQLite writers in separate processes queue on one file lock,
which says nothing about scaling out.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from bench import seeding
from bench.ingestion import (
    CONVERSATIONS,
    TEXTS,
    Sizes,
    _env,
    _max_spec,
    _rate_spec,
    open_conversations,
    webchat_requests,
)
from bench.measure import Figure, figure, progress
from bench.servers import Server, expect, load
from bench.slack_load import StandIn

FULL = Sizes(seconds=6.0, rate_seconds=6.0)
QUICK = Sizes(seconds=1.5, rate_seconds=1.5)
ANSWERS = ("200", "503")


def _shed(result: dict[str, Any]) -> str:
    shed = int(result["statuses"].get("503", 0))
    return f"; {shed} of {result['done']} answered 503" if shed else ""


async def _through(
    processes: int, env: dict[str, str], sizes: Sizes, folder: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(Server("product", {**env, "BENCH_REUSE_PORT": "0"}))
        for _ in range(processes - 1):
            shared = {**env, "BENCH_REUSE_PORT": str(first.port)}
            await stack.enter_async_context(Server("product", shared))
        conversations = await open_conversations(first, CONVERSATIONS)
        chat = webchat_requests(conversations, CONVERSATIONS * len(TEXTS))
        most = await load(_max_spec(first.port, chat, sizes.seconds), folder)
        expect(most, f"web chat, {processes} process(es)", ANSWERS)
        rate = await load(_rate_spec(first.port, chat, sizes.rate_seconds), folder)
        expect(rate, f"web chat at 200/s, {processes} process(es)", ANSWERS)
    return most, rate


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    if backend != "postgresql":
        progress("webscale: PostgreSQL only (skipped on SQLite)")
        return []
    sizes = QUICK if quick else FULL
    url = await scratch.create("webscale")
    stand_in = StandIn()
    await stand_in.start()
    figures: list[Figure] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-webscale-") as name:
            folder = Path(name)
            env = _env(url, stand_in, folder / "data")
            same_shape = webchat_requests([("bare", "bare-token")], len(TEXTS))
            async with Server("bare", env) as bare:
                progress("webscale: bare aiohttp baseline")
                bare_max = await load(_max_spec(bare.port, same_shape, sizes.seconds), folder)
                bare_rate = await load(
                    _rate_spec(bare.port, same_shape, sizes.rate_seconds), folder
                )
            for processes in (1, 2):
                progress(f"webscale: web chat through {processes} web process(es)")
                most, rate = await _through(processes, env, sizes, folder)
                progress(
                    f"webscale: {processes} process(es): {most['per_second']:,.0f} msgs/s, "
                    f"p99 at 200/s {rate['p99_ms']:.0f} ms"
                )
                figures += [
                    figure(
                        f"webscale.webchat_per_s_{processes}p",
                        backend,
                        most["per_second"],
                        "msgs/s",
                        bare_max["per_second"],
                        note=f"baseline: bare aiohttp, 1 process{_shed(most)}",
                    ),
                    figure(
                        f"webscale.webchat_p99_at_200_{processes}p",
                        backend,
                        rate["p99_ms"],
                        "ms",
                        bare_rate["p99_ms"],
                        note=f"baseline: bare aiohttp at the same rate{_shed(rate)}",
                    ),
                ]
    finally:
        await stand_in.stop()
    await scratch.drop(url)
    return figures
