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
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
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


def _csv_cell(value: Any) -> Any:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


# One encoder for every value: `json.dumps` with options builds a new encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=plain).encode
_STRING = json.encoder.encode_basestring  # the C string encoder, non-ASCII kept as is
Column: TypeAlias = "Sequence[Any]"
Converter: TypeAlias = "Callable[[Column], tuple[Column, Column]]"


def _strings(values: Column) -> tuple[Column, Column]:
    return ["null" if v is None else _STRING(v) for v in values], values


def _integers(values: Column) -> tuple[Column, Column]:
    return ["null" if v is None else int.__repr__(v) for v in values], values


def _flags(values: Column) -> tuple[Column, Column]:
    text = [None if v is None else ("true" if v else "false") for v in values]
    return ["null" if v is None else v for v in text], ["" if v is None else v for v in text]


def _quoted(text: list[str | None]) -> tuple[Column, Column]:
    """Values already turned into text that JSON needs no escapes for (dates, amounts)."""
    return ["null" if v is None else f'"{v}"' for v in text], text


def _dates(values: Column) -> tuple[Column, Column]:
    return _quoted([None if v is None else v.isoformat() for v in values])


def _amounts(values: Column) -> tuple[Column, Column]:
    return _quoted([None if v is None else str(v) for v in values])


def _documents(values: Column) -> tuple[Column, Column]:
    encoded = [None if v is None else _ENCODE(v) for v in values]
    return ["null" if v is None else v for v in encoded], ["" if v is None else v for v in encoded]


def _anything(values: Column) -> tuple[Column, Column]:
    return [_ENCODE(v) for v in values], [_csv_cell(v) for v in values]


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


class Rows:
    """Turns a partition of rows into JSON objects (one per line) and CSV rows.

    Column by column, with the converter chosen at the column's first non-NULL value:
    a type check, a `plain()` call and a `json.dumps` per cell were most of an
    export's time. Each JSON object is filled into a template of its keys, so the
    text is the same as `json.dumps(row, ensure_ascii=False)`.
    """

    def __init__(self, columns: Sequence[str], known: Sequence[Converter | None] = ()) -> None:
        self._known: list[Converter | None] = list(known) or [None] * len(columns)
        self._template = (
            "{" + ", ".join(_STRING(c).replace("%", "%%") + ": %s" for c in columns) + "}"
        )

    def _column(self, index: int, values: Column) -> tuple[Column, Column]:
        convert = self._known[index]
        if convert is None:
            sample = next((v for v in values if v is not None), None)
            if sample is None:  # NULL so far (e.g. not yet anonymised)
                return ["null"] * len(values), values
            convert = self._known[index] = _converter(sample)
        try:
            return convert(values)
        except (AttributeError, TypeError):  # a value of another type: cell by cell
            return _anything(values)

    def convert(self, rows: Sequence[Sequence[Any]]) -> tuple[str, Iterable[Sequence[Any]]]:
        """`rows` as JSON text (objects joined by ",\\n") and as CSV rows."""
        as_json: list[Column] = []
        as_csv: list[Column] = []
        for index, values in enumerate(zip(*rows, strict=True)):
            json_values, csv_values = self._column(index, values)
            as_json.append(json_values)
            as_csv.append(csv_values)
        template = self._template
        text = ",\n".join([template % row for row in zip(*as_json, strict=True)])
        return text, zip(*as_csv, strict=True)


def _sqlite_timestamps(values: Column) -> tuple[Column, Column]:
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


def _iso_texts(values: Column) -> tuple[Column, Column]:
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
