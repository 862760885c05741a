"""A retention rule of the data map as SQL: which rows are due, and what to do to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Table, Text, and_, not_, null, or_
from sqlalchemy import cast as sa_cast

from storage.datamap import ANONYMISED, DataMap, Strategy
from storage.datamap.masking import masked_sql
from storage.datamap.schema import Rule

# Rows inserted late with an old timestamp are still found by a sweep that starts
# this long before the previous sweep's cutoff.
WATERMARK_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class CompiledRule:
    """One rule on one table: `due` rows get `values` (or are deleted when None)."""

    name: str
    table: Table
    database: str
    keys: list[Any]
    due: ColumnElement[bool]
    values: dict[str, Any] | None
    cutoff: datetime
    incremental: bool


def _anonymised(strategy: Strategy | None, col: Any, dialect: str) -> Any:
    if strategy is Strategy.MASK_LAST4:
        return masked_sql(col, dialect)
    if strategy is Strategy.REDACT:
        return ANONYMISED
    if strategy is Strategy.NULL:
        return null() if isinstance(col.type, JSON) else None
    raise ValueError(f"{col}: {strategy} cannot anonymise")


def _has_value(col: Any) -> ColumnElement[bool]:
    if isinstance(col.type, JSON):  # a JSON 'null' is as empty as an SQL NULL
        return and_(col.is_not(None), sa_cast(col, Text) != "null")
    result: ColumnElement[bool] = col.is_not(None)
    return result


def compile_rule(
    data_map: DataMap,
    name: str,
    rule: Rule,
    table: Table,
    *,
    now: datetime,
    dialect: str,
    since: Mapping[str, datetime],
    guards: Mapping[str, Callable[[], Select[Any]]],
    extra_protected: Callable[[], Select[Any]] | None = None,
) -> CompiledRule:
    spec = data_map.tables[name]
    cutoff = now - timedelta(days=rule.after_days)
    counted = table.c[rule.counted_from]
    due: list[ColumnElement[bool]] = [
        or_(counted < cutoff, table.c[rule.or_when_set].is_not(None))
        if rule.or_when_set
        else counted < cutoff
    ]
    if rule.incremental and rule.name in since:
        due.append(counted >= since[rule.name] - WATERMARK_MARGIN)
    for column, excluded in rule.unless_status.items():
        due.append(table.c[column].not_in(excluded))
    guarded = table.c[rule.guarded_column or spec.key[0]]
    protections = [guards[g]() for g in rule.keep_when]
    if rule.keep_when and extra_protected is not None:
        protections.append(extra_protected())
    due += [guarded.not_in(p) for p in protections]
    values: dict[str, Any] | None
    if rule.action == "delete":
        values = None
    elif rule.action == "anonymise":
        columns = [c for c in data_map.mapped(name) if c.spec.anonymise is not None]
        values = {c.name: _anonymised(c.spec.anonymise, table.c[c.name], dialect) for c in columns}
        if rule.mark:
            values[rule.mark] = now
            due.append(table.c[rule.mark].is_(None))
        else:
            due.append(or_(*(_has_value(table.c[c.name]) for c in columns)))
    elif rule.action == "null":
        values = {c: null() if isinstance(table.c[c].type, JSON) else None for c in rule.columns}
        due.append(or_(*(_has_value(table.c[c]) for c in rule.columns)))
    else:  # reset
        values = {c: {} if isinstance(table.c[c].type, JSON) else "{}" for c in rule.columns}
        due.append(or_(*(not_(sa_cast(table.c[c], Text) == "{}") for c in rule.columns)))
    if values is not None and rule.bump:
        # a web process holding the row in memory must not save its stale copy over ours
        values[rule.bump] = table.c[rule.bump] + 1
    return CompiledRule(
        name=rule.name,
        table=table,
        database=spec.database,
        keys=[table.c[k] for k in spec.key],
        due=and_(*due),
        values=values,
        cutoff=cutoff,
        incremental=rule.incremental,
    )
