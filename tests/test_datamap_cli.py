"""`privacybot datamap check|show`: errors for what the map names and the schema lacks,
warnings for personal-looking columns the map misses, and the Art. 30 record."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli import cli
from storage import datamap


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "SECRET_KEY": "x" * 40, **extra}


def test_check_passes_on_the_built_in_store_and_warns_of_unmapped_personal_columns(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    clean = runner.invoke(cli, ["datamap", "check", "--json"], env=env)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == {"ok": True, "errors": [], "warnings": []}
    with sqlite3.connect(tmp_path / "bot.db") as connection:
        connection.execute("ALTER TABLE people ADD COLUMN mobile VARCHAR(20)")
        connection.execute("ALTER TABLE accounts ADD COLUMN notes TEXT")
        connection.execute(
            "INSERT INTO accounts (company, status, restricted, created_at, notes)"
            " VALUES ('x', 'active', 0, '2027-01-01', 'call kim@example.dk')"
        )
    warned = runner.invoke(cli, ["datamap", "check", "--json"], env=env)
    assert warned.exit_code == 0
    warnings = json.loads(warned.stdout)["warnings"]
    assert any(w.startswith("people.mobile") and "name" in w for w in warnings)
    assert any(w.startswith("accounts.notes") and "email address" in w for w in warnings)
    assert not any("kim@" in w for w in warnings)


def test_check_fails_when_the_map_names_what_the_schema_lacks(tmp_path: Path) -> None:
    raw = yaml.safe_load(datamap.BUILTIN.read_text())
    raw["tables"]["people"]["columns"]["nickname"] = {"category": "identity", "erasure": "delete"}
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw))
    runner = CliRunner()
    env = _env(tmp_path, DATAMAP_PATH=str(path))
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["datamap", "check"], env=env)
    assert result.exit_code == 1
    assert "error: people.nickname: no such column in the account store" in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("tables: [1, 2]\n")
    refused = runner.invoke(cli, ["datamap", "check"], env=_env(tmp_path, DATAMAP_PATH=str(broken)))
    assert refused.exit_code == 1 and "tables" in refused.stderr


def test_check_warns_when_a_store_lacks_an_index_the_map_asks_for(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    with sqlite3.connect(tmp_path / "bot.db") as connection:
        connection.execute("DROP INDEX ix_sms_messages_recipient_sent")
    warned = runner.invoke(cli, ["datamap", "check", "--json"], env=env)
    assert warned.exit_code == 0, "a missing index is slow, not wrong"
    assert json.loads(warned.stdout)["warnings"] == [
        "sms_messages: no index on (recipient, sent_at); a referral's search for who sent "
        "messages to a recipient's number reads the whole table"
    ]


def test_show_prints_the_record_of_processing_in_every_format(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    text = runner.invoke(cli, ["datamap", "show"], env=env)
    assert text.exit_code == 0
    assert (
        "Invoices and purchase history" in text.stdout and "Debt collection agency" in text.stdout
    )
    assert "5 years from the end of the financial year" in text.stdout
    record = json.loads(runner.invoke(cli, ["datamap", "show", "--format", "json"], env=env).stdout)
    billing = next(c for c in record["categories"] if c["category"].startswith("Invoices"))
    assert "invoices.vat_number: legal_hold" in billing["erasure"]
    rows = list(
        csv.reader(
            io.StringIO(runner.invoke(cli, ["datamap", "show", "--format", "csv"], env=env).stdout)
        )
    )
    assert rows[0][0] == "Category" and len(rows) == 1 + len(record["categories"])
    page = runner.invoke(cli, ["datamap", "show", "--format", "html"], env=env).stdout
    assert page.startswith("<!doctype html>") and "<th scope='col'>Retention</th>" in page
