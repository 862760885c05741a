"""SQLite through aiosqlite with one thread hop per statement.

SQLAlchemy's aiosqlite adapter awaits aiosqlite once for each step of a statement:
make a cursor, execute, fetch the rows, close. Every step is a hop to aiosqlite's
thread and back, and a hop costs ~120 µs on a small VM (`bench`'s queue and ingestion
profiles showed the hops as the largest cost of a SQLite turn). This adapter runs the
whole statement in one call on that thread and keeps the outcome (rows, description,
rowcount, lastrowid) for SQLAlchemy to read. The statement still runs off the event
loop, so a writer waiting in SQLite's busy timeout never blocks other requests.

A rollback with no transaction open (every connection handed back to the pool) costs
no hop. Server-side cursors (streamed exports) keep SQLAlchemy's own adapter.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Sequence
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# The adapter queues its call on aiosqlite's thread with `Connection._execute`, as
# SQLAlchemy's own adapter uses `Connection._tx`; should a release drop it, `storage.db`
# falls back to SQLAlchemy's adapter instead of failing.
SUPPORTED = callable(getattr(aiosqlite.Connection, "_execute", None))
DRIVER = "aiosqlite_onehop" if SUPPORTED else "aiosqlite"

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On aiosqlite's thread: the statement and everything SQLAlchemy reads of it."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements each cost one hop; results are buffered."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor (that would be a hop of its own): see `_run`.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        """Nothing to close: the statement's cursor closed on aiosqlite's thread."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._go(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return self._go(operation, seq_of_parameters, many=True)

    def _go(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            outcome = await_(self._run_locked(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _run_locked(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
            return outcome


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def rollback(self) -> None:
        """No hop to roll back what never began. The pool rolls back every connection
        handed back to it, and most hold no transaction: SQLite begins one only at the
        first write, and a reader never writes."""
        raw = self._connection._conn
        if raw is not None and not raw.in_transaction:
            return
        super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        """A connection that failed to open ends its thread before the error is raised.

        aiosqlite stops the thread of a failed connection without waiting for it; the
        thread then hands its last result to the event loop, and raises if a short-lived
        command's loop has closed by then. Joining it here keeps it inside the loop."""
        connection = self.aiosqlite.connect(*arg, **kw)
        # Before aiosqlite 0.22 the connection was itself the thread.
        thread = connection if isinstance(connection, Thread) else connection._thread
        thread.daemon = True
        try:
            raw = await_(connection)
        except BaseException:
            await_(asyncio.to_thread(thread.join))
            raise
        return OneHopConnection(self, raw)


class OneHopSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


if SUPPORTED:
    registry.register(f"sqlite.{DRIVER}", __name__, "OneHopSQLiteDialect")
