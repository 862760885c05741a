"""The data map's erasure strategies as SQL: the values to set, and "not yet erased".

Built from the map, so a strategy changed there changes what is done here. Strategies
whose value differs per row (revoke, hash) and legal holds have per-row steps
(`custom.py`); a table whose personal columns are all `delete` loses its rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, Text, func, not_, null, or_
from sqlalchemy import cast as sa_cast
from sqlalchemy.sql.elements import ColumnElement

from storage.datamap import REDACTED, REVOKED_PREFIX, DataMap, Strategy
from storage.datamap.masking import is_masked_sql, masked_sql

PER_ROW = frozenset({Strategy.REVOKE, Strategy.HASH})
HASHED_PREFIX = "hmac:"


def _pending(strategy: Strategy, col: Any) -> ColumnElement[bool] | None:
    if strategy is Strategy.NULL:
        result: ColumnElement[bool] = col.is_not(None)
        return result
    if strategy is Strategy.REDACT:
        result = col != REDACTED
    elif strategy is Strategy.MASK_LAST4:
        result = not_(is_masked_sql(col))
    elif strategy is Strategy.RESET:
        result = sa_cast(col, Text) != "{}"
    elif strategy is Strategy.WITHDRAW:
        result = col.is_(True)
    else:
        return _per_row_pending(strategy, col)
    return result


def _per_row_pending(strategy: Strategy, col: Any) -> ColumnElement[bool] | None:
    prefix = {Strategy.REVOKE: REVOKED_PREFIX, Strategy.HASH: HASHED_PREFIX}.get(strategy)
    if prefix is None:
        return None
    result: ColumnElement[bool] = not_(col.startswith(prefix, autoescape=True))
    return result


def _value(strategy: Strategy, col: Any, dialect: str) -> Any:
    if strategy is Strategy.NULL:
        # SQL NULL, also for JSON (None would store JSON 'null', which stays "pending")
        return null() if isinstance(col.type, JSON) else None
    if strategy is Strategy.REDACT:
        return REDACTED
    if strategy is Strategy.MASK_LAST4:
        return masked_sql(col, dialect)
    if strategy is Strategy.RESET:
        return {} if isinstance(col.type, JSON) else "{}"
    if strategy is Strategy.WITHDRAW:
        return False
    raise ValueError(f"{col}: {strategy.value} is not one SQL value")


def extra_values(
    data_map: DataMap, name: str, table: Table, now: datetime
) -> tuple[dict[str, Any], list[ColumnElement[bool]]]:
    """The table's `erase_set` values, and the pending conditions of its literal ones."""
    values: dict[str, Any] = {}
    pending: list[ColumnElement[bool]] = []
    for column, spec in data_map.tables[name].erase_set.items():
        col = table.c[column]
        if spec == "now":
            values[column] = now
        elif spec == "now_if_null":
            values[column] = func.coalesce(col, now)
        elif spec == "+1":
            values[column] = col + 1
        else:
            values[column] = spec
            pending.append(or_(col != spec, col.is_(None)))
    return values, pending


def in_place(
    data_map: DataMap, name: str, table: Table, now: datetime, dialect: str
) -> tuple[dict[str, Any], ColumnElement[bool] | None]:
    """SET values and the "not yet erased" condition of the columns erased by plain SQL.

    None as the condition: nothing in the table is erased by SQL.
    """
    values: dict[str, Any] = {}
    pending: list[ColumnElement[bool]] = []
    for column in data_map.personal(name):
        if column.erasure in (*PER_ROW, Strategy.LEGAL_HOLD, Strategy.KEEP, Strategy.DELETE):
            continue
        col = table.c[column.name]
        values[column.name] = _value(column.erasure, col, dialect)
        condition = _pending(column.erasure, col)
        if condition is not None:
            pending.append(condition)
    if not pending:
        return {}, None
    extra, extra_pending = extra_values(data_map, name, table, now)
    return {**values, **extra}, or_(*pending, *extra_pending)


def per_row_pending(data_map: DataMap, name: str, table: Table) -> ColumnElement[bool] | None:
    """Rows whose per-row strategies (revoke, hash) are still to apply."""
    parts = [
        _pending(c.erasure, table.c[c.name])
        for c in data_map.personal(name)
        if c.erasure in PER_ROW
    ]
    found = [p for p in parts if p is not None]
    return or_(*found) if found else None


def pending_any(
    data_map: DataMap, name: str, table: Table, now: datetime, dialect: str
) -> ColumnElement[bool] | None:
    """Rows with anything left to erase in place (for the plan's counts)."""
    _values, sql = in_place(data_map, name, table, now, dialect)
    rows = per_row_pending(data_map, name, table)
    found = [p for p in (sql, rows) if p is not None]
    return or_(*found) if found else None
