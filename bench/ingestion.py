"""Ingestion: web chat messages and signed Slack events through the real web process.

Three processes, all on 127.0.0.1: the server under test (`bench.webserver`), the load
generator (`bench.loadgen`), and this driver, which also plays the Slack Web API (a
local aiohttp stand-in at SLACK_API_URL that records when each reply is posted).

Timed, against the product (every channel configured: web chat, Slack, Telegram):
- web chat messages/s: POST .../messages, each a full turn (token check, rate limiter,
  state, router, reply persisted) answered in the response; closed loop, 16 connections.
- web chat p99 latency at 200 requests/s (open loop), request to response.
- Slack: full-path capacity and the acknowledgement p99 at 1x and 2x that capacity
  (`bench.slack_load`).
- peak RSS of the web process after all of it, Telegram updates included
  (`bench.telegram_load`: customers in private chats, each reply sent to the stand-in).
Baselines, answering the same requests in the same run: a bare aiohttp handler (web
chat; the best of three runs of each, run in turns) and a slack-bolt AsyncApp whose
listener only acks (Slack events).
Goals: web chat >= 0.1 x bare aiohttp; web chat p99 < 50 ms at 200/s; Slack acknowledged
with p99 < 100 ms at 1x and 2x capacity; web process RSS < 200 MB.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import seeding, slack_load, telegram_load
from bench.measure import Figure, below, figure, peak_rss_mb, progress, ratio_at_least
from bench.servers import Server, expect, load
from bench.slack_load import BOT_TOKEN, SIGNING_SECRET, StandIn

CONVERSATIONS = 200
TEXTS = ("hej", "hvad gemmer I om mig?", "tak for hjælpen", "hello, what data do you keep?")
CONCURRENCY = 16
RATE = 200.0
ROUNDS = 3  # max-load runs of each server, in turns (`_alternated`)


@dataclass
class Sizes:
    seconds: float  # closed-loop throughput runs
    rate_seconds: float  # open-loop latency runs (web chat at RATE/s, Slack at 1x and 2x)


FULL = Sizes(seconds=6.0, rate_seconds=6.0)
QUICK = Sizes(seconds=1.5, rate_seconds=1.5)


# --- requests ---------------------------------------------------------------------------


async def open_conversations(server: Server, count: int) -> list[tuple[str, str]]:
    async with aiohttp.ClientSession() as client:
        found = []
        for _ in range(count):
            async with client.post(server.url("/webchat/api/conversations"), json={}) as answer:
                answer.raise_for_status()
                body = await answer.json()
            found.append((body["conversation_id"], body["token"]))
        return found


def webchat_requests(conversations: list[tuple[str, str]], count: int) -> list[list[Any]]:
    requests = []
    for index in range(count):
        conversation_id, token = conversations[index % len(conversations)]
        requests.append(
            [
                f"/webchat/api/conversations/{conversation_id}/messages",
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                json.dumps({"text": TEXTS[index % len(TEXTS)]}),
            ]
        )
    return requests


# --- the runs ---------------------------------------------------------------------------


def _max_spec(port: int, requests: list[list[Any]], seconds: float) -> dict[str, Any]:
    return {
        "port": port,
        "requests": requests,
        "mode": "max",
        "concurrency": CONCURRENCY,
        "seconds": seconds,
        "cycle": True,
    }


def _rate_spec(port: int, requests: list[list[Any]], seconds: float) -> dict[str, Any]:
    return {
        "port": port,
        "requests": requests,
        "mode": "rate",
        "rate": RATE,
        "seconds": seconds,
        "concurrency": 64,
        "cycle": True,
    }


def _env(url: str, stand_in: StandIn, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "WARNING",
            "DEMO": "false",
            "PUBLIC_URL": "http://127.0.0.1:8080",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{stand_in.url}/api/",
            "TELEGRAM_BOT_TOKEN": "123456:bench-telegram-token",
            "TELEGRAM_WEBHOOK_SECRET": telegram_load.WEBHOOK_SECRET,
            "TELEGRAM_API_URL": stand_in.url,
            "SMS_API_URL": f"{stand_in.url}/sms/",
            "SMS_API_TOKEN": "bench-sms-token",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
    )
    return env


async def _alternated(
    bare: Server, product: Server, chat: list[list[Any]], seconds: float, folder: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The best of ROUNDS max-load runs of each server (of `seconds` / 2 each), run in
    turns. On a shared machine the baseline alone moved by up to 2x between runs a
    minute apart; a neighbour only ever slows a run down, so the best run of each,
    taken from the same minutes, gives the fairest ratio."""
    best: dict[str, dict[str, Any]] = {}
    for _ in range(ROUNDS):
        for name, server in (("bare aiohttp", bare), ("web chat", product)):
            result = await load(_max_spec(server.port, chat, seconds / 2), folder)
            expect(result, name)
            if name not in best or result["per_second"] > best[name]["per_second"]:
                best[name] = result
    return best["bare aiohttp"], best["web chat"]


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    sizes = QUICK if quick else FULL
    url = await scratch.create("ingestion")
    stand_in = StandIn()
    await stand_in.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as name:
            folder = Path(name)
            figures = await _measure(backend, url, stand_in, sizes, folder)
    finally:
        await stand_in.stop()
    await scratch.drop(url)
    return figures


