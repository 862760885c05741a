"""Rate limits: a sliding window in process memory, and fixed windows in the database.

`RateLimiter` (memory) is cheap on the hot path, for limits where each process limiting
what it serves is enough (messages per conversation). `SharedLimiter` keeps its counts
in the database, so every web process sees the same budget: the web chat's limit per
client address and the console's sign-in failures. Keys are stored only as keyed
hashes (no IP address or agent name in the table).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.web.client import client_address
from bot.web.keys import RUNTIME
from storage import keys, ratelimits
from storage.db import Database

PURGE_EVERY = 60.0  # seconds between clean-ups of ended windows, per limiter and process


class RateLimiter:
    """At most `limit` hits per `window` seconds per key."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float:
        """Record a hit; 0.0 when allowed, else the seconds to wait before the next one."""
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.001)
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


LEASE_SHARE = 8  # a lease takes at most this share of what is left of a window's budget


@dataclass
class _Lease:
    """One process's part of one window's shared budget."""

    window: int  # the window's index
    left: int = 0  # hits counted in the database for this process and not yet spent
    seen: int = 0  # the shared count after this process's last claim
    claiming: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class SharedLimiter:
    """At most `limit` hits per key in each fixed window of `window` seconds, counted in
    the database (a window boundary can let up to twice the limit through in a short
    span: fine for flood protection).

    With `lease` > 1 a process claims up to that many hits in one upsert and spends them
    from memory, so a busy client costs one round trip per lease rather than per request.
    A claim never takes more than 1/LEASE_SHARE of what is left (one hit at a time near
    the limit), and hits are only spent after the database counted them, so all processes
    together still let at most `limit` through per window; a hit a process has claimed
    but not spent is served by that process only. Once the shared count is spent, the
    process refuses the rest of the window without asking the database again."""

    name: str
    limit: int
    window: float
    lease: int = 1
    _purged_at: float = field(default=0.0, repr=False)
    _leases: dict[str, _Lease] = field(default_factory=dict, repr=False)
    # each key's bucket in the window it was last seen in: the keyed hash and the
    # window's end are computed once per key and window, not once per hit
    _buckets: dict[str, tuple[int, str, datetime]] = field(default_factory=dict, repr=False)

    def _bucket(self, secret: bytes, key: str, now: datetime) -> tuple[str, datetime]:
        index = int(now.timestamp() // self.window)
        known = self._buckets.get(key)
        if known is not None and known[0] == index:
            return known[1], known[2]
        mac = keys.mac_hex(secret, keys.rate_limit(self.name), key)
        ends = datetime.fromtimestamp((index + 1) * self.window, UTC)
        if len(self._buckets) >= 10_000:  # many clients at once: start again
            self._buckets.clear()
        bucket = f"{self.name}:{mac[:40]}:{index}"
        self._buckets[key] = (index, bucket, ends)
        return bucket, ends

    def _wait(self, ends: datetime, now: datetime) -> float:
        return max((ends - now).total_seconds(), 0.001)

    async def hit(self, db: Database, secret: bytes, key: str, now: datetime) -> float:
        """Count a hit; 0.0 when allowed, else the seconds until the window ends."""
        bucket, ends = self._bucket(secret, key, now)
        index = int(now.timestamp() // self.window)
        held = self._leases.get(bucket)
        if held is None:
            held = self._leases[bucket] = _Lease(index)
        if held.left > 0:
            held.left -= 1
            return 0.0
        async with held.claiming:  # one claim at a time: the others may spend its lease
            if held.left > 0:
                held.left -= 1
                return 0.0
            if held.seen >= self.limit:
                return self._wait(ends, now)
            claim = min(self.lease, max(1, (self.limit - held.seen) // LEASE_SHARE))
            count = await ratelimits.count_hits(db, bucket, ends + timedelta(seconds=1), claim)
            if time.monotonic() - self._purged_at > PURGE_EVERY:
                self._purged_at = time.monotonic()
                async with db.autocommit() as session:
                    await ratelimits.purge(session, now)
                self._forget_ended(index)
            granted = min(claim, max(self.limit - (count - claim), 0))
            held.seen = count
            held.left = max(granted - 1, 0)
        if len(self._leases) > 10_000:
            self._forget_ended(index)
            if len(self._leases) > 10_000:  # many clients at once: give their leases up
                self._leases.clear()  # (safe: an unspent lease only ever refuses more)
        return 0.0 if granted else self._wait(ends, now)

    def _forget_ended(self, index: int) -> None:
        for bucket in [b for b, held in self._leases.items() if held.window < index]:
            del self._leases[bucket]

    async def blocked(self, db: Database, secret: bytes, key: str, now: datetime) -> float:
        """Without counting: 0.0 while under the limit, else the seconds to wait."""
        bucket, ends = self._bucket(secret, key, now)
        async with db.sessions() as session:
            count = await ratelimits.hits(session, bucket)
        return self._wait(ends, now) if count >= self.limit else 0.0


WEBCHAT_PER_CLIENT = 120  # web chat API calls per client address per minute
CLIENT_LIMIT: web.AppKey[SharedLimiter] = web.AppKey("webchat_client_limit", SharedLimiter)


WEBCHAT_LEASE = 16  # at most this many of a client's hits claimed in one round trip


def webchat_limiter() -> SharedLimiter:
    return SharedLimiter("webchat", WEBCHAT_PER_CLIENT, 60.0, lease=WEBCHAT_LEASE)


@web.middleware
async def client_limit_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The web chat API's limit per client address, shared by every web process."""
    if request.path.startswith("/webchat/api/"):
        runtime = request.app[RUNTIME]
        limiter = request.app[CLIENT_LIMIT]
        wait = await limiter.hit(
            runtime.db, runtime.services.secret, client_address(request), runtime.services.clock()
        )
        if wait:
            raise web.HTTPTooManyRequests(
                reason="Too many messages in a short time. Please wait a moment.",
                headers={"Retry-After": str(int(wait) + 1)},
            )
    return await handler(request)
