"""Which database holds the account store: the bot's own (default) or ACCOUNT_STORE_URL.

The bot's own tables (conversations, requests, queue, audit) always stay in
DATABASE_URL. A process that serves another store attaches it to its bot database once
at start; every right then finds it with `of(db)`, and the customer's identity is
looked up in it through the data map (`find_account`).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from storage import datamap
from storage.db import Database, Timeouts

_stores: weakref.WeakKeyDictionary[Engine, Database] = weakref.WeakKeyDictionary()


def attach(db: Database, store: Database) -> None:
    """Serve the account store `store` to the rights run from `db`."""
    _stores[db.engine.sync_engine] = store


def detach(db: Database) -> None:
    _stores.pop(db.engine.sync_engine, None)


def of(db: Database) -> Database:
    """The account store of the bot database `db` (itself unless another is attached)."""
    return _stores.get(db.engine.sync_engine, db)


def _same(url: str, other: str) -> bool:
    return make_url(url).render_as_string(hide_password=False) == make_url(other).render_as_string(
        hide_password=False
    )


def connect(db: Database, url: str | None, *, timeouts: Timeouts | None = None) -> Database:
    """Attach ACCOUNT_STORE_URL (when set and not the bot's own database) to `db`."""
    if not url:
        return db
    store = Database(url, timeouts=timeouts) if timeouts is not None else Database(url)
    if _same(store.url, db.url):
        return db
    attach(db, store)
    return store


async def close(db: Database) -> None:
    store = of(db)
    detach(db)
    if store is not db:
        await store.dispose()


@dataclass(frozen=True, slots=True)
class FoundAccount:
    """An account found by one of its contact values, and the value as stored."""

    account_id: Any
    kind: str  # "email" | "phone"
    stored: str

    @property
    def email(self) -> str | None:
        return self.stored if self.kind == "email" else None

    @property
    def phone(self) -> str | None:
        return self.stored if self.kind == "phone" else None


@asynccontextmanager
async def reading(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A session to read the account store beside `session`, a session of the bot database:
    `session` itself when the store is the same database, else one of the attached store."""
    bind = session.bind
    store = _stores.get(bind.sync_engine) if bind is not None else None
    if store is None:
        yield session
        return
    async with store.sessions() as store_session:
        yield store_session


async def find_account(session: AsyncSession, kind: str, value: str) -> FoundAccount | None:
    """The active account with this email or phone, through the data map (`session` is a
    session of the bot database; see `reading`)."""
    async with reading(session) as store_session:
        return await _find(store_session, kind, value)


async def _find(session: AsyncSession, kind: str, value: str) -> FoundAccount | None:
    from storage.datamap.tables import store_tables

    data_map = datamap.current()
    columns = [c for c in data_map.identifiers() if c.spec.identifier in (kind, "contact")]
    if not columns:
        return None
    engine_db = _session_database(session)
    tables = await store_tables(engine_db, data_map)
    account = tables[data_map.account.table]
    active = [account.c[c] == v for c, v in data_map.account.active_when.items()]
    for column in columns:
        table = tables[column.table]
        owner = _owner_column(data_map, tables, column.table)
        stmt = (
            select(owner, table.c[column.name])
            .join(account, account.c[data_map.account.key] == owner)
            .where(func.lower(table.c[column.name]) == value.lower(), *active)
        )
        order = data_map.tables[column.table].pick_first
        stmt = stmt.order_by(*_ordering(table, order or data_map.tables[column.table].key))
        row = (await session.execute(stmt.limit(1))).first()
        if row is not None:
            return FoundAccount(row[0], kind, str(row[1]))
    return None


async def contact_of(session: AsyncSession, account_id: Any, kind: str) -> str | None:
    """The account's first email or phone (`kind`) as the data map orders its contacts, or
    None (`session` is a session of the bot database; see `reading`)."""
    async with reading(session) as store_session:
        return await _contact(store_session, account_id, kind)


async def _contact(session: AsyncSession, account_id: Any, kind: str) -> str | None:
    from storage.datamap.tables import store_tables

    data_map = datamap.current()
    tables = await store_tables(_session_database(session), data_map)
    for column in data_map.identifiers():
        if column.spec.identifier not in (kind, "contact"):
            continue
        table = tables[column.table]
        value = table.c[column.name]
        order = data_map.tables[column.table].pick_first or data_map.tables[column.table].key
        stmt = (
            select(value)
            .where(_owner_column(data_map, tables, column.table) == account_id, value.is_not(None))
            .order_by(*_ordering(table, order))
        )
        for (found,) in await session.execute(stmt):
            text = str(found).strip()
            if text and ("@" in text) == (kind == "email"):
                return text
    return None


def _owner_column(data_map: datamap.DataMap, tables: dict[str, Any], name: str) -> Any:
    """The column of an identifier table that holds the account key (its own reach)."""
    from storage.datamap.model import reaches
    from storage.datamap.schema import OwnColumn

    for reach in reaches(data_map.tables[name].reach):
        if isinstance(reach, OwnColumn):
            return tables[name].c[reach.column]
    raise datamap.DataMapError(f"{name}: an identifier table must reach the account by a column")


def _ordering(table: Any, order: list[str]) -> list[Any]:
    return [table.c[c[1:]].desc() if c.startswith("-") else table.c[c] for c in order]


class _SessionDatabase:
    """Enough of a Database for `store_tables`: the engine a session is bound to."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine


def _session_database(session: AsyncSession) -> Any:
    return _SessionDatabase(session.bind)
