"""Slack under load: full-path capacity, and how fast events are acknowledged at 1x and 2x.

The web process stores each signed event and acknowledges it, then works on it after the
acknowledgement (`bot.channels.slack.inbox`), shedding with 503 + Retry-After when its
queue is full. Measured here, against the product with every channel configured:
- capacity (events/s): a burst of as many unique `message.im` events as the inbox
  queues, each a full turn whose reply is posted to the Web API stand-in; first event
  sent to last reply received. Baseline: a no-op bolt AsyncApp's events/s (it only acks).
- ack p99 at 1x and 2x capacity: an open-loop run at the measured capacity and at twice
  it; the p99 from when each event was due to its answer (200, or 503 when shed),
  so queueing is counted. Baseline: the no-op bolt app at the same rates. Goal < 100 ms:
  Slack retries what is not answered within 3 seconds, and an overloaded bot must shed,
  not make Slack wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.measure import Figure, below, figure, progress
from bench.servers import Server, expect, load
from bench.telegram_load import BotApi
from bot.channels.slack.inbox import BACKLOG

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - a local stand-in's
BOT_TOKEN = "xoxb-bench-token"  # noqa: S105 - accepted only by the local stand-in
TEXTS = ("hej", "hvad gemmer I om mig?", "tak for hjælpen", "hello, what data do you keep?")
CONCURRENCY = 16
REPLY_TIMEOUT = 120.0
ACK_GOAL_MS = 100


@dataclass
class StandIn:
    """The Slack Web API (and the other outside APIs the product is configured with, the
    Telegram Bot API among them): answers every call; records when the first reply
    reached each DM channel."""

    first_reply: dict[str, float] = field(default_factory=dict)
    telegram: BotApi = field(default_factory=BotApi)
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

    async def _api_any(self, _request: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response({"ok": True, "result": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/bot{token}/{method}", self.telegram.answer)
        app.router.add_post("/{tail:.*}", self._api_any)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def replied(self, run: str) -> list[float]:
        """When each DM of `run` got its first reply."""
        prefix = f"D{run}"
        return [at for channel, at in self.first_reply.items() if channel.startswith(prefix)]


def channel(run: str, index: int) -> str:
    return f"D{run}{index:08d}"


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


def events(count: int) -> tuple[str, list[list[Any]]]:
    """`count` unique events of a new run, and the run's id."""
    run, now = secrets.token_hex(3), int(time.time())
    return run, [slack_request(i, run, now) for i in range(count)]


async def _replies(stand_in: StandIn, run: str, expected: int) -> float:
    """Wait (polling the stand-in's record) for `expected` replies of `run`; the last one's
    time."""
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline:
        replied = stand_in.replied(run)
        if len(replied) >= expected:
            return max(replied, default=time.time())
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{expected - len(stand_in.replied(run))} Slack events got no reply in time")


@dataclass(frozen=True)
class AckRun:
    p99_ms: float
    acked: int
    shed: int


async def _send(
    server: Server, requests: list[list[Any]], folder: Path, **how: Any
) -> dict[str, Any]:
    """One load generator run against `server`: closed loop ("max") unless `rate` is given."""
    spec = {
        "port": server.port,
        "requests": requests,
        "mode": "rate" if "rate" in how else "max",
        "concurrency": 64 if "rate" in how else CONCURRENCY,
        "cycle": False,
        **how,
    }
    return await load(spec, folder)


async def capacity(server: Server, stand_in: StandIn, folder: Path) -> float:
    """Full-path events/s: a burst the inbox queues whole, first sent to last reply."""
    run, requests = events(BACKLOG)
    result = await _send(server, requests, folder, seconds=600)
    expect(result, "slack burst", ("200", "503"))
    acked = int(result["statuses"].get("200", 0))
    last = await _replies(stand_in, run, acked)
    return acked / (last - float(result["started"]))


async def acks_at(
    server: Server, rate: float, seconds: float, folder: Path, stand_in: StandIn | None = None
) -> AckRun:
    """Open loop at `rate` events/s; the acknowledgement p99 (503s included). With the
    stand-in, waits until every acknowledged event got its reply (the queue is empty)."""
    run, requests = events(max(1, int(rate * seconds)))
    result = await _send(server, requests, folder, rate=rate, seconds=seconds)
    expect(result, f"slack events at {rate:.0f}/s", ("200", "503"))
    acked = int(result["statuses"].get("200", 0))
    if stand_in is not None:
        await _replies(stand_in, run, acked)
    return AckRun(float(result["p99_ms"]), acked, int(result["statuses"].get("503", 0)))


async def bolt_capacity(bolt: Server, seconds: float, folder: Path) -> float:
    """The no-op bolt app's events/s, closed loop."""
    _run, requests = events(2000)
    result = await _send(bolt, requests, folder, seconds=seconds, cycle=True)
    expect(result, "no-op bolt")
    return float(result["per_second"])


@dataclass
class Measured:
    capacity: float
    at_1x: AckRun
    at_2x: AckRun


async def measure_product(
    product: Server, stand_in: StandIn, seconds: float, folder: Path, tag: str
) -> Measured:
    progress(f"{tag}: Slack capacity (a burst of {BACKLOG} events, every reply posted)")
    events_per_s = await capacity(product, stand_in, folder)
    progress(f"{tag}: Slack acknowledgements at 1x and 2x {events_per_s:,.0f} events/s")
    at_1x = await acks_at(product, events_per_s, seconds, folder, stand_in)
    at_2x = await acks_at(product, 2 * events_per_s, seconds, folder, stand_in)
    return Measured(events_per_s, at_1x, at_2x)


async def figures(
    measured: Measured, bolt: Server, seconds: float, folder: Path, backend: str, tag: str
) -> list[Figure]:
    """The baselines at the same rates, and the figures."""
    progress(f"{tag}: no-op bolt AsyncApp baseline")
    bolt_per_s = await bolt_capacity(bolt, seconds, folder)
    bolt_1x = await acks_at(bolt, measured.capacity, seconds, folder)
    bolt_2x = await acks_at(bolt, 2 * measured.capacity, seconds, folder)
    progress(
        f"{tag}: Slack {measured.capacity:,.0f} events/s (no-op bolt {bolt_per_s:,.0f}/s); "
        f"ack p99 {measured.at_1x.p99_ms:.1f} ms at 1x, {measured.at_2x.p99_ms:.1f} ms at 2x "
        f"({measured.at_2x.shed} of {measured.at_2x.acked + measured.at_2x.shed} shed)"
    )
    return [
        figure(
            "ingestion.slack_capacity_per_s",
            backend,
            measured.capacity,
            "events/s",
            bolt_per_s,
            note="full path: stored, acknowledged, turn, reply posted; "
            "baseline: no-op bolt AsyncApp (ack only)",
        ),
        _ack_figure("ingestion.slack_ack_p99_at_1x", backend, measured.at_1x, bolt_1x, measured),
        _ack_figure("ingestion.slack_ack_p99_at_2x", backend, measured.at_2x, bolt_2x, measured),
    ]


def _ack_figure(
    name: str, backend: str, run: AckRun, baseline: AckRun, measured: Measured
) -> Figure:
    offered = run.acked + run.shed
    return figure(
        name,
        backend,
        run.p99_ms,
        "ms",
        baseline.p99_ms,
        below(ACK_GOAL_MS, "ms"),
        note=f"open loop; capacity {measured.capacity:.0f} events/s; {run.acked} acknowledged, "
        f"{run.shed} shed (503) of {offered}; baseline: no-op bolt at the same rate",
    )
