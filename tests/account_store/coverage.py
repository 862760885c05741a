"""What "the same rows" means: every row of every mapped table, before and after."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage import account_store, datamap
from storage.datamap.scope import Scope
from storage.datamap.tables import all_tables
from storage.db import Database


async def snapshot(bot: Database) -> dict[str, dict[tuple[str, ...], tuple[str, ...]]]:
    """Every row of every table of the map, by key, as text."""
    data_map = datamap.current()
    store = account_store.of(bot)
    tables = await all_tables(store, data_map)
    found: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {}
    for name, spec in data_map.tables.items():
        table = tables[name]
        database = store if spec.database == "store" else bot
        async with database.sessions() as session:
            rows = await session.execute(select(table))
            keys = [list(table.c.keys()).index(k) for k in spec.key]
            found[name] = {
                tuple(str(row[i]) for i in keys): tuple(str(v) for v in row) for row in rows
            }
    return found


def changed(
    before: dict[str, dict[tuple[str, ...], tuple[str, ...]]],
    after: dict[str, dict[tuple[str, ...], tuple[str, ...]]],
) -> dict[str, set[tuple[str, ...]]]:
    """Keys of rows changed or deleted, per table."""
    return {
        name: {key for key, row in rows.items() if after[name].get(key) != row}
        for name, rows in before.items()
    }


def exported_keys(path: Path) -> dict[str, set[tuple[str, ...]]]:
    """Keys of the rows in an access export, per table of the map."""
    data_map = datamap.current()
    found: dict[str, set[tuple[str, ...]]] = {}
    with zipfile.ZipFile(path) as archive:
        for name, spec in data_map.tables.items():
            member = f"{data_map.export_name(name)}.json"
            if member not in archive.namelist():
                continue
            rows = json.loads(archive.read(member))
            found[name] = {tuple(str(row[k]) for k in spec.key) for row in rows}
    return found


async def erasure_scope(bot: Database, account_id: Any, plan: dict[str, Any]) -> dict[str, set]:  # type: ignore[type-arg]
    """Keys of the rows the erasure's plan puts in scope, per table."""
    data_map = datamap.current()
    store = account_store.of(bot)
    tables = await all_tables(store, data_map)
    scope = Scope(data_map, tables, account_id, fixed=plan["fixed"])
    async with store.sessions() as session:
        from storage.datamap.scope import contacts_of

        scope.contacts = await contacts_of(session, scope)
    found: dict[str, set[tuple[str, ...]]] = {}
    for name, spec in data_map.tables.items():
        database = store if spec.database == "store" else bot
        async with database.sessions() as session:
            rows = await session.execute(select(*scope.key(name)).where(scope.condition(name)))
            found[name] = {tuple(str(v) for v in row) for row in rows}
    return found
