"""What one erasure run works with: the map, the two databases and their tables.

The account store may be another database than the bot's own (ACCOUNT_STORE_URL); no
transaction spans both. Each table's rows are changed in its own database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from storage import account_store
from storage.datamap import DataMap
from storage.datamap.scope import Scope, contacts_of
from storage.datamap.tables import all_tables
from storage.db import Database
from workflow.executors import ActionContext


@dataclass
class Work:
    ctx: ActionContext
    data_map: DataMap
    store: Database
    tables: dict[str, Table]
    fixed: dict[str, list[Any]] | None = None

    @classmethod
    async def start(cls, ctx: ActionContext, data_map: DataMap) -> Work:
        store = account_store.of(ctx.db)
        return cls(ctx, data_map, store, await all_tables(store, data_map))

    @property
    def separate(self) -> bool:
        """Whether the account store is another database than the bot's."""
        return self.store is not self.ctx.db

    def where(self, name: str) -> str:
        return self.data_map.tables[name].database

    def database(self, name: str) -> Database:
        return self.store if self.where(name) == "store" else self.ctx.db

    def dialect(self, name: str) -> str:
        return self.database(name).engine.dialect.name

    def scope(
        self, contacts: list[str] | None = None, *, fixed: dict[str, list[Any]] | None = None
    ) -> Scope:
        return Scope(
            self.data_map, self.tables, self.ctx.account_id, contacts or [], fixed or self.fixed
        )

    async def contacts(self, store_session: AsyncSession) -> list[str]:
        return await contacts_of(store_session, self.scope())

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[dict[str, AsyncSession]]:
        """A read session per database ("store", "bot"): one when they are the same."""
        async with self.store.sessions() as store:
            if not self.separate:
                yield {"store": store, "bot": store}
                return
            async with self.ctx.db.sessions() as bot:
                yield {"store": store, "bot": bot}
