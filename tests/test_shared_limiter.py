"""The shared limiter's leases (13.1): a process claims several hits in one round trip and
spends them from memory, yet all processes together never let more than the limit through
in a window, and a client's budget is not lost when every process keeps being asked."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.web.ratelimit import SharedLimiter
from storage import keys, ratelimits
from storage.db import Database
from storage.security_models import RateLimitCounter

SECRET = b"fixed-test-secret"
NOW = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)


def _two_processes(limit: int) -> list[SharedLimiter]:
    return [SharedLimiter("webchat", limit, 60.0, lease=16) for _ in range(2)]


async def _counted(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.sum(RateLimitCounter.hits))) or 0)


async def test_two_processes_asked_in_turn_let_exactly_the_limit_through(db: Database) -> None:
    limiters = _two_processes(120)
    waits = [await limiters[n % 2].hit(db, SECRET, "198.51.100.1", NOW) for n in range(300)]
    allowed = [n for n, wait in enumerate(waits) if wait == 0.0]
    assert len(allowed) == 120, "no more than the limit, and none of it lost"
    assert all(0 < wait <= 55.0 for wait in waits[allowed[-1] + 1 :]), "the rest wait"
    assert await _counted(db) < 300, "refused hits past the limit are not written each time"
    other = await limiters[1].hit(db, SECRET, "198.51.100.2", NOW)
    assert other == 0.0, "another client has its own budget"


async def test_concurrent_bursts_on_two_processes_never_pass_the_limit(db: Database) -> None:
    limiters = _two_processes(50)
    waits = await asyncio.gather(
        *(limiters[n % 2].hit(db, SECRET, "198.51.100.1", NOW) for n in range(200))
    )
    assert sum(1 for wait in waits if wait == 0.0) == 50


async def test_a_fresh_clients_burst_under_the_limit_is_all_allowed_in_few_round_trips(
    db: Database,
) -> None:
    limiter = SharedLimiter("webchat", 10**9, 60.0, lease=16)
    waits = await asyncio.gather(*(limiter.hit(db, SECRET, "198.51.100.1", NOW) for _ in range(64)))
    assert waits == [0.0] * 64
    assert await _counted(db) == 64, "claimed 16 at a time, each claim spent in full"


async def test_without_a_lease_every_hit_is_counted_in_the_database(db: Database) -> None:
    limiter = SharedLimiter("login", 5, 60.0)
    waits = [await limiter.hit(db, SECRET, "198.51.100.1", NOW) for _ in range(5)]
    assert waits == [0.0] * 5 and await _counted(db) == 5
    assert await limiter.hit(db, SECRET, "198.51.100.1", NOW) > 0.0
    assert await limiter.blocked(db, SECRET, "198.51.100.1", NOW) > 0.0


async def test_sqlite_counts_on_the_event_loop_and_waits_on_a_thread_when_busy(
    db: Database,
) -> None:
    """The counting upsert runs on the event loop's own SQLite connection (no thread hop
    for most claims); while another process writes, it waits on a thread, and the count
    is still exact."""
    on_loop = db.on_loop()
    if on_loop is None:
        pytest.skip("SQLite's statements on the event loop")
    seen: list[str] = []
    on_loop.connection.set_trace_callback(seen.append)
    expires = datetime(2026, 3, 2, 10, 1, 1, tzinfo=UTC)
    try:
        assert await ratelimits.count_hits(db, "webchat:loop", expires, 3) == 3
    finally:
        on_loop.connection.set_trace_callback(None)
    assert any("INSERT INTO rate_limit_counters" in sql for sql in seen), seen
    other = sqlite3.connect(on_loop.path, isolation_level=None)  # another process writes
    try:
        other.execute("BEGIN IMMEDIATE")
        counting = asyncio.create_task(ratelimits.count_hits(db, "webchat:loop", expires, 2))
        for _ in range(3):
            await asyncio.sleep(0)  # let it run up to where it waits
        assert not counting.done(), "refused at once on the loop; waiting on a thread"
        other.execute("COMMIT")
    finally:
        other.close()
    assert await counting == 5
    assert await _counted(db) == 5


async def test_a_clients_bucket_is_hashed_once_per_window_and_a_new_window_starts_afresh(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = keys.mac_hex

    def counting(secret: bytes, purpose: str, value: str | bytes) -> str:
        hashed.append(str(value))
        return real(secret, purpose, value)

    monkeypatch.setattr(keys, "mac_hex", counting)
    limiter = SharedLimiter("webchat", 3, 60.0)
    waits = [await limiter.hit(db, SECRET, "198.51.100.1", NOW) for _ in range(5)]
    assert waits[:3] == [0.0] * 3 and all(wait > 0 for wait in waits[3:])
    assert len(hashed) == 1, "one keyed hash for the client's window"
    later = NOW + timedelta(seconds=60)
    assert await limiter.hit(db, SECRET, "198.51.100.1", later) == 0.0, "a new window"
    assert len(hashed) == 2
