"""Find where identifiers (an email address, a phone number) still occur in the database.

The erasure's proof of work: after it, the account's contact details must occur in no
column of any table except where the law keeps them. The tables come from the live
database schema (reflection), not from imported models, so a table added by any
migration is scanned even if no module here knows it. Text and JSON columns are
searched for the value as a case-insensitive substring (an email address typed into a
chat is found too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, String, Text, cast, column, inspect, or_, select, table
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


async def scan_for_identifiers(
    session: AsyncSession, values: Iterable[str], *, exclude: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """(table, column) pairs where any of `values` occurs; never the values themselves."""
    needles = sorted({v.strip().lower() for v in values if v and v.strip()})
    if not needles:
        return []
    hits: list[tuple[str, str]] = []
    for table_name, column_name, is_json in await text_columns(session):
        if (table_name, column_name) in exclude:
            continue
        col: ColumnClause[Any] = column(column_name)
        target: ColumnElement[Any] = cast(col, Text) if is_json else col
        conditions = [target.icontains(needle, autoescape=True) for needle in needles]
        stmt = select(1).select_from(table(table_name, col)).where(or_(*conditions)).limit(1)
        if await session.scalar(stmt) is not None:
            hits.append((table_name, column_name))
    return hits
