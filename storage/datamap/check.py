"""`datamap check`: the map against the live schema of the account store and the bot.

Errors: a table or column the map names that does not exist. Warnings: columns the map
does not mention whose name or sampled content looks personal (email addresses, phone
numbers, IP addresses, names) — they may hold data no right reaches; and an index the
map's `indexes` ask for that the live table lacks (the lookup would read the whole table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Text, inspect, select, table
from sqlalchemy import column as sa_column
from sqlalchemy.engine import Connection

from storage.datamap.model import DataMap
from storage.datamap.schema import Table
from storage.db import Database

SAMPLE = 50
_NAME = re.compile(
    r"(e_?mail|mail|phone|mobile|tel|msisdn|\bip\b|ip_?addr|address|street|city|zip|postcode|"
    r"name|birth|cpr|ssn|passport|iban|card)",
    re.IGNORECASE,
)
_CONTENT = (
    ("an email address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("a phone number", re.compile(r"^\+?\d[\d ()-]{6,}\d$")),
    ("an IP address", re.compile(r"^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]{6,39}$", re.IGNORECASE)),
)


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _indexed(connection: Connection, name: str) -> list[list[str]]:
    """The column lists of the table's indexes, unique constraints and primary key."""
    inspector = inspect(connection)
    found = [list(i["column_names"]) for i in inspector.get_indexes(name)]
    found += [list(u["column_names"]) for u in inspector.get_unique_constraints(name)]
    found.append(list(inspector.get_pk_constraint(name).get("constrained_columns") or []))
    return [[str(c) for c in columns if c is not None] for columns in found]


def _missing_indexes(connection: Connection, name: str, spec: Table) -> list[str]:
    if not spec.indexes:
        return []
    have = _indexed(connection, name)
    return [
        f"{name}: no index on ({', '.join(lookup.columns)}); {lookup.used_by} reads the whole table"
        for lookup in spec.indexes
        if not any(columns[: len(lookup.columns)] == lookup.columns for columns in have)
    ]


def _live(connection: Connection) -> dict[str, dict[str, Any]]:
    inspector = inspect(connection)
    return {
        name: {c["name"]: c["type"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


def _sampled(connection: Connection, name: str, column: str) -> str | None:
    rows: Any = connection.execute(select(sa_column(column)).select_from(table(name)).limit(SAMPLE))
    for (value,) in rows:
        if isinstance(value, str):
            for label, pattern in _CONTENT:
                if pattern.search(value.strip()):
                    return label
    return None


def _check(connection: Connection, data_map: DataMap, database: str) -> CheckReport:
    report = CheckReport()
    live = _live(connection)
    for name, spec in data_map.tables.items():
        if spec.database != database:
            continue
        where = "account store" if database == "store" else "bot database"
        if name not in live:
            report.errors.append(f"{name}: no such table in the {where}")
            continue
        report.errors += [
            f"{name}.{column}: no such column in the {where}"
            for column in spec.columns
            if column not in live[name]
        ]
        for column, kind in live[name].items():
            if column in spec.columns:
                continue
            reason = "its name" if _NAME.search(column) else None
            if reason is None and isinstance(kind, String | Text):
                found = _sampled(connection, name, column)
                reason = f"its content ({found})" if found else None
            if reason:
                report.warnings.append(
                    f"{name}.{column}: not in the data map, and {reason} looks personal"
                )
        report.warnings += _missing_indexes(connection, name, spec)
    return report


async def check(store: Database, bot: Database, data_map: DataMap) -> CheckReport:
    """Errors and warnings of the map against both databases' live schemas."""
    report = CheckReport()
    for db, database in ((store, "store"), (bot, "bot")):
        async with db.engine.connect() as connection:
            part = await connection.run_sync(_check, data_map, database)
        report.errors += part.errors
        report.warnings += part.warnings
    return report
