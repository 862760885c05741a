"""The data map covers every personal column of the store, and its helpers do what they say."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import storage.models as models
from storage import datamap
from storage.datamap import CATEGORIES, DATA_MAP, NON_PERSONAL, Strategy


def _store_tables() -> dict[str, set[str]]:
    """The tables defined in storage.models (the account store and the bot's own)."""
    return {
        mapper.local_table.name: {c.name for c in mapper.local_table.columns}  # type: ignore[union-attr]
        for mapper in models.Base.registry.mappers
        if mapper.class_.__module__ == models.__name__
    }


def test_every_column_is_either_mapped_or_declared_non_personal() -> None:
    mapped = {(f.table, f.column) for f in DATA_MAP}
    missing = [
        f"{table}.{column}"
        for table, columns in _store_tables().items()
        for column in sorted(columns)
        if (table, column) not in mapped and column not in NON_PERSONAL.get(table, frozenset())
    ]
    assert missing == [], "add these columns to storage/datamap.py (DATA_MAP or NON_PERSONAL)"


def test_the_map_names_only_existing_columns_and_never_both_ways() -> None:
    tables = _store_tables()
    stale = [f"{f.table}.{f.column}" for f in DATA_MAP if f.column not in tables.get(f.table, ())]
    stale += [
        f"{t}.{c}" for t, cols in NON_PERSONAL.items() for c in cols if c not in tables.get(t, ())
    ]
    both = [f"{f.table}.{f.column}" for f in DATA_MAP if f.column in NON_PERSONAL.get(f.table, ())]
    assert stale == [] and both == []


def test_every_entry_is_complete() -> None:
    seen: set[tuple[str, str]] = set()
    for entry in DATA_MAP:
        assert (entry.table, entry.column) not in seen, "one entry per column"
        seen.add((entry.table, entry.column))
        assert entry.category in CATEGORIES
        assert entry.purpose and entry.legal_basis and entry.retention


def test_a_table_deleted_row_wise_is_deleted_in_every_column() -> None:
    for table in {f.table for f in DATA_MAP}:
        strategies = {f.erasure for f in datamap.fields(table)}
        assert Strategy.DELETE not in strategies or strategies == {Strategy.DELETE}, table


def test_what_the_bookkeeping_act_keeps_and_what_it_does_not() -> None:
    held = datamap.legal_hold_columns()
    assert ("invoices", "vat_number") in held and ("invoices", "billing_name") in held
    assert datamap.strategy("invoices", "billing_email") is Strategy.NULL
    assert datamap.strategy("payments", "card_last4") is Strategy.NULL
    with pytest.raises(KeyError):
        datamap.strategy("invoices", "number")


@pytest.mark.parametrize(
    ("issued", "until"),
    [
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), date(2031, 12, 31)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), date(2031, 12, 31)),
        (date(2027, 6, 1), date(2032, 12, 31)),
    ],
)
def test_legal_hold_lasts_five_years_from_the_end_of_the_financial_year(
    issued: date, until: date
) -> None:
    assert datamap.legal_hold_until(issued) == until


def test_mask_keeps_all_but_the_last_four_and_is_idempotent() -> None:
    assert datamap.mask_last4("+4520000001") == "+452000XXXX"
    assert datamap.mask_last4(datamap.mask_last4("+4520000001")) == "+452000XXXX"
    assert datamap.mask_last4("123") == "XXXX"


def test_keyed_hash_depends_on_the_key() -> None:
    assert datamap.keyed_hash(b"a", "x") != datamap.keyed_hash(b"b", "x")
    assert len(datamap.keyed_hash(b"a", "x")) == 64


def test_categories_and_purposes_come_from_the_map() -> None:
    keys = [c.key for c in datamap.categories()]
    assert "billing" in keys and "message_content" in keys and len(keys) == len(set(keys))
    assert [c.key for c in datamap.categories(datamap.Role.PROCESSOR)] == [
        "network",
        "recipient",
        "message_content",
    ]
    assert len(datamap.purposes()) >= 5
