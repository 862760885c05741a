"""The data map covers every column of the store, is consistent, and its helpers do what
they say; the shipped JSON schema is the one the models produce."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

import storage.models as models
import storage.referral_models as referral_models
from storage import datamap
from storage.datamap import DataMapError, Role, Strategy
from storage.datamap.schema import DataMapFile

SCHEMA = Path(datamap.__file__).with_name("datamap.schema.json")


def _store_tables() -> dict[str, set[str]]:
    """The tables defined in storage.models (the account store and the bot's own) and
    storage.referral_models (SMS recipients' requests and the suppression list)."""
    return {
        mapper.local_table.name: {c.name for c in mapper.local_table.columns}  # type: ignore[union-attr]
        for mapper in models.Base.registry.mappers
        if mapper.class_.__module__ in (models.__name__, referral_models.__name__)
    }


def test_every_column_of_every_model_is_in_the_map_and_nothing_else() -> None:
    data_map = datamap.current()
    tables = _store_tables()
    tables.pop("processed_deliveries")  # delivery keys: no account, never personal
    assert set(data_map.tables) == set(tables)
    for name, columns in tables.items():
        assert set(data_map.columns[name]) == columns, name


def test_a_table_deleted_row_wise_is_deleted_in_every_personal_column() -> None:
    data_map = datamap.current()
    for name in data_map.tables:
        strategies = {c.erasure for c in data_map.personal(name)}
        assert Strategy.DELETE not in strategies or strategies == {Strategy.DELETE}, name


def test_what_the_bookkeeping_act_keeps_and_what_it_does_not() -> None:
    data_map = datamap.current()
    held = data_map.legal_hold_columns()
    assert ("invoices", "vat_number") in held and ("invoices", "billing_name") in held
    assert data_map.strategy("invoices", "billing_email") is Strategy.NULL
    assert data_map.strategy("payments", "card_last4") is Strategy.NULL
    with pytest.raises(KeyError):
        data_map.strategy("invoices", "number")


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
    data_map = datamap.current()
    keys = data_map.category_keys()
    assert "billing" in keys and "message_content" in keys and len(keys) == len(set(keys))
    assert data_map.category_keys(Role.PROCESSOR) == [
        "network",
        "recipient",
        "message_content",
        "referral",  # SMS recipients' requests passed on to the account (bot.yaml)
    ]
    assert len(data_map.purpose_keys()) >= 5


def test_the_rectifiable_fields_and_where_they_live() -> None:
    fields = {f.field: (f.table, f.column, f.kind) for f in datamap.rectifiable_fields()}
    assert fields == {
        "company": ("accounts", "company", "text"),
        "name": ("people", "name", "text"),
        "email": ("people", "email", "email"),
        "phone": ("people", "phone", "phone"),
    }


def test_a_changed_period_changes_the_text(tmp_path: Path) -> None:
    raw = yaml.safe_load(datamap.BUILTIN.read_text())
    raw["tables"]["sms_messages"]["retention"][0]["after_days"] = 45
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    changed = datamap.load(path)
    assert changed.retention_text("message_content") == "Up to 45 days, then anonymised."
    assert changed.rule_days("sms_messages", "sms_messages_anonymised") == 45


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["tables"]["people"]["columns"]["email"].update(category="nope"), "nope"),
        (lambda m: m["tables"]["payments"].update(reach={"parent": "x", "join": {}}), "'x'"),
        (lambda m: m["tables"]["people"].pop("reach"), "reach an account"),
        (lambda m: m["purposes"]["account"].update(basis="whim"), "whim"),
        (
            lambda m: m["tables"]["sms_messages"]["indexes"][0].update(columns=["to_number"]),
            "'to_number' is not in its columns",
        ),
    ],
)
def test_an_inconsistent_map_is_refused_with_the_reason(
    tmp_path: Path, change: object, message: str
) -> None:
    raw = yaml.safe_load(datamap.BUILTIN.read_text())
    change(raw)  # type: ignore[operator]
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(DataMapError, match=message):
        datamap.load(path)


def test_the_shipped_json_schema_is_current() -> None:
    assert json.loads(SCHEMA.read_text()) == DataMapFile.model_json_schema()
