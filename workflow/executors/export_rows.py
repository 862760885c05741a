"""How an export's rows become JSON and CSV text, column by column, fast.

`Rows` converts a partition of rows with a converter per column, chosen at the
column's first non-NULL value; `streamable` lets the database hand over UTC timestamps
as ISO 8601 text, and `as_driver_sql` lets a query run on the driver directly when
SQLAlchemy would not convert its values anyway. The text is the same as
`json.dumps(row, ensure_ascii=False, default=plain)` and `csv` of the plain values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import ColumnElement, Select, String, case, func, literal, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError

from storage.types import UTCDateTime

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def plain(value: Any) -> Any:
    """A value as JSON has it: dates as ISO 8601, amounts as exact strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# One encoder for every value: `json.dumps` with options builds a new encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=plain).encode
_STRING = json.encoder.encode_basestring  # the C string encoder, non-ASCII kept as is
# What makes `csv.writer` (QUOTE_MINIMAL, "," and '"', "\r\n") quote a cell.
_CSV_SPECIAL = (",", '"', "\r", "\n")
Column: TypeAlias = "Sequence[Any]"
Cells: TypeAlias = "Sequence[str]"
Converter: TypeAlias = "Callable[[Column], tuple[Cells, Cells]]"


def _csv_quoted(cells: Cells) -> Cells:
    """CSV cells quoted as `csv.writer` quotes them; one scan of the joined column tells
    whether any cell needs it, so a column without commas, quotes or line breaks costs
    no per-cell check."""
    joined = "\x00".join(cells)
    if not any(special in joined for special in _CSV_SPECIAL):
        return cells
    return [
        '"' + c.replace('"', '""') + '"' if ("," in c or '"' in c or "\r" in c or "\n" in c) else c
        for c in cells
    ]


def _strings(values: Column) -> tuple[Cells, Cells]:
    if None in values:
        return (
            ["null" if v is None else _STRING(v) for v in values],
            _csv_quoted(["" if v is None else v for v in values]),
        )
    return [_STRING(v) for v in values], _csv_quoted(values)


def _integers(values: Column) -> tuple[Cells, Cells]:
    text = ["null" if v is None else int.__repr__(v) for v in values]
    return text, (
        ["" if v is None else t for v, t in zip(values, text, strict=True)]
        if None in values
        else text
    )


def _flags(values: Column) -> tuple[Cells, Cells]:
    text = [None if v is None else ("true" if v else "false") for v in values]
    return ["null" if v is None else v for v in text], ["" if v is None else v for v in text]


def _quoted(text: Sequence[str | None]) -> tuple[Cells, Cells]:
    """Values already turned into text that neither JSON nor CSV needs escapes for (dates,
    amounts)."""
    return ["null" if v is None else f'"{v}"' for v in text], ["" if v is None else v for v in text]


def _dates(values: Column) -> tuple[Cells, Cells]:
    return _quoted([None if v is None else v.isoformat() for v in values])


def _amounts(values: Column) -> tuple[Cells, Cells]:
    return _quoted([None if v is None else str(v) for v in values])


def _documents(values: Column) -> tuple[Cells, Cells]:
    encoded = [None if v is None else _ENCODE(v) for v in values]
    return ["null" if v is None else v for v in encoded], _csv_quoted(
        ["" if v is None else v for v in encoded]
    )


def _csv_cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)  # what `csv.writer` writes of a number or any other value


def _anything(values: Column) -> tuple[Cells, Cells]:
    return [_ENCODE(v) for v in values], _csv_quoted([_csv_cell(v) for v in values])


def _nulls(values: Column) -> tuple[Cells, Cells]:
    return ["null"] * len(values), [""] * len(values)


def _converter(sample: Any) -> Converter:
    """How a column whose values look like `sample` becomes JSON text and CSV cells."""
    if isinstance(sample, bool):
        return _flags
    if isinstance(sample, str):
        return _strings
    if isinstance(sample, int):
        return _integers
    if isinstance(sample, datetime | date):
        return _dates
    if isinstance(sample, Decimal):
        return _amounts
    if isinstance(sample, dict | list):
        return _documents
    return _anything


def _interleaved(
    columns: Sequence[Cells], before: Sequence[str], end: str, count: int
) -> list[str]:
    """Row by row, `before[i]` and the cell of column i, then `end`: the pieces of every
    line in order, put in place a column at a time by slice assignment (no Python code
    per row; filling a template per row took as long as converting the values)."""
    width = 2 * len(columns) + 1
    pieces: list[str] = [end] * (count * width)
    for index, cells in enumerate(columns):
        pieces[2 * index :: width] = [before[index]] * count
        pieces[2 * index + 1 :: width] = cells
    return pieces


