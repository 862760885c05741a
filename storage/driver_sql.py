"""Hot statements compiled once by SQLAlchemy and run on the database driver itself.

SQLAlchemy's execution of a small statement (execution context, parameter processing,
events, result objects) cost the web process more CPU than the database spent running
it: in the web chat's profile under load, 45 % of the process's time on PostgreSQL went
to the two statements of a lean turn. The lean turn's statements (`storage.lean_turn`),
and on PostgreSQL the worker's claim and finish (`workflow.queue`, `workflow.queue_finish`),
are therefore compiled once per dialect by SQLAlchemy, so the SQL and the type handling
(UTC timestamps, JSON) stay SQLAlchemy's own, and are run on the driver's connection
(`Database.driver`): on PostgreSQL an asyncpg connection kept between uses
(`storage.held_connections`); on SQLite a connection on the event loop itself
(`storage.sqlite_loop`), or when that one would have to wait, the pooled sqlite3
connection on aiosqlite's thread, a whole write transaction in one hop.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from storage import sqlite_loop
from storage.held_connections import OnDemand
from storage.sqlite_loop import LoopConnection, PooledOnThread

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's SQL with positional parameters, and what converts its values."""

    sql: str
    names: tuple[str, ...]  # the parameter at each position
    binds: tuple[Processor | None, ...]  # a value's conversion for the driver, by position
    fixed: Mapping[str, Any]  # parameters the statement carries itself (`version + 1`)
    columns: tuple[str, ...]  # the result columns' keys
    results: tuple[Processor | None, ...]  # a result value's conversion, by column

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values of `params` as the driver takes them."""
        values = []
        for name, convert in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.fixed[name]
            values.append(value if convert is None or value is None else convert(value))
        return values

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """A result row as SQLAlchemy would map it: column key to converted value."""
        return {
            key: value if convert is None or value is None else convert(value)
            for key, convert, value in zip(self.columns, self.results, values, strict=True)
        }


@functools.cache
def compiled(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """`statement` compiled for `dialect`; statements are built once (`functools.cache`),
    so each is compiled once per dialect."""
    done = cast(SQLCompiler, statement.compile(dialect=dialect))
    if not done.positional or "POSTCOMPILE" in done.string:
        raise ValueError("only statements with plain positional parameters run on the driver")
    names = tuple(done.positiontup or ())
    binds = tuple(
        done.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    fixed = {name: bind.effective_value for name, bind in done.binds.items() if not bind.required}
    columns = getattr(statement, "selected_columns", ())
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return Compiled(done.string, names, binds, fixed, tuple(c.key for c in columns), results)


# --- PostgreSQL (asyncpg) ---------------------------------------------------------------


async def pg_fetch_one(
    connection: OnDemand, statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The first row of a SELECT, or None."""
    plan = compiled(statement, dialect)
    found = await _pg((await connection.connection()).fetchrow, plan, params)
    return None if found is None else plan.row(found)


async def pg_fetch_value(
    connection: OnDemand, statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any]
) -> Any:
    """The first column of the first row (of a RETURNING) as the driver hands it back:
    for plain values (a count), with no type of SQLAlchemy's to convert it."""
    fetch = (await connection.connection()).fetchval
    return await _pg(fetch, compiled(statement, dialect), params)


async def pg_execute(
    connection: OnDemand, statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any]
) -> int:
    """Run one statement (it commits on its own); the number of rows it wrote."""
    execute = (await connection.connection()).execute
    status: str = await _pg(execute, compiled(statement, dialect), params)
    return int(status.rpartition(" ")[2] or 0)  # "INSERT 0 3", "UPDATE 1"


async def _pg(
    call: Callable[..., Awaitable[Any]], plan: Compiled, params: Mapping[str, Any]
) -> Any:
    """`call(sql, *args)` on asyncpg, its errors as `_as_sqlalchemy` says."""
    try:
        return await call(plan.sql, *plan.args(params))
    except Exception as error:
        raise _as_sqlalchemy(error) from None


def _as_sqlalchemy(error: Exception) -> Exception:
    """A driver error as SQLAlchemy's asyncpg dialect raises it, where the caller treats
    it by its kind: a deadlock or serialization failure (SQLSTATE class 40) as an
    `OperationalError`, answered again; a constraint violated (class 23: a message sent
    again) as an `IntegrityError`; a connection found closed or lost (asyncpg raises an
    interface or internal client error, depending on when it noticed) as an
    `InterfaceError`, a database unavailable (503). Anything else as is."""
    import asyncpg  # only ever called on PostgreSQL: a SQLite deployment never imports it

    sqlstate = str(getattr(error, "sqlstate", ""))
    if sqlstate.startswith("40"):
        return OperationalError("driver statement", None, error)
    if sqlstate.startswith("23"):
        return IntegrityError("driver statement", None, error)
    if isinstance(error, asyncpg.InterfaceError | asyncpg.InternalClientError | OSError):
        return InterfaceError("driver statement", None, error)
    return error


