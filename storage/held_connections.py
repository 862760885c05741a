"""PostgreSQL connections the driver's statements keep between uses, out of the pool.

A checkout from SQLAlchemy's pool and the hand-back cost 165 µs of CPU on this machine
(two greenlet switches, the pool's events, the reset's rollback): more than the lean
turn's own statement. The driver's statements (`storage.driver_sql`) commit on their
own and never leave a transaction open, so their connections need none of that: up to
`size` of them stay checked out here, handed from one use to the next (the newest
first). The pool's guarantees are kept:
- a connection that sat here longer than the pool's ping interval is pinged before
  use, as the pool pings one that sat in it (a server may have restarted meanwhile);
  a dead one, or one the driver already knows is closed, is discarded and the next one
  tried;
- one whose statement was cancelled midway or lost the server is invalidated, never
  held (`give(broken=True)`);
- `hand_back` returns them all to the pool (at shutdown, and before a test watches
  the pool's checkouts).

`OnDemand` is one use's handle: it takes a connection at its first statement only, so
a turn holds one for its statements, not while it recognises the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger(__name__)


class HeldConnections:
    """Pooled asyncpg connections kept checked out for the driver's statements."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        size: int,
        ping_after_idle: float,
        ping_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.size = engine, size
        self.ping_after_idle, self.ping_timeout = ping_after_idle, ping_timeout
        self.clock = clock
        self._held: list[tuple[PoolProxiedConnection, float]] = []  # (connection, last used)

    def __len__(self) -> int:
        return len(self._held)

    async def take(self) -> PoolProxiedConnection:
        """A held connection (pinged if it idled), else one from the pool."""
        while self._held:
            pooled, used = self._held.pop()
            closed = pooled.driver_connection.is_closed()  # type: ignore[union-attr]
            if not closed and self.clock() - used <= self.ping_after_idle:
                return pooled
            try:
                alive = not closed and await self._alive(pooled)
            except BaseException:  # cancelled during the ping: its state is unknown
                await _discard(pooled)
                raise
            if alive:
                return pooled
            await _discard(pooled)
        return await self.engine.raw_connection()

    async def give(self, pooled: PoolProxiedConnection, *, broken: bool) -> None:
        """Keep `pooled` for the next use, or return it to the pool when `size` are held;
        invalidate it when `broken`."""
        if broken:
            await _discard(pooled)
        elif len(self._held) < self.size:
            self._held.append((pooled, self.clock()))
        else:
            await greenlet_spawn(pooled.close)

    async def hand_back(self) -> None:
        """Return every held connection to the pool."""
        while self._held:
            pooled, _used = self._held.pop()
            await greenlet_spawn(pooled.close)

    async def _alive(self, pooled: PoolProxiedConnection) -> bool:
        try:
            await pooled.driver_connection.execute(";", timeout=self.ping_timeout)  # type: ignore[union-attr]
        except Exception as exc:  # refused, reset, timed out: not usable
            log.info("held connection failed its ping (%s); discarded", type(exc).__name__)
            return False
        return True


class OnDemand:
    """One use's connection from `HeldConnections`, taken at its first statement."""

    def __init__(self, held: HeldConnections) -> None:
        self._held = held
        self._pooled: PoolProxiedConnection | None = None

    async def connection(self) -> Any:
        """The asyncpg connection, taken now if this use has none yet."""
        if self._pooled is None:
            self._pooled = await self._held.take()
        return self._pooled.driver_connection

    async def release(self, *, broken: bool) -> None:
        if self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            await self._held.give(pooled, broken=broken)


async def _discard(pooled: PoolProxiedConnection) -> None:
    """Close a connection that may be broken and hand its place back to the pool."""
    await greenlet_spawn(pooled.invalidate)
    await greenlet_spawn(pooled.close)
