"""The data map as the code reads it: the two files merged, defaults applied, references
checked, and the questions every right asks answered in one place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from locales import _, current
from storage.datamap.schema import (
    Category,
    Child,
    Column,
    DataMapFile,
    EqualsContact,
    LegalHold,
    Mentions,
    OwnColumn,
    Parent,
    Reach,
    ReachSpec,
    Rectify,
    Role,
    Rule,
    Strategy,
    Table,
    Text,
)


class DataMapError(ValueError):
    """The map is inconsistent (names a category, purpose or table that does not exist)."""


def text(value: Text) -> str:
    """A text of the map in the current language: its own translation, else the catalog's."""
    if isinstance(value, dict):
        return value.get(current()) or value.get("en") or next(iter(value.values()), "")
    return _(value)


def reaches(spec: ReachSpec | None) -> list[Reach]:
    if spec is None:
        return []
    return list(spec) if isinstance(spec, list) else [spec]


@dataclass(frozen=True, slots=True)
class MappedColumn:
    """One column with its table's defaults applied."""

    table: str
    name: str
    spec: Column
    database: str

    @property
    def personal(self) -> bool:
        return self.spec.category is not None

    @property
    def erasure(self) -> Strategy:
        return self.spec.erasure

    @property
    def kept_by_law(self) -> bool:
        return self.spec.erasure is Strategy.LEGAL_HOLD


@dataclass(frozen=True, slots=True)
class RectifiableField:
    """A field the customer may have corrected, and where it lives."""

    field: str
    label: str  # translated in the current language when asked for
    kind: str
    max_length: int
    table: str
    column: str
    where: dict[str, str]


def _with_defaults(column: Column, defaults: Column) -> Column:
    inherited = {
        name: getattr(defaults, name)
        for name in defaults.model_fields_set
        if name not in column.model_fields_set
    }
    return column.model_copy(update=inherited) if inherited else column


