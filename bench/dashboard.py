"""Dashboard: `/agent/overview` over a year of history with 10,000 requests.

Seeded in bulk (not through the workflow, which a benchmark need not replay): 10,000
requests over twelve months, each closed one with its closing status event, 8,760
hourly retention sweep entries and a day's verification codes. Timed: GET
/agent/overview (default period: twelve months) through the real console application,
signed in, with aiohttp's client on 127.0.0.1; the median of the runs. Baseline: GET
/agent/alerts, a trivial console page through the same middleware, session and
template, in the same run. Goal: the overview's median under 200 ms.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from bench import seeding
from bench.measure import Figure, below, figure, progress
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.agent import accounts, sessions
from bot.web.app import create_app
from storage.db import Database
from storage.models import Conversation, VerificationCode
from storage.privacy_models import AuditEntry, PrivacyRequest, RequestEvent
from workflow import deadlines, lifecycle

REQUESTS = 10_000
QUICK_REQUESTS = 1_000
RUNS, QUICK_RUNS = 30, 8
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - scratch data
CHANNELS = ("webchat", "slack", "telegram")


Rows = list[dict[str, Any]]


def _history(count: int, accounts: list[int], now: datetime) -> tuple[Rows, Rows]:
    rng = random.Random(17)
    requests: Rows = []
    events: Rows = []
    for index in range(count):
        received = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        extension = 1 if rng.random() < 0.05 else 0
        due = deadlines.due_date(received, extension)
        roll = rng.random()
        status = "completed" if roll < 0.8 else "rejected" if roll < 0.88 else "cancelled"
        closed = received + timedelta(hours=rng.randint(2, 40 * 24))
        if closed >= now:
            status = "awaiting_approval"
        requests.append(
            {
                "id": index + 1,
                "reference": f"PR-D{index:07d}",
                "kind": rng.choice(lifecycle.KINDS),
                "status": status,
                "account_id": accounts[index % len(accounts)],
                "channel": rng.choice(CHANNELS),
                "language": rng.choice(("da", "en")),
                "requester_ref": f"bench-{index}",
                "details": {},
                "received_at": received,
                "due_at": due,
                "extended": bool(extension),
                "extension_months": extension,
                "extension_reason": "Large export." if extension else None,
                "decision_reason": "Duplicate." if status == "rejected" else None,
                "completed_at": closed if status == "completed" else None,
                "updated_at": closed if status in lifecycle.CLOSED else received,
                "version": 1,
            }
        )
        events.append(
            {
                "request_id": index + 1,
                "at": received,
                "from_status": None,
                "to_status": "received",
                "actor": "customer",
            }
        )
        if status in lifecycle.CLOSED:
            events.append(
                {
                    "request_id": index + 1,
                    "at": closed,
                    "from_status": "in_progress",
                    "to_status": status,
                    "actor": "worker",
                }
            )
    return requests, events


async def _seed(url: str, count: int, now: datetime) -> None:
    db = Database(url)
    try:
        accounts = await seeding.add_accounts(db, 500, now)
        requests, events = _history(count, accounts, now)
        sweeps = [
            {
                "id": n + 1,
                "at": now - timedelta(hours=n + 1),
                "actor": "retention",
                "event": "retention_sweep",
                "request_id": None,
                "data": {"counts": {"sms_messages_anonymised": 40, "verification_codes_purged": 3}},
                "prev_hash": "0" * 64,
                "hash": "0" * 64,
            }
            for n in range(365 * 24)
        ]
        async with db.transaction() as session:
            for start in range(0, len(requests), 2000):
                await session.execute(insert(PrivacyRequest), requests[start : start + 2000])
            for start in range(0, len(events), 2000):
                await session.execute(insert(RequestEvent), events[start : start + 2000])
            for start in range(0, len(sweeps), 2000):
                await session.execute(insert(AuditEntry), sweeps[start : start + 2000])
            session.add(Conversation(id="bench-chat", channel="webchat", external_id="bench"))
            await session.flush()
            await session.execute(
                insert(VerificationCode),
                [
                    {
                        "conversation_id": "bench-chat",
                        "channel": "email",
                        "code_hash": "x",
                        "attempts": n % 6,
                        "expires_at": now,
                        "created_at": now - timedelta(hours=n),
                    }
                    for n in range(24)
                ],
            )
    finally:
        await db.dispose()
    await seeding.analyse(url)


async def _timed(url: str, data_dir: Path, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds per GET of the overview and of the baseline page."""
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=data_dir)
    runtime = Runtime.build(settings)
    async with runtime.db.transaction() as session:
        agent = await accounts.add(session, "bench", "a long bench password", language="en")
        token = await sessions.start(
            session, runtime.services.secret, agent, runtime.services.clock()
        )
    app = create_app(runtime)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    overview: list[float] = []
    baseline: list[float] = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            jar.update_cookies({sessions.COOKIE: token}, server.make_url("/agent/"))
            for path, into in (("/agent/overview", overview), ("/agent/alerts", baseline)):
                for attempt in range(runs + 2):  # two warm-up requests each
                    start = time.perf_counter()
                    async with http.get(server.make_url(path)) as response:
                        body = await response.text()
                    elapsed = (time.perf_counter() - start) * 1000
                    if response.status != 200 or "<h1>" not in body:
                        raise RuntimeError(f"{path} answered {response.status}")
                    if attempt >= 2:
                        into.append(elapsed)
    finally:
        await server.close()
    return overview, baseline


async def run(backend: str, scratch: seeding.Scratch, *, quick: bool) -> list[Figure]:
    count = QUICK_REQUESTS if quick else REQUESTS
    now = datetime.now(UTC)
    url = await scratch.create("dashboard")
    progress(f"dashboard/{backend}: seeding {count:,} requests over a year")
    await _seed(url, count, now)
    progress(f"dashboard/{backend}: timing /agent/overview against /agent/alerts")
    overview, baseline = await _timed(url, scratch.folder, QUICK_RUNS if quick else RUNS)
    median, base = statistics.median(overview), statistics.median(baseline)
    return [
        figure(
            "dashboard.overview_ms",
            backend,
            median,
            "ms",
            base,
            below(200, "ms"),
            note=f"median of {len(overview)} GETs, {count:,} requests; baseline: /agent/alerts",
        )
    ]
