"""Which rows of each table belong to an account: the map's reaches compiled to SQL.

One compiler for every right, so the access export, the erasure, rectification and the
identifier lookup cannot disagree about what is the customer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.datamap.model import DataMap, reaches
from storage.datamap.schema import Child, EqualsContact, Mentions, OwnColumn, Parent, Reach


def contact_variants(contacts: Sequence[str]) -> list[str]:
    """The values as stored and in lower case (an email typed with capitals)."""
    return sorted({*contacts, *(c.lower() for c in contacts)})


@dataclass
class Scope:
    """The rows of one account, table by table.

    `fixed` holds, for the tables whose scope would change while an erasure runs (see
    `DataMap.snapshotted`), the keys found when the erasure was planned.
    """

    data_map: DataMap
    tables: dict[str, Table]
    account_id: Any
    contacts: list[str] = field(default_factory=list)
    fixed: dict[str, list[Any]] | None = None

    def key(self, name: str) -> list[Any]:
        table = self.tables[name]
        return [table.c[k] for k in self.data_map.tables[name].key]

    def condition(self, name: str) -> ColumnElement[bool]:
        """Rows of `name` that belong to the account."""
        if name == self.data_map.account.table:
            own: ColumnElement[bool] = (
                self.tables[name].c[self.data_map.account.key] == self.account_id
            )
            return own
        if self.fixed is not None and name in self.fixed:
            (key,) = self.key(name)
            fixed: ColumnElement[bool] = key.in_(self.fixed[name]) if self.fixed[name] else false()
            return fixed
        return self._any(name, reaches(self.data_map.tables[name].reach), depth=0)

    def _any(self, name: str, specs: list[Reach], depth: int) -> ColumnElement[bool]:
        if depth > 8:
            raise ValueError(f"the reach of {name} goes round in a circle")
        parts = [self._one(name, spec, depth) for spec in specs]
        return or_(*parts) if parts else false()

    def _one(self, name: str, spec: Reach, depth: int) -> ColumnElement[bool]:
        table = self.tables[name]
        if isinstance(spec, OwnColumn):
            result: ColumnElement[bool] = table.c[spec.column] == self.account_id
            return result
        if isinstance(spec, Parent):
            parent = self.tables[spec.parent]
            mine = [table.c[c] for c in spec.join]
            theirs = [parent.c[c] for c in spec.join.values()]
            inner = select(*theirs).where(self._nested(spec.parent, depth))
            return mine[0].in_(inner) if len(mine) == 1 else tuple_(*mine).in_(inner)
        if isinstance(spec, Child):
            child = self.tables[spec.child]
            (child_column, my_column) = next(iter(spec.join.items()))
            via = (
                self._any(spec.child, reaches(spec.via), depth + 1)
                if spec.via is not None
                else self._nested(spec.child, depth)
            )
            inner = select(child.c[child_column]).where(via, child.c[child_column].is_not(None))
            return table.c[my_column].in_(inner)
        if isinstance(spec, Mentions):
            if not self.contacts:
                return false()
            return or_(
                *(
                    table.c[c].icontains(value, autoescape=True)
                    for c in spec.mentions
                    for value in self.contacts
                )
            )
        if isinstance(spec, EqualsContact):
            if not self.contacts:
                return false()
            return table.c[spec.equals_contact].in_(contact_variants(self.contacts))
        raise TypeError(f"unknown reach {spec!r}")

    def _nested(self, name: str, depth: int) -> ColumnElement[bool]:
        if name == self.data_map.account.table or (self.fixed is not None and name in self.fixed):
            return self.condition(name)
        return self._any(name, reaches(self.data_map.tables[name].reach), depth + 1)


async def contacts_of(session: AsyncSession, scope: Scope) -> list[str]:
    """The account's own contact values (the map's identifier columns), from the store."""
    values: set[str] = set()
    for column in scope.data_map.identifiers():
        if scope.data_map.tables[column.table].database != "store":
            continue
        table = scope.tables[column.table]
        rows = await session.execute(
            select(table.c[column.name]).where(scope.condition(column.table))
        )
        values.update(str(v).strip() for (v,) in rows if v is not None and str(v).strip())
    return sorted(values)