class DataMap:
    """The merged map: the account store's tables first, then the bot's own."""

    def __init__(self, store: DataMapFile, bot: DataMapFile, *, source: str = "") -> None:
        if store.account is None:
            raise DataMapError("the account store's map names no account table")
        self.source = source
        self.account = store.account
        self.controller = store.controller
        self.legal_bases = {**bot.legal_bases, **store.legal_bases}
        self.purpose_specs = {**bot.purposes, **store.purposes}
        self.category_specs = {**bot.categories, **store.categories}
        self.recipients = dict(store.recipients)
        self.automated_decisions = list(store.automated_decisions)
        clash = set(store.tables) & set(bot.tables)
        if clash:
            raise DataMapError(f"the store's map names the bot's own tables: {sorted(clash)}")
        self.tables: dict[str, Table] = {
            **{n: t.model_copy(update={"database": "store"}) for n, t in store.tables.items()},
            **{n: t.model_copy(update={"database": "bot"}) for n, t in bot.tables.items()},
        }
        self.columns: dict[str, dict[str, MappedColumn]] = {
            name: {
                column: MappedColumn(
                    name, column, _with_defaults(spec, table.defaults), table.database
                )
                for column, spec in table.columns.items()
            }
            for name, table in self.tables.items()
        }
        problems = self._problems()
        if problems:
            raise DataMapError("; ".join(problems))

    # --- consistency ---------------------------------------------------------------

    def _problems(self) -> list[str]:
        problems: list[str] = []
        for key, purpose in self.purpose_specs.items():
            if purpose.basis not in self.legal_bases:
                problems.append(f"purposes.{key}: unknown legal basis {purpose.basis!r}")
        for key, recipient in self.recipients.items():
            problems += [
                f"recipients.{key}: unknown category {c!r}"
                for c in recipient.categories
                if c not in self.category_specs
            ]
        for key, category in self.category_specs.items():
            if category.period_of is not None and category.period_of not in self.tables:
                problems.append(f"categories.{key}: unknown table {category.period_of!r}")
        if self.account.table not in self.tables:
            problems.append(f"account.table {self.account.table!r} is not in tables")
        for name, table in self.tables.items():
            problems += self._table_problems(name, table)
        return problems

    def _table_problems(self, name: str, table: Table) -> list[str]:
        problems: list[str] = []
        where = f"tables.{name}"
        columns = self.columns[name]
        for column in columns.values():
            spec = column.spec
            if spec.category is None:
                continue
            if spec.category not in self.category_specs:
                problems.append(f"{where}.{column.name}: unknown category {spec.category!r}")
            if spec.purpose is None or spec.purpose not in self.purpose_specs:
                problems.append(f"{where}.{column.name}: unknown purpose {spec.purpose!r}")
        named = [*table.key, *table.order_by, *table.erase_set]
        named += [c.lstrip("-") for c in table.pick_first]
        for rule in table.retention:
            named += [rule.counted_from, *rule.columns, *rule.unless_status]
            named += [c for c in (rule.mark, rule.or_when_set, rule.bump, rule.guarded_column) if c]
        if table.legal_hold is not None:
            named += [table.legal_hold.counted_from, table.legal_hold.until_column]
        named += [c for lookup in table.indexes for c in lookup.columns]
        problems += [
            f"{where}: column {c!r} is not in its columns" for c in named if c not in columns
        ]
        if table.reach is None and name != self.account.table:
            problems.append(f"{where}: says nothing about how its rows reach an account")
        for reach in reaches(table.reach):
            problems += self._reach_problems(where, name, table, reach)
        deleted = {c.erasure is Strategy.DELETE for c in columns.values() if c.personal}
        if deleted == {True, False}:
            problems.append(f"{where}: rows are deleted by some columns and kept by others")
        if table.database == "bot" and any(
            isinstance(r, Parent) and self.tables[r.parent].database != "bot"
            for r in reaches(table.reach)
            if isinstance(r, Parent) and r.parent in self.tables
        ):
            problems.append(f"{where}: a bot table cannot reach through the account store")
        return problems

    def _reach_problems(self, where: str, name: str, table: Table, reach: Reach) -> list[str]:
        columns = self.columns[name]
        if isinstance(reach, OwnColumn):
            return [] if reach.column in columns else [f"{where}.reach: no column {reach.column!r}"]
        if isinstance(reach, Parent):
            if reach.parent not in self.tables:
                return [f"{where}.reach: unknown table {reach.parent!r}"]
            if self.tables[reach.parent].database != table.database:
                return [f"{where}.reach: {reach.parent!r} is in the other database"]
            return [f"{where}.reach: no column {c!r}" for c in reach.join if c not in columns]
        if isinstance(reach, Child):
            if reach.child not in self.tables:
                return [f"{where}.reach: unknown table {reach.child!r}"]
            if self.tables[reach.child].database != table.database:
                return [f"{where}.reach: {reach.child!r} is in the other database"]
            if len(table.key) != 1:
                return [f"{where}.reach: a table reached through a child needs a one-column key"]
            return [
                f"{where}.reach: no column {c!r}" for c in reach.join.values() if c not in columns
            ]
        if isinstance(reach, Mentions):
            return [f"{where}.reach: no column {c!r}" for c in reach.mentions if c not in columns]
        if isinstance(reach, EqualsContact) and reach.equals_contact not in columns:
            return [f"{where}.reach: no column {reach.equals_contact!r}"]
        return []

    # --- questions the rights ask --------------------------------------------------

    def table(self, name: str) -> Table:
        return self.tables[name]

    def mapped(self, table: str) -> Iterator[MappedColumn]:
        return iter(self.columns[table].values())

    def personal(self, table: str | None = None) -> list[MappedColumn]:
        names = [table] if table else list(self.tables)
        return [c for n in names for c in self.columns[n].values() if c.personal]

    def strategy(self, table: str, column: str) -> Strategy:
        found = self.columns.get(table, {}).get(column)
        if found is None or not found.personal:
            raise KeyError(f"{table}.{column} is not a personal column of the data map")
        return found.erasure

    def deletes_rows(self, table: str) -> bool:
        personal = self.personal(table)
        return bool(personal) and all(c.erasure is Strategy.DELETE for c in personal)

    def identifiers(self) -> list[MappedColumn]:
        """The columns that hold the account's own contact values (email, phone)."""
        return [c for n in self.tables for c in self.columns[n].values() if c.spec.identifier]

    def identifier_tables(self) -> list[str]:
        return list(dict.fromkeys(c.table for c in self.identifiers()))

    def legal_hold_columns(self) -> frozenset[tuple[str, str]]:
        return frozenset((c.table, c.name) for c in self.personal() if c.kept_by_law)

    def legal_hold(self) -> tuple[str, LegalHold] | None:
        for name, table in self.tables.items():
            if table.legal_hold is not None:
                return name, table.legal_hold
        return None

    def legal_hold_until(self, issued: date | datetime) -> date:
        """End of the hold: 31 December of the issue year plus the hold's years."""
        found = self.legal_hold()
        years = found[1].years if found else 5
        return date(issued.year + years, 12, 31)

    def snapshotted(self, table: str) -> bool:
        """Whether the rows in scope are fixed when an erasure is planned: a reach through a
        child's rows or through mentions changes as the erasure proceeds."""
        return any(isinstance(r, Child | Mentions) for r in reaches(self.tables[table].reach))

    def rules(self, database: str | None = None) -> list[tuple[str, Rule]]:
        return [
            (name, rule)
            for name, table in self.tables.items()
            if database is None or table.database == database
            for rule in table.retention
        ]

    def export_name(self, table: str) -> str:
        return self.tables[table].export_as or table

    # --- what the customer and the DPO read ----------------------------------------

    def category_keys(self, role: Role | None = None) -> list[str]:
        """The categories the map's columns hold, in map order (optionally for one role)."""
        keys = dict.fromkeys(
            c.spec.category
            for c in self.personal()
            if c.spec.category and (role is None or self.role_of(c) is role)
        )
        return [k for k in keys if k is not None]

    def role_of(self, column: MappedColumn) -> Role:
        if column.spec.role is not None:
            return column.spec.role
        return self.category_specs[column.spec.category or ""].role

    def label(self, category: str) -> str:
        return text(self.category_specs[category].label)

    def retention_text(self, category: str) -> str:
        """The category's retention as the customer reads it, with the map's own periods."""
        spec: Category = self.category_specs[category]
        days = ""
        if spec.period_of is not None and self.tables[spec.period_of].retention:
            days = str(self.tables[spec.period_of].retention[0].after_days)
        hold = self.legal_hold()
        return text(spec.retention).format(days=days, years=hold[1].years if hold else "")

    def purpose_keys(self) -> list[str]:
        return list(dict.fromkeys(c.spec.purpose for c in self.personal() if c.spec.purpose))

    def purpose_text(self, key: str) -> str:
        return text(self.purpose_specs[key].text)

    def basis_text(self, purpose: str) -> str:
        return text(self.legal_bases[self.purpose_specs[purpose].basis])

    def rule_days(self, table: str, rule: str) -> int:
        for candidate in self.tables[table].retention:
            if candidate.name == rule:
                return candidate.after_days
        raise KeyError(f"{table} has no retention rule {rule!r}")

    @cached_property
    def rectifiable(self) -> dict[str, tuple[MappedColumn, Rectify]]:
        found: dict[str, tuple[MappedColumn, Rectify]] = {}
        for table in self.tables:
            for column in self.columns[table].values():
                if column.spec.rectify is not None:
                    found.setdefault(column.spec.rectify.field, (column, column.spec.rectify))
        return found

    def rectifiable_fields(self) -> list[RectifiableField]:
        """The fields a customer can have corrected, with their labels in the current language."""
        return [
            RectifiableField(
                key, text(r.label), r.kind, r.max_length, c.table, c.name, dict(r.where)
            )
            for key, (c, r) in self.rectifiable.items()
        ]