async def _measure(
    backend: str, url: str, stand_in: StandIn, sizes: Sizes, folder: Path
) -> list[Figure]:
    env = _env(url, stand_in, folder / "data")
    tag = f"ingestion/{backend}"
    async with Server("product", env) as product:
        conversations = await open_conversations(product, CONVERSATIONS)
        chat = webchat_requests(conversations, CONVERSATIONS * len(TEXTS))
        async with Server("bare", env) as bare:
            progress(f"{tag}: web chat and the bare aiohttp baseline, {ROUNDS} rounds each")
            bare_max, chat_max = await _alternated(bare, product, chat, sizes.seconds, folder)
            bare_rate = await load(_rate_spec(bare.port, chat, sizes.rate_seconds), folder)
            bare_rss = peak_rss_mb(bare.pid)
        chat_rate = await load(_rate_spec(product.port, chat, sizes.rate_seconds), folder)
        expect(chat_rate, "web chat at 200/s")
        slack = await slack_load.measure_product(product, stand_in, sizes.rate_seconds, folder, tag)
        progress(f"{tag}: Telegram updates through the webhook")
        telegram = await telegram_load.drive(product, stand_in.telegram)
        rss = peak_rss_mb(product.pid)
    async with Server("bolt", env) as bolt:
        slack_figures = await slack_load.figures(slack, bolt, sizes.seconds, folder, backend, tag)
    progress(
        f"{tag}: web chat {chat_max['per_second']:,.0f}/s (bare {bare_max['per_second']:,.0f}/s),"
        f" p99 web chat {chat_rate['p99_ms']:.1f} ms, Telegram {telegram['per_second']:,.0f}"
        f" updates/s, RSS {rss:.0f} MB"
    )
    return [
        figure(
            "ingestion.webchat_per_s",
            backend,
            chat_max["per_second"],
            "msgs/s",
            bare_max["per_second"],
            ratio_at_least(0.1),
            note="baseline: bare aiohttp handler",
        ),
        figure(
            "ingestion.webchat_p99_at_200",
            backend,
            chat_rate["p99_ms"],
            "ms",
            bare_rate["p99_ms"],
            below(50, "ms"),
            note="baseline: bare aiohttp at the same rate",
        ),
        *slack_figures,
        figure(
            "ingestion.web_peak_rss",
            backend,
            rss,
            "MB",
            bare_rss,
            below(200, "MB"),
            note=(
                "every channel configured and used (web chat, Slack,"
                f" {telegram['updates']:.0f} Telegram updates); baseline: the bare aiohttp process"
            ),
        ),
    ]
