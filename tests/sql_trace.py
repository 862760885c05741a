"""The SQL a database is sent while a block runs, as its driver sends it: for tests that
count round trips, whether a statement goes through SQLAlchemy's execution or straight
to the driver (`storage.driver_sql`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.util import await_

from storage.db import Database

# asyncpg's type look-up: JIT off around the query of the type's tree, then back
_INTROSPECTION = (
    "SELECT CURRENT_SETTING('JIT')",
    "WITH RECURSIVE TYPEINFO_TREE",
    "SELECT SET_CONFIG('JIT'",
)


@asynccontextmanager
async def statements(db: Database) -> AsyncIterator[list[str]]:
    """The SQL the database is sent while the block runs, as its driver sends it (the
    lean turn's statements bypass SQLAlchemy's execution and its events): on SQLite
    every statement SQLite runs, BEGIN and COMMIT included, on the event loop's
    connection (`storage.sqlite_loop`) and the pooled ones; on PostgreSQL asyncpg's
    statements by text (`storage.driver_sql`) and SQLAlchemy's by its events. Left out:
    asyncpg's look-up of a type it meets for the first time on a connection (once per
    connection and type, not per statement)."""
    sent: list[str] = []

    def record(sql: str) -> None:
        statement = " ".join(sql.split()).upper()
        if statement.startswith(_INTROSPECTION):
            return
        if not sent or sent[-1] != statement:  # SQLite reports a trigger's run as its statement
            sent.append(statement)

    def logged(query: Any) -> None:
        record(query.query)

    def tracing(on: bool) -> Callable[..., None]:
        """Start (checkout) or stop (checkin) tracing a pooled connection."""

        def listener(dbapi_connection: Any, *_args: Any) -> None:
            driver = dbapi_connection.driver_connection
            if db.is_postgres:
                (driver.add_query_logger if on else driver.remove_query_logger)(logged)
            else:
                await_(driver._execute(driver._conn.set_trace_callback, record if on else None))

        return listener

    def executed(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        record(sql)

    engine = db.engine.sync_engine
    listeners = [("checkout", tracing(True)), ("checkin", tracing(False))]
    if db.is_postgres:
        listeners.append(("before_cursor_execute", executed))
    on_loop = db.on_loop()  # SQLite's statements made on the event loop
    reader = on_loop.connection if on_loop is not None else None
    await db.release_driver_connections()  # so every connection used is checked out anew
    for name, listener in listeners:
        event.listen(engine, name, listener)
    if reader is not None:
        reader.set_trace_callback(record)
    try:
        yield sent
        await asyncio.sleep(0)  # asyncpg hands its query log to the loop's next turn
        await db.release_driver_connections()  # checked in: the tracing stops
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
        if reader is not None:
            reader.set_trace_callback(None)