class Rows:
    """Turns a partition of rows into JSON objects (one per line) and CSV lines.

    Column by column, with the converter chosen at the column's first non-NULL value:
    a type check, a `plain()` call and a `json.dumps` per cell were most of an
    export's time, and `csv.writer` about as much again. The lines are joined from
    the cells and the fixed text between them, so the text is the same as
    `json.dumps(row, ensure_ascii=False)` and `csv.writer().writerow(cells)`.
    """

    def __init__(self, columns: Sequence[str], known: Sequence[Converter | None] = ()) -> None:
        self._known: list[Converter | None] = list(known) or [None] * len(columns)
        keys = [_STRING(c) + ": " for c in columns]
        self._json_before = ["{" + k if i == 0 else ", " + k for i, k in enumerate(keys)]
        self._csv_before = ["" if i == 0 else "," for i in range(len(columns))]
        self._pick = [itemgetter(index) for index in range(len(columns))]
        # `csv.writer` quotes a row's only cell when it is empty, so the line is not blank
        self._lone = len(columns) == 1

    def _column(self, index: int, values: Column) -> tuple[Cells, Cells]:
        convert = self._known[index]
        if convert is None:
            sample = next((v for v in values if v is not None), None)
            if sample is None:  # NULL so far (e.g. not yet anonymised)
                return _nulls(values)
            convert = self._known[index] = _converter(sample)
        try:
            return convert(values)
        except (AttributeError, TypeError):  # a value of another type: cell by cell
            return _anything(values)

    def convert(self, rows: Sequence[Sequence[Any]], lead: str = "") -> tuple[str, str]:
        """`rows` as JSON text (`lead`, then objects joined by ",\\n") and as CSV text."""
        count = len(rows)
        if not count:
            return lead, ""
        if not self._pick:  # no columns: what json.dumps and csv.writer make of empty rows
            return lead + ",\n".join(["{}"] * count), "\r\n" * count
        as_json: list[Cells] = []
        as_csv: list[Cells] = []
        for index, pick in enumerate(self._pick):
            # a column at a time through `itemgetter`: half the time of `zip(*rows)`,
            # which calls each row's iterator once per value
            json_cells, csv_cells = self._column(index, list(map(pick, rows)))
            as_json.append(json_cells)
            as_csv.append(csv_cells)
        if self._lone:
            as_csv = [['""' if c == "" else c for c in as_csv[0]]]
        objects = _interleaved(as_json, self._json_before, "},\n", count)
        objects[0] = lead + objects[0]  # here, not by copying the whole text
        objects[-1] = "}"  # no separator after the last object
        lines = _interleaved(as_csv, self._csv_before, "\r\n", count)
        return "".join(objects), "".join(lines)


def _sqlite_timestamps(values: Column) -> tuple[Cells, Cells]:
    """UTC timestamps as SQLite stores them (`YYYY-MM-DD HH:MM:SS.ffffff`, naive) to ISO 8601
    text, the same as `isoformat()` of the aware value, without parsing each one."""
    text = [
        None
        if v is None
        else (
            f"{v[:10]}T{v[11:19] if v.endswith('.000000') else v[11:]}+00:00"
            if len(v) == 26 and v[10] == " " and v[19] == "."
            else _parsed_utc(v)
        )
        for v in values
    ]
    return _quoted(text)


def _parsed_utc(value: str) -> str:
    """Any other spelling of a stored UTC timestamp, the slow way."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC).isoformat()
    return parsed.astimezone(UTC).isoformat()


def _pg_isoformat(col: Any) -> ColumnElement[str]:
    """PostgreSQL SQL for `col.isoformat()` of an aware UTC timestamp: seconds, then
    `.ffffff` only when there are microseconds, then `+00:00`."""
    utc = col.op("AT TIME ZONE")(literal("UTC"))
    fraction = case(
        (func.date_trunc("second", col) == col, literal("")),
        else_=func.to_char(utc, ".US"),
    )
    text: ColumnElement[str] = type_coerce(
        func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + fraction + literal("+00:00"), String
    )
    return text


def _iso_texts(values: Column) -> tuple[Cells, Cells]:
    return _quoted(list(values))


def streamable(stmt: AnySelect, dialect: str) -> tuple[AnySelect, list[Converter | None]]:
    """The query with its UTC timestamps fetched as the driver gives them, and their converters.

    The `UTCDateTime` result hook and `isoformat()` were a Python call each per value:
    PostgreSQL writes the ISO 8601 text itself (in its own process, on another core),
    and SQLite's stored text becomes ISO 8601 by slicing.
    """
    columns: list[Any] = []
    known: list[Converter | None] = []
    if dialect not in ("sqlite", "postgresql"):  # MariaDB: as SQLAlchemy converts them
        return stmt, [None] * len(stmt.selected_columns)
    for name, col in stmt.selected_columns.items():
        if isinstance(col.type, UTCDateTime) and dialect == "sqlite":
            columns.append(type_coerce(col, String).label(name))
            known.append(_sqlite_timestamps)
        elif isinstance(col.type, UTCDateTime):
            columns.append(_pg_isoformat(col).label(name))
            known.append(_iso_texts)
        else:
            columns.append(col)
            known.append(None)
    return stmt.with_only_columns(*columns, maintain_column_froms=True), known


def as_driver_sql(stmt: AnySelect, dialect: Dialect) -> str | None:
    """The query as SQL text with its parameters inline, when the driver's own values are
    the ones SQLAlchemy would return (no column has a result conversion); else None."""
    if dialect.name not in ("sqlite", "postgresql"):
        return None
    for col in stmt.selected_columns:
        try:
            if col.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                return None
        except Exception as exc:  # a type whose conversion needs the driver's type code
            log.debug("export: %s needs the ORM path (%s)", col.type, type(exc).__name__)
            return None
    try:
        return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except (CompileError, NotImplementedError):
        return None
