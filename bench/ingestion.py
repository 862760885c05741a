"""Ingestion: web chat messages and signed Slack events through the real web process.

Three processes, all on 127.0.0.1: the server under test (`bench.webserver`), the load
generator (`bench.loadgen`), and this driver, which also plays the Slack Web API (a
local aiohttp stand-in at SLACK_API_URL that records when each reply is posted).

Timed, against the product (every channel configured: web chat, Slack, Telegram):
- web chat messages/s: POST .../messages, each a full turn (token check, rate limiter,
  state, router, reply persisted) answered in the response; closed loop, 16 connections.
- Slack events/s: signed `message.im` events with unique event ids (verify, dedupe,
  ack, then the turn and the reply posted to the stand-in); counted until the last
  reply has arrived.
- p99 latency at 200 requests/s (open loop): web chat request to response; Slack
  event sent to reply received by the stand-in.
- peak RSS of the web process after all of it.
Baselines, answering the same requests in the same run: a bare aiohttp handler (web
chat) and a slack-bolt AsyncApp whose listener only acks (Slack events).
Goals: Slack >= 0.5 x no-op bolt; web chat >= 0.1 x bare aiohttp; p99 < 50 ms at
200/s; web process RSS < 200 MB.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench import seeding
from bench.measure import Figure, below, figure, peak_rss_mb, percentile, progress, ratio_at_least

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - a local stand-in's
BOT_TOKEN = "xoxb-bench-token"  # noqa: S105 - accepted only by the local stand-in
CONVERSATIONS = 200
TEXTS = ("hej", "hvad gemmer I om mig?", "tak for hjælpen", "hello, what data do you keep?")
CONCURRENCY = 16
RATE = 200.0
START_TIMEOUT = 60.0
REPLY_TIMEOUT = 120.0


@dataclass
class Sizes:
    seconds: float  # closed-loop throughput runs
    rate_seconds: float  # open-loop latency runs at RATE/s
    slack_events: int  # unique events in the product's throughput run


FULL = Sizes(seconds=6.0, rate_seconds=6.0, slack_events=2000)
QUICK = Sizes(seconds=1.5, rate_seconds=1.5, slack_events=150)


# --- the Slack Web API stand-in ---------------------------------------------------------


@dataclass
class StandIn:
    """Answers the Web API calls; records the first reply per DM channel (wall clock)."""

    first_reply: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    runner: web.AppRunner | None = None
    url: str = ""

    async def _api(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        if method == "chat.postMessage":
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = dict(await request.post())
            channel = str(body.get("channel", ""))
            self.first_reply.setdefault(channel, time.time())
            return web.json_response({"ok": True, "channel": channel, "ts": "1.000001"})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "bot"}
            )
        return web.json_response({"ok": True, "result": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/{tail:.*}", self._api_any)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def _api_any(self, _request: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response({"ok": True, "result": True})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


# --- processes --------------------------------------------------------------------------


class Server:
    """One `bench.webserver` child process."""

    def __init__(self, mode: str, env: dict[str, str]) -> None:
        self.mode, self.env = mode, env
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def __aenter__(self) -> Server:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.webserver",
            self.mode,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
            self.port = int(json.loads(line)["port"])
        except (ValueError, KeyError, TimeoutError):
            await self._stop()
            error = b""
            if self.process.stderr is not None:
                error = await self.process.stderr.read()
            raise RuntimeError(
                f"{self.mode} server did not start: {error.decode()[-1500:]}"
            ) from None
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def _stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def __aexit__(self, *_exc: object) -> None:
        await self._stop()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def load(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run `bench.loadgen` in its own process with `spec`; its result."""
    path = folder / f"load-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(spec))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=600)
    path.unlink(missing_ok=True)
    if child.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()[-1500:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"load generator: {result['errors']} connection errors")
    return result


def _ok(result: dict[str, Any], what: str, expected: str = "200") -> None:
    bad = {code: n for code, n in result["statuses"].items() if code != expected}
    if bad or not result["done"]:
        raise RuntimeError(f"{what}: unexpected answers {bad} ({result['done']} done)")


# --- requests ---------------------------------------------------------------------------


def slack_request(index: int, run: str, now: int) -> list[Any]:
    """A signed `message.im` event from its own DM channel, exactly as Slack signs it."""
    body = json.dumps(
        {
            "token": "bench",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{run}{index:08d}",
            "event_time": now,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": channel(run, index),
                "user": f"U{index:08d}",
                "text": TEXTS[index % len(TEXTS)],
                "ts": f"{now}.{index:06d}",
                "event_ts": f"{now}.{index:06d}",
            },
        }
    )
    base = f"v0:{now}:{body}".encode()
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": signature,
    }
    return ["/slack/events", headers, body]


def channel(run: str, index: int) -> str:
    return f"D{run}{index:08d}"


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


