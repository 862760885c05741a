"""The SQLAlchemy tables a map talks about: the models' own, or reflected from a store.

The built-in store and the bot's tables use the declared models (exact types). Another
company's store is reflected from its live schema once per engine; its timestamp
columns are read and written as UTC like the models' (`UTCDateTime`).
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import DateTime, MetaData, Table
from sqlalchemy.engine import Connection, Engine

import storage.privacy_models
import storage.referral_models  # noqa: F401 - registers the bot's other tables
from storage.datamap import BUILTIN
from storage.datamap.model import DataMap, DataMapError
from storage.db import Database
from storage.models import Base
from storage.types import UTCDateTime


class StoreDateTime(UTCDateTime):
    """A reflected timestamp: UTC in and out; naive UTC for SQLite and MariaDB, which keep
    no time zone (MariaDB's DATETIME refuses an offset)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        bound = super().process_bind_param(value, dialect)
        if bound is not None and dialect.name not in ("sqlite", "postgresql"):
            return bound.replace(tzinfo=None)
        return bound


_reflected: weakref.WeakKeyDictionary[Engine, dict[str, dict[str, Table]]] = (
    weakref.WeakKeyDictionary()
)


def _reflect(connection: Connection, names: list[str]) -> dict[str, Table]:
    metadata = MetaData()
    try:
        metadata.reflect(connection, only=names)
    except Exception as exc:  # InvalidRequestError names the missing tables
        raise DataMapError(f"the account store lacks tables the map names: {exc}") from None
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, DateTime):
                column.type = StoreDateTime()
    return {name: metadata.tables[name] for name in names}


async def store_tables(store: Database, data_map: DataMap) -> dict[str, Table]:
    """The account store's tables of the map."""
    names = [n for n, t in data_map.tables.items() if t.database == "store"]
    if data_map.source == str(BUILTIN):
        return {name: Base.metadata.tables[name] for name in names}
    cache = _reflected.setdefault(store.engine.sync_engine, {})
    if data_map.source not in cache:
        async with store.engine.connect() as connection:
            cache[data_map.source] = await connection.run_sync(_reflect, names)
    return cache[data_map.source]


def bot_tables(data_map: DataMap) -> dict[str, Table]:
    return {
        name: Base.metadata.tables[name]
        for name, table in data_map.tables.items()
        if table.database == "bot"
    }


async def all_tables(store: Database, data_map: DataMap) -> dict[str, Table]:
    return {**await store_tables(store, data_map), **bot_tables(data_map)}
