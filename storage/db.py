"""The async engine and session factory, for SQLite (default) and PostgreSQL.

SQLite has one writer per database. Writers of one process would otherwise collide
inside SQLite and sleep in its busy handler (back-off of up to 100 ms per try); instead
a write transaction first waits for a per-process asyncio lock, then starts with
`BEGIN IMMEDIATE`, so it holds the database's write lock from its first statement
(its reads see the state it writes over, and it never fails half-way on a stale snapshot).
Writers in other processes still wait in SQLite's busy handler.

A server can restart under a pooled connection (PostgreSQL, MySQL). A connection is
pinged when it comes out of the pool only if it sat unused there for longer than
`PING_AFTER_IDLE`: a busy process hands the same few connections back and forth many
times a second, and a ping on each hand-over would be a round trip per transaction for
nothing. A dead one is replaced before the caller sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Result, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.base import Executable

from storage import sqlite_driver, sqlite_pragmas
from storage.held_connections import HeldConnections, OnDemand
from storage.sqlite_loop import LoopConnection, PooledOnThread
from storage.write_lock import WriteLock

_ASYNC_DRIVERS = {
    "sqlite": f"sqlite+{sqlite_driver.DRIVER}",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    # only for an account store (ACCOUNT_STORE_URL); the bot's own tables never live there
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
}
# Session.info key: the transaction began with BEGIN IMMEDIATE and holds SQLite's write lock.
WRITE_LOCKED = "sqlite_write_locked"
# How long a writer waits for the in-process lock before it goes on without it, as a
# plain deferred transaction under SQLite's busy handler, so a holder that waits for
# another writer's progress can never deadlock the process.
LOCK_WAIT = 2.0
PING_AFTER_IDLE = 2.0  # seconds a pooled connection may sit unused before it is pinged
_RETURNED = "returned_at"  # ConnectionRecord.info key: when the pool got it back
_in_write: ContextVar[bool] = ContextVar("sqlite_write_transaction", default=False)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for the database before giving up (PostgreSQL).

    A network partition drops packets instead of refusing them; without these a connect
    waits a minute and a running query until the link comes back.
    `connect`: opening a connection; `command`: one statement; `pool`: waiting for a free
    connection from the pool.
    """

    connect: float = 5.0
    command: float | None = 30.0  # None: no limit (schema migrations on a big database)
    pool: float = 5.0


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached (refused, reset, timed out,
    unopenable file), as opposed to a bug or a refused statement."""
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError) and "no such" in str(exc.orig):
        return False  # SQLite: a missing table is the schema, not the connection
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError):
        return True
    return type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__


async def core_execute(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Run `statement` on the session's connection, in its transaction, past the ORM's
    execution (autoflush, ORM result set-up): for hot statements that return plain rows,
    where that part cost as much as the driver's. Pending ORM changes are not flushed."""
    connection = await session.connection()
    return await connection.execute(statement, params)


def async_url(url: str) -> str:
    """Accept the usual `postgresql://` and `sqlite:///` spellings and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite, postgresql or mysql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def _connect_args(backend: str, timeouts: Timeouts) -> dict[str, Any]:
    """The driver's own spelling of the connect and statement timeouts."""
    if backend == "postgresql":  # asyncpg
        return {"timeout": timeouts.connect, "command_timeout": timeouts.command}
    return {"connect_timeout": max(1, round(timeouts.connect))}  # asyncmy