# --- SQLite (the event loop's own connection, or a pooled one's thread) -----------------


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of a SQLite write transaction: its rows of parameters, and the row
    count it must have (None: any) or the whole transaction is rolled back."""

    statement: ClauseElement
    rows: Sequence[Mapping[str, Any]]
    expect: int | None = None


async def sqlite_fetch_one(
    connection: Any,
    statement: ClauseElement,
    dialect: Dialect,
    params: Mapping[str, Any],
    on_loop: LoopConnection | None = None,
) -> dict[str, Any] | None:
    """The first row of a SELECT, or None: read on the event loop (`on_loop`), or when
    there is no such connection or it was busy, in one hop to aiosqlite's thread."""
    plan = compiled(statement, dialect)
    args = plan.args(params)
    found = await _loop_or_thread(connection, on_loop, _fetch_one, plan.sql, args)
    return None if found is None else plan.row(found)


async def sqlite_write(
    connection: Any, dialect: Dialect, steps: Sequence[Step], on_loop: LoopConnection | None = None
) -> bool:
    """BEGIN IMMEDIATE, the steps, COMMIT: on the event loop (`on_loop`), or when there
    is no such connection or the database was busy, in one hop to aiosqlite's thread.
    False, and nothing written, when a step's row count was not the one it expected.
    The caller holds the process's write lock (`Database.write_lock`)."""
    work = []
    for step in steps:
        plan = compiled(step.statement, dialect)
        work.append((plan.sql, [plan.args(row) for row in step.rows], step.expect))
    written: bool = await _loop_or_thread(connection, on_loop, _write, work)
    return written


async def sqlite_write_value(
    connection: Any,
    statement: ClauseElement,
    dialect: Dialect,
    params: Mapping[str, Any],
    on_loop: LoopConnection | None = None,
) -> Any:
    """One statement with a RETURNING clause in its own write transaction (BEGIN
    IMMEDIATE, the statement, COMMIT), as `sqlite_write` runs one; the first column of
    the row it returned, as the driver hands it back (for plain values: a count).
    The caller holds the process's write lock (`Database.write_lock`)."""
    plan = compiled(statement, dialect)
    return await _loop_or_thread(connection, on_loop, _write_value, plan.sql, plan.args(params))


async def _loop_or_thread(
    connection: Any, on_loop: LoopConnection | None, function: Callable[..., Any], *args: Any
) -> Any:
    """`function(sqlite3_connection, *args)` on the loop's connection, or where that one
    would have to wait for a lock, on aiosqlite's thread."""
    if on_loop is not None:
        try:
            done = function(on_loop.connection, *args)
        except sqlite3.IntegrityError as error:
            raise IntegrityError("driver statement", None, error) from None
        except sqlite3.OperationalError as error:
            if not sqlite_loop.busy(error):
                raise OperationalError("driver statement", None, error) from None
        else:
            if function is _write_value or (function is _write and done):  # committed
                on_loop.committed()
            return done
    return await _on_thread(connection, function, *args)


async def _on_thread(connection: PooledOnThread, function: Callable[..., Any], *args: Any) -> Any:
    """Run `function(sqlite3_connection, *args)` on aiosqlite's thread; its errors as
    SQLAlchemy's (a busy database is an `OperationalError`, a violated constraint an
    `IntegrityError`, as on SQLAlchemy's path)."""
    try:
        return await connection.run(function, *args)
    except sqlite3.IntegrityError as error:
        raise IntegrityError("driver statement", None, error) from None
    except sqlite3.OperationalError as error:
        raise OperationalError("driver statement", None, error) from None


def _fetch_one(connection: sqlite3.Connection, sql: str, args: list[Any]) -> Any:
    cursor = connection.execute(sql, args)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _write(connection: sqlite3.Connection, work: list[tuple[str, list[Any], int | None]]) -> bool:
    connection.execute("BEGIN IMMEDIATE")
    try:
        for sql, rows, expect in work:
            cursor = connection.executemany(sql, rows)
            if expect is not None and cursor.rowcount != expect:
                connection.rollback()
                return False
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return True


def _write_value(connection: sqlite3.Connection, sql: str, args: list[Any]) -> Any:
    connection.execute("BEGIN IMMEDIATE")
    try:
        cursor = connection.execute(sql, args)
        try:
            (value,) = cursor.fetchone()
        finally:
            cursor.close()
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return value
