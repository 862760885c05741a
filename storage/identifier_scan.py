"""Find where identifiers (an email address, a phone number) still occur in the database.

The erasure's proof of work: after it, the account's contact details must occur in no
column of any table except where the law keeps them. The tables come from the live
database schema (reflection), not from imported models, so a table added by any
migration is scanned even if no module here knows it. Text and JSON columns are
searched for the value as a case-insensitive substring (an email address typed into a
chat is found too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, String, Text, and_, cast, column, inspect, or_, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

SKIP_TABLES = frozenset({"alembic_version"})


def _text_columns(connection: Connection) -> list[tuple[str, str, bool]]:
    """(table, column, is_json) for every text-like column of every table."""
    inspector = inspect(connection)
    found: list[tuple[str, str, bool]] = []
    for name in sorted(inspector.get_table_names()):
        if name in SKIP_TABLES:
            continue
        for info in inspector.get_columns(name):
            kind = info["type"]
            if isinstance(kind, JSON):
                found.append((name, info["name"], True))
            elif isinstance(kind, String):
                found.append((name, info["name"], False))
    return found


async def text_columns(session: AsyncSession) -> list[tuple[str, str, bool]]:
    connection = await session.connection()
    return await connection.run_sync(_text_columns)


def _caseless_run(needle: str) -> str:
    """The longest run of ASCII non-letters in `needle` (`@`, digits, dots): characters no
    other character lower-cases to, so `lower(x)` holds the run only where `x` does."""
    runs = re.findall(r"[\x00-\x40\x5b-\x60\x7b-\x7f]+", needle)
    return max(runs, key=len, default="")


def _occurs(target: ColumnElement[Any], needle: str, dialect: str) -> ColumnElement[bool]:
    """`needle` (lower case) occurs in `target`, ignoring case: `icontains`, made cheap.

    `lower()` on every value of every row was most of the scan's time. SQLite's LIKE
    already ignores ASCII case and its `lower()` folds nothing else, so there it is
    plain LIKE. On PostgreSQL a needle without letters (a phone number) is matched as
    is, and one with letters is first narrowed by a case-sensitive LIKE on its longest
    caseless run (the `@` of an address) before `lower()` is applied.
    """
    if dialect == "sqlite":
        return target.contains(needle, autoescape=True)
    run = _caseless_run(needle)
    if run == needle:
        return target.contains(needle, autoescape=True)
    full = target.icontains(needle, autoescape=True)
    return and_(target.contains(run, autoescape=True), full) if run else full


async def scan_for_identifiers(
    session: AsyncSession, values: Iterable[str], *, exclude: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """(table, column) pairs where any of `values` occurs; never the values themselves.

    One pass over each table for all its text columns; only a table with a hit is
    searched again column by column, to name them.
    """
    needles = sorted({v.strip().lower() for v in values if v and v.strip()})
    if not needles:
        return []
    dialect = (await session.connection()).dialect.name
    tables: dict[str, list[tuple[str, ColumnElement[bool]]]] = {}
    for table_name, column_name, is_json in await text_columns(session):
        if (table_name, column_name) in exclude:
            continue
        col: ColumnClause[Any] = column(column_name)
        target: ColumnElement[Any] = cast(col, Text) if is_json else col
        condition = or_(*(_occurs(target, needle, dialect) for needle in needles))
        tables.setdefault(table_name, []).append((column_name, condition))
    hits: list[tuple[str, str]] = []
    for table_name, conditions in tables.items():
        source = table(table_name)
        if await _found(session, source, or_(*(c for _name, c in conditions))):
            hits += [
                (table_name, name)
                for name, condition in conditions
                if await _found(session, source, condition)
            ]
    return hits


async def _found(session: AsyncSession, source: Any, condition: ColumnElement[bool]) -> bool:
    return await session.scalar(select(1).select_from(source).where(condition).limit(1)) is not None