async def _replies(stand_in: StandIn, channels: list[str], within: float) -> None:
    """Wait (polling the stand-in's record) until every channel got its reply."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(c in stand_in.first_reply for c in channels):
            return
        await asyncio.sleep(0.05)
    missing = sum(1 for c in channels if c not in stand_in.first_reply)
    raise RuntimeError(f"{missing} of {len(channels)} Slack events got no reply in time")


async def _slack_throughput(server: Server, stand_in: StandIn, sizes: Sizes, folder: Path) -> float:
    """Events/s through the whole path: first event sent to last reply received."""
    run, now = secrets.token_hex(3), int(time.time())
    requests = [slack_request(i, run, now) for i in range(sizes.slack_events)]
    spec = {
        "port": server.port,
        "requests": requests,
        "mode": "max",
        "concurrency": CONCURRENCY,
        "seconds": 600,
        "cycle": False,
    }
    result = await load(spec, folder)
    _ok(result, "slack events")
    channels = [channel(run, i) for i in range(result["done"])]
    await _replies(stand_in, channels, REPLY_TIMEOUT)
    last = max(stand_in.first_reply[c] for c in channels)
    return len(channels) / (last - float(result["started"]))


async def _slack_latency(
    server: Server, stand_in: StandIn, sizes: Sizes, folder: Path
) -> tuple[float, float]:
    """p99 of event sent -> reply received at RATE/s, and the ack p99."""
    run, now = secrets.token_hex(3), int(time.time())
    count = int(RATE * sizes.rate_seconds)
    requests = [slack_request(i, run, now) for i in range(count)]
    spec = {
        "port": server.port,
        "requests": requests,
        "mode": "rate",
        "rate": RATE,
        "seconds": sizes.rate_seconds,
        "concurrency": 64,
        "cycle": False,
    }
    result = await load(spec, folder)
    _ok(result, "slack events at 200/s")
    channels = [channel(run, i) for i in range(count)]
    await _replies(stand_in, channels, REPLY_TIMEOUT)
    latencies = [
        stand_in.first_reply[c] - sent for c, sent in zip(channels, result["sent_at"], strict=True)
    ]
    return percentile(latencies, 99) * 1000, float(result["p99_ms"])


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
            "TELEGRAM_WEBHOOK_SECRET": "bench-telegram-webhook-secret",
            "TELEGRAM_API_URL": stand_in.url,
            "SMS_API_URL": f"{stand_in.url}/sms/",
            "SMS_API_TOKEN": "bench-sms-token",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
    )
    return env


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
            progress(f"{tag}: bare aiohttp baseline")
            bare_max = await load(_max_spec(bare.port, chat, sizes.seconds), folder)
            _ok(bare_max, "bare aiohttp")
            bare_rate = await load(_rate_spec(bare.port, chat, sizes.rate_seconds), folder)
            bare_rss = peak_rss_mb(bare.pid)
        async with Server("bolt", env) as bolt:
            progress(f"{tag}: no-op bolt AsyncApp baseline")
            run_id, now = secrets.token_hex(3), int(time.time())
            events = [slack_request(i, run_id, now) for i in range(2000)]
            bolt_max = await load(_max_spec(bolt.port, events, sizes.seconds), folder)
            _ok(bolt_max, "no-op bolt")
            bolt_rate = await load(_rate_spec(bolt.port, events, sizes.rate_seconds), folder)
        progress(f"{tag}: web chat through the web process")
        chat_max = await load(_max_spec(product.port, chat, sizes.seconds), folder)
        _ok(chat_max, "web chat")
        chat_rate = await load(_rate_spec(product.port, chat, sizes.rate_seconds), folder)
        _ok(chat_rate, "web chat at 200/s")
        progress(f"{tag}: Slack events through the web process")
        slack_rate = await _slack_throughput(product, stand_in, sizes, folder)
        slack_p99, ack_p99 = await _slack_latency(product, stand_in, sizes, folder)
        rss = peak_rss_mb(product.pid)
    progress(
        f"{tag}: web chat {chat_max['per_second']:,.0f}/s (bare {bare_max['per_second']:,.0f}/s),"
        f" Slack {slack_rate:,.0f}/s (bolt {bolt_max['per_second']:,.0f}/s), p99 web chat "
        f"{chat_rate['p99_ms']:.1f} ms, Slack {slack_p99:.1f} ms (ack {ack_p99:.1f} ms), "
        f"RSS {rss:.0f} MB"
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
            "ingestion.slack_per_s",
            backend,
            slack_rate,
            "events/s",
            bolt_max["per_second"],
            ratio_at_least(0.5),
            note="until the last reply was posted; baseline: no-op bolt AsyncApp (ack only)",
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
        figure(
            "ingestion.slack_p99_at_200",
            backend,
            slack_p99,
            "ms",
            bolt_rate["p99_ms"],
            below(50, "ms"),
            note="event sent to reply posted; baseline: no-op bolt ack at the same rate",
        ),
        figure(
            "ingestion.web_peak_rss",
            backend,
            rss,
            "MB",
            bare_rss,
            below(200, "MB"),
            note="every channel configured; baseline: the bare aiohttp process",
        ),
    ]
