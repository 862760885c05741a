"""The export's files are byte for byte what `json.dumps` and `csv.writer` make of the rows,
whichever fast path wrote them (the driver's cursor, PostgreSQL's ISO 8601 text,
timestamps sliced from SQLite's text), also for values that need escaping or quoting."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from storage import datamap
from storage.datamap.scope import Scope
from storage.datamap.tables import all_tables
from storage.db import Database
from storage.models import SmsMessage
from tests.executors.conftest import START, MakeCtx, zip_members
from workflow.executors import access, export_rows
from workflow.executors.map_sections import sections

TRICKY = [
    'He said "hi", then left',
    "two\nlines\r\nand a\rreturn",
    "tab\there, bell\x07, escape\x1b, unit\x1f and del\x7f",
    "back\\slash and /slash/",
    "æøå ÆØÅ — emoji 🎉 and ‘quotes’ \u2028 line separator",
    "",
    " leading and trailing spaces ",
    ",",
    '"',
    None,
]


async def _reference(db: Database, account_id: int) -> tuple[bytes, bytes]:
    """The SMS section as the plain, slow formatting writes it."""
    scope = Scope(datamap.current(), await all_tables(db, datamap.current()), account_id)
    (sms,) = [s for s in sections(scope) if s.name == "sms_messages"]
    async with db.sessions() as session:
        result = await session.execute(sms.query(account_id))
        columns = list(result.keys())
        rows = [dict(zip(columns, row, strict=True)) for row in result]
    objects = [json.dumps(row, ensure_ascii=False, default=export_rows.plain) for row in rows]
    as_json = "[\n" + ",\n".join(objects) + "\n]\n" if objects else "[\n]\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    cells: list[list[Any]] = [[_cell(v) for v in row.values()] for row in rows]
    writer.writerows(cells)
    return as_json.encode(), buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    value = export_rows.plain(value)
    return "" if value is None else value


async def test_tricky_text_and_timestamps_are_written_exactly_as_json_and_csv_would(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    async with seeded.transaction() as session:
        for index, text in enumerate(TRICKY):
            session.add(
                SmsMessage(
                    account_id=anna,
                    sender_number=None if text is None else text[:20],
                    sender_name=None if text is None else text[:11],
                    recipient="+4512345678",
                    content=text,
                    status="delivered",
                    # whole seconds (no fraction in ISO 8601) and microseconds alternate
                    sent_at=START + timedelta(seconds=index, microseconds=index % 2 * 1500),
                    anonymised_at=START if index % 3 == 0 else None,
                )
            )
    result = await access.run(make_ctx(anna, "access"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    as_json, as_csv = await _reference(seeded, anna)
    assert members["sms_messages.json"] == as_json
    assert members["sms_messages.csv"] == as_csv
    sms = json.loads(members["sms_messages.json"])
    assert [m["content"] for m in sms[-len(TRICKY) :]] == TRICKY
    assert sms[-len(TRICKY)]["sent_at"] == START.isoformat()  # "...T10:00:00+00:00"


async def test_an_account_without_messages_gets_empty_files(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    async with seeded.transaction() as session:
        await session.execute(SmsMessage.__table__.delete().where(SmsMessage.account_id == anna))
    result = await access.run(make_ctx(anna, "access"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    assert (members["sms_messages.json"], members["sms_messages.csv"]) == await _reference(
        seeded, anna
    )
    assert result.effects["rows"]["sms_messages"] == 0
    async with seeded.sessions() as session:
        assert await session.scalar(select(SmsMessage.id).limit(1)) is not None  # others' kept


def _plainly(columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[str, str]:
    """What `json.dumps` and `csv.writer` make of the rows (the CSV cells as the export
    spells them: ISO 8601, exact amounts, true/false, JSON documents, "" for NULL)."""
    objects = [
        json.dumps(
            dict(zip(columns, row, strict=True)), ensure_ascii=False, default=export_rows.plain
        )
        for row in rows
    ]

    def cell(value: Any) -> Any:
        value = export_rows.plain(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return "" if value is None else value

    buffer = io.StringIO()
    csv.writer(buffer).writerows([[cell(v) for v in row] for row in rows])
    return ",\n".join(objects), buffer.getvalue()


def test_rows_of_every_kind_convert_as_json_dumps_and_csv_writer_would() -> None:
    columns = ["id", "text", "flag", "amount", "at", "doc", "ratio", 'odd "name", %s']
    texts = [t for t in TRICKY if t is not None]
    rows = [
        (
            index,
            text,
            index % 2 == 0,
            Decimal("12.50") * index,
            START + timedelta(minutes=index),
            {"note": text, "n": [index, None]} if index % 3 else None,
            index / 7,
            None,
        )
        for index, text in enumerate(texts)
    ]
    rows.append((None, None, None, None, None, ["a, b"], None, "late"))
    converter = export_rows.Rows(columns)
    assert converter.convert(rows) == _plainly(columns, rows)
    # SQLite's loose typing: a text where numbers were, a number where texts were
    odd = [("7", 2, True, Decimal(1), START, [], 0.5, "x, y")]
    assert converter.convert(odd) == _plainly(columns, odd)


def test_a_lone_empty_cell_is_quoted_as_csv_writer_quotes_it() -> None:
    rows: list[tuple[Any, ...]] = [("",), (None,), ("x",), ("a,b",)]
    assert export_rows.Rows(["only"]).convert(rows) == _plainly(["only"], rows)


def test_partitions_after_the_first_continue_the_json_array_and_empty_rows_stay_rows() -> None:
    columns = ["id", "text"]
    rows: list[tuple[Any, ...]] = [(1, "a"), (2, None)]
    text, lines = export_rows.Rows(columns).convert(rows, ",\n")
    assert (text, lines) == (",\n" + _plainly(columns, rows)[0], _plainly(columns, rows)[1])
    assert export_rows.Rows([]).convert([(), ()]) == _plainly([], [(), ()])


async def test_sqlite_timestamps_of_any_stored_spelling_are_exported_as_iso_8601(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    if seeded.is_postgres:
        pytest.skip("SQLite keeps timestamps as text; PostgreSQL as timestamptz")
    stored = [
        "2026-01-02 03:04:05.000000",  # as SQLAlchemy writes them
        "2026-01-02 03:04:05.250000",
        "2026-01-02 03:04:05",  # written by hand or by another tool
        "2026-01-02T05:04:05.5+02:00",
    ]
    async with seeded.transaction() as session:
        await session.execute(SmsMessage.__table__.delete().where(SmsMessage.account_id == anna))
        for at in stored:
            await session.execute(
                text(
                    "INSERT INTO sms_messages (account_id, recipient, content, status, sent_at) "
                    "VALUES (:account, '+4512345678', 'hi', 'delivered', :at)"
                ),
                {"account": anna, "at": at},
            )
    result = await access.run(make_ctx(anna, "access"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    expected = [
        "2026-01-02T03:04:05+00:00",
        "2026-01-02T03:04:05.250000+00:00",
        "2026-01-02T03:04:05+00:00",
        "2026-01-02T03:04:05.500000+00:00",
    ]
    assert [m["sent_at"] for m in json.loads(members["sms_messages.json"])] == expected
    rows = list(csv.DictReader(io.StringIO(members["sms_messages.csv"].decode())))
    assert [r["sent_at"] for r in rows] == expected
