"""The files of an access or portability export, one per table of the data map.

Each table that holds the account's rows becomes a section with the columns the map
exports (portability: those the customer provided), selected by the same scope the
erasure uses, so an Art. 15 copy holds exactly the rows an Art. 17 erasure removes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import account_store
from storage.datamap import DataMap
from storage.datamap.scope import Scope, contacts_of
from storage.datamap.tables import all_tables
from workflow.executors import ActionContext
from workflow.executors.export_zip import Section

if TYPE_CHECKING:
    from workflow.executors.export_zip import AnySelect


def _columns(data_map: DataMap, name: str, portability: bool) -> list[str]:
    return [
        c.name
        for c in data_map.mapped(name)
        if c.spec.export and (c.spec.provided if portability else True)
    ]


def _order(data_map: DataMap, table: Table, name: str) -> list[Any]:
    spec = data_map.tables[name]
    return [table.c[c] for c in dict.fromkeys([*spec.order_by, *spec.key])]


def sections(scope: Scope, *, portability: bool = False) -> list[Section]:
    """A section per exported table with columns to show, in map order."""
    data_map = scope.data_map
    found: list[Section] = []
    for name, spec in data_map.tables.items():
        columns = _columns(data_map, name, portability)
        if not spec.exported or not columns:
            continue
        if portability and not any(c.personal and c.spec.provided for c in data_map.mapped(name)):
            continue
        table = scope.tables[name]

        def query(_account: Any, name: str = name, table: Table = table) -> AnySelect:
            chosen = _columns(data_map, name, portability)
            return (
                select(*(table.c[c] for c in chosen))
                .where(scope.condition(name))
                .order_by(*_order(data_map, table, name))
            )

        categories = tuple(
            dict.fromkeys(c.spec.category for c in data_map.mapped(name) if c.spec.category)
        )
        found.append(Section(data_map.export_name(name), categories, query, database=spec.database))
    return found


async def account_scope(ctx: ActionContext, data_map: DataMap) -> Scope:
    """The account's scope with its contacts read from the account store."""
    store = account_store.of(ctx.db)
    tables = await all_tables(store, data_map)
    scope = Scope(data_map, tables, ctx.account_id)
    async with store.sessions() as session:
        scope.contacts = await contacts_of(session, scope)
    return scope


def exists(scope: Scope) -> Any:
    """Whether the account row is there (an erased account keeps its row, closed)."""
    data_map = scope.data_map

    async def check(session: AsyncSession) -> bool:
        table = scope.tables[data_map.account.table]
        found = await session.scalar(
            select(table.c[data_map.account.key]).where(scope.condition(table.name))
        )
        return found is not None

    return check