class _IdlePing:
    """Ping a connection on its way out of the pool only after it idled there a while."""

    def __init__(self, dialect: Any, idle: float) -> None:
        self.dialect, self.idle = dialect, idle

    def returned(self, _dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned <= self.idle:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool replaces the connection and tries again
            raise DisconnectionError(type(exc).__name__) from None


async def begin_immediate(session: AsyncSession) -> None:
    """SQLite: take the database's write lock now, not at the first write."""
    await session.execute(text("BEGIN IMMEDIATE"))
    session.info[WRITE_LOCKED] = True


class Database:
    """One engine and its session factory; the only shared state between processes."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        timeouts: Timeouts | None = None,
        ping_after_idle: float = PING_AFTER_IDLE,
    ) -> None:
        self.url = async_url(url)
        self.backend = make_url(self.url).get_backend_name()
        self.timeouts = timeouts or Timeouts()
        # A failed statement's parameters are a customer's text, codes, contact details:
        # they never go into an exception message (and so never into a log line).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        # The same ceiling as `pool_size` plus as many overflow, but every connection
        # kept: an overflow connection is closed when handed back, so a web process with
        # more turns in flight than `pool_size` kept reconnecting under load (a server:
        # TCP, TLS try, auth, statements prepared again; SQLite: a thread and the pragmas).
        kept = {"pool_size": 2 * pool_size, "max_overflow": 0, "pool_timeout": self.timeouts.pool}
        if self.backend in ("postgresql", "mysql"):
            # A server can restart under us; a local SQLite file can't, so no ping there.
            kwargs.update(kept, connect_args=_connect_args(self.backend, self.timeouts))
        elif make_url(self.url).database not in (None, "", ":memory:"):
            kwargs.update(kept)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas.on_connect)
        else:
            ping = _IdlePing(self.engine.dialect, ping_after_idle)
            event.listen(self.engine.sync_engine, "connect", ping.returned)
            event.listen(self.engine.sync_engine, "checkin", ping.returned)
            event.listen(self.engine.sync_engine, "checkout", ping.checkout)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._autocommit = async_sessionmaker(self._autocommit_engine, expire_on_commit=False)
        self._write_lock = WriteLock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        database = make_url(self.url).database
        self._on_loop = (
            LoopConnection(database, self._checkpoint)
            if self.backend == "sqlite" and database not in (None, "", ":memory:")
            else None
        )
        # half of what the pool keeps, so sessions always find connections there; a
        # quarter (5 of 20) was too few for 16 turns at once: a turn that found none held
        # checked one out of the pool and in again (165 us; 2.2% of the web process's
        # samples under the web chat bench, 1.0% with half)
        self._held = HeldConnections(
            self.engine,
            size=max(1, pool_size),
            ping_after_idle=ping_after_idle,
            ping_timeout=self.timeouts.connect,
        )

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.
        On SQLite an `urgent` one goes before the process's other waiting writers."""
        async with (
            self.write_lock(urgent=urgent) as immediate,
            self.sessions() as session,
            session.begin(),
        ):
            if immediate:
                await begin_immediate(session)
            yield session

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        """A connection for the statements `storage.driver_sql` runs without SQLAlchemy's
        execution, outside any transaction, taken at the first statement only: on
        PostgreSQL an asyncpg connection kept between uses (`storage.held_connections`);
        on SQLite an aiosqlite one from the pool, for a statement that cannot run on the
        event loop's own connection (`PooledOnThread`). A connection whose statement
        failed on the way to the server, or was cancelled midway, is closed rather than
        used again."""
        if self.backend == "sqlite":
            handle: PooledOnThread | OnDemand = PooledOnThread(self.engine)
        elif self.backend == "postgresql":
            handle = OnDemand(self._held)
        else:
            raise NotImplementedError(f"no driver statements on {self.backend}")
        try:
            yield handle
        except BaseException as exc:
            await handle.release(broken=self._breaks(exc))
            raise
        await handle.release(broken=False)

    def _breaks(self, exc: BaseException) -> bool:
        """Whether a driver connection is unusable after `exc`: a statement cancelled
        midway, or (on a server) the connection lost; not a deadlock or serialization
        failure the statement met (SQLSTATE class 40, raised as `OperationalError`)."""
        if isinstance(exc, asyncio.CancelledError):
            return True
        conflict = str(getattr(getattr(exc, "orig", None), "sqlstate", "")).startswith("40")
        return self.is_postgres and not conflict and unavailable(exc)

    async def release_driver_connections(self) -> None:
        """Return the connections held for driver statements to the pool (PostgreSQL)."""
        await self._held.hand_back()

    @asynccontextmanager
    async def write_lock(self, *, urgent: bool = False) -> AsyncIterator[bool]:
        """On SQLite, hold the process's write lock (`storage.write_lock`; `urgent`: before
        the other waiters): True if the transaction should begin IMMEDIATE. False on a
        server; for a transaction opened while this task holds the lock (it would wait
        for itself); or when the lock stayed busy (a plain deferred transaction then)."""
        if self.backend != "sqlite" or _in_write.get() or not await self._acquire(urgent):
            yield False
            return
        token = _in_write.set(True)
        try:
            yield True
        finally:
            _in_write.reset(token)
            self._write_lock.release()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncSession]:
        """A session whose statements each commit on their own, for work that is one
        atomic statement (an upsert): on a server no BEGIN and COMMIT round trips; on
        SQLite a write transaction, which takes the write lock in order."""
        if self.backend == "sqlite":
            async with self.transaction() as session:
                yield session
            return
        async with self._autocommit() as session:
            yield session

    async def _acquire(self, urgent: bool) -> bool:
        """The in-process write lock; False (go on without it) after LOCK_WAIT seconds."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:  # its futures belong to one event loop
            self._write_lock, self._lock_loop = WriteLock(), loop
        if self._write_lock.try_acquire():  # free: no timer for a wait that never comes
            return True
        try:
            async with asyncio.timeout(LOCK_WAIT):
                await self._write_lock.acquire(urgent=urgent)
        except TimeoutError:
            log.info("SQLite write lock busy for %.0fs; relying on busy_timeout", LOCK_WAIT)
            return False
        return True

    def on_loop(self) -> LoopConnection | None:
        """SQLite in a file: the connection for statements made on the event loop
        itself (`storage.sqlite_loop`). None on a server or an in-memory database."""
        return self._on_loop

    async def _checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, off the event loop."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def dispose(self) -> None:
        await self._held.hand_back()
        if self._on_loop is not None:
            await self._on_loop.close()
        await self.engine.dispose()
