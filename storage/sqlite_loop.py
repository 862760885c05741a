"""SQLite statements made on the event loop itself, for the lean turn.

A hop to a connection's thread (aiosqlite) costs more than a read by key or a small
write transaction in a WAL database takes, and the threads contend with the event loop
for the GIL: in the web chat's SQLite profile under load, the hops and the threads'
waiting were a third of the process's time. The lean turn's read and write therefore
run on one connection on the loop (`storage.driver_sql`), which must never make the
loop wait:
- no busy timeout: while another process writes, a write here fails at once with
  "database is locked" and the caller runs it on a thread, whose connection waits; a
  reader of a WAL database is not blocked by writers;
- no checkpoints at commit (a checkpoint copies the log into the database file and
  syncs it): every CHECKPOINT_EVERY commits one runs on a pooled connection's thread.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

CHECKPOINT_EVERY = 500  # commits on the loop between checkpoints (SQLite's own: ~1,000 pages)
log = logging.getLogger(__name__)


class LoopConnection:
    """One SQLite connection used only from the event loop's thread."""

    def __init__(self, path: str, checkpoint: Callable[[], Awaitable[None]]) -> None:
        self.path = path
        self._checkpoint = checkpoint
        self._connection: sqlite3.Connection | None = None
        self._commits = 0
        self._running: asyncio.Task[None] | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in ("foreign_keys=ON", "busy_timeout=0", "wal_autocheckpoint=0"):
                connection.execute(f"PRAGMA {pragma}")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connection = connection
        return self._connection

    def committed(self) -> None:
        """Count a commit made on the loop; start a checkpoint off the loop when due."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._running is None:
            self._commits = 0
            self._running = asyncio.get_running_loop().create_task(self._run_checkpoint())

    async def _run_checkpoint(self) -> None:
        try:
            await self._checkpoint()
        except Exception as exc:  # the next one is due soon; SQLite's own readers are unharmed
            log.warning("SQLite checkpoint failed: %s", type(exc).__name__, exc_info=True)
        finally:
            self._running = None

    async def settled(self) -> None:
        """Return once no checkpoint is running."""
        if self._running is not None:
            await asyncio.shield(self._running)

    async def close(self) -> None:
        await self.settled()
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PooledOnThread:
    """A pooled aiosqlite connection, checked out at its first use: for the statements
    that must wait for the database on a thread; most turns never need one."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pooled: PoolProxiedConnection | None = None

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(sqlite3_connection, *args)` on the connection's thread."""
        if self._pooled is None:
            self._pooled = await self._engine.raw_connection()
        connection = self._pooled.driver_connection
        assert connection is not None
        return await connection._execute(function, connection._conn, *args)

    async def release(self, *, broken: bool) -> None:
        """Hand the connection back to the pool (closed first if `broken`)."""
        if self._pooled is not None:
            if broken:
                await greenlet_spawn(self._pooled.invalidate)
            await greenlet_spawn(self._pooled.close)
            self._pooled = None


def busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused for a lock another connection holds (try on a thread)."""
    return error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
