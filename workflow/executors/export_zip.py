"""Streaming a customer's data into a ZIP of JSON and CSV files, in constant memory.

Shared by the access (Art. 15) and portability (Art. 20) executors: each declares its
sections (one query per file) and its documents; this module streams every query in
partitions straight into the ZIP (JSON as a streamed array; CSV spooled to a temporary
file, since a ZIP has one open member at a time), writes to a temporary name and
renames it into place only when complete. A file under the final name is therefore
always whole, and a re-run after a crash reuses it instead of exporting twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    func,
    literal,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import account_store
from storage.db import Database
from storage.types import UTCDateTime
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure
from workflow.exports import exports_dir, safe_reference, signed_link

if TYPE_CHECKING:
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]

PARTITION = 5000
# zlib level 1 compresses these text files about three times faster than level 6, for a
# ZIP about a fifth larger; the archive is downloaded once, its time is the worker's.
COMPRESSLEVEL = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Section:
    """One file pair (`<name>.json`, `<name>.csv`): the rows of one query."""

    name: str
    categories: tuple[str, ...]  # data-map categories found in the file
    query: Callable[[int], AnySelect]  # account id -> the rows, columns named
    database: str = "store"  # "store" (the account store) or "bot" (the bot's own tables)


Documents = Callable[[AsyncSession, dict[str, int]], Awaitable[dict[str, str]]]
Exists = Callable[[AsyncSession], Awaitable[bool]]


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


class _Rows:
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


def _streamable(stmt: AnySelect, dialect: str) -> tuple[AnySelect, list[Converter | None]]:
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


def _as_driver_sql(stmt: AnySelect, dialect: Dialect) -> str | None:
    """The query as SQL text with its parameters inline, when the driver's own values are
    the ones SQLAlchemy would return (no column has a result conversion); else None."""
    if dialect.name not in ("sqlite", "postgresql"):
        return None
    for col in stmt.selected_columns:
        try:
            if col.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                return None
        except Exception:  # a type whose conversion needs the driver's type code
            return None
    try:
        return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except (CompileError, NotImplementedError):
        return None


async def _partitions(connection: AsyncConnection, stmt: AnySelect) -> AsyncGenerator[Any, None]:
    """The query's rows in partitions of up to PARTITION, from the same transaction.

    Straight from the driver's cursor where SQLAlchemy would not convert any value:
    building its Row objects and switching greenlets per fetch took as long as
    formatting the rows. Otherwise through SQLAlchemy's streamed result.
    """
    sql = _as_driver_sql(stmt, connection.dialect)
    if sql is None:
        result = await connection.stream(stmt.execution_options(yield_per=PARTITION))
        async for partition in result.partitions(PARTITION):
            yield partition
        return
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":  # asyncpg: a server-side cursor
        cursor = await driver.cursor(sql)
        # the next partition is asked for before this one is handed on, so the database
        # works on it while this one is written
        ahead = asyncio.ensure_future(cursor.fetch(PARTITION))
        try:
            while partition := await ahead:
                ahead = asyncio.ensure_future(cursor.fetch(PARTITION))
                yield partition
        finally:
            if not ahead.done():  # the connection is free again only once it has answered
                await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # retrieved: an error here is not the one to report
        return
    cursor = await driver.execute(sql)  # aiosqlite
    try:
        while partition := await cursor.fetchmany(PARTITION):
            yield partition
    finally:
        await cursor.close()


async def _off_loop(call: Callable[..., Any], *args: Any) -> None:
    """Run a blocking archive write in a thread (zlib and the disk release the GIL, so it
    overlaps with fetching the next rows); return only once it has finished, even when
    cancelled, so the archive is never closed under it."""
    future = asyncio.get_running_loop().run_in_executor(None, call, *args)
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


async def _write_section(
    session: AsyncSession, archive: zipfile.ZipFile, section: Section, account_id: Any, spool: Path
) -> int:
    """Stream one query into `<name>.json` in the archive and `<name>.csv` via a spool file.

    Core rows (no ORM entities) in partitions; each partition's JSON is compressed in a
    thread while the next partition is fetched and converted; its CSV is written by one
    `writerows` into a buffer and spooled as bytes.
    """
    connection = await session.connection()
    stmt, known = _streamable(section.query(account_id), connection.dialect.name)
    columns = list(stmt.selected_columns.keys())
    converter = _Rows(columns, known)
    rows = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    with tempfile.TemporaryFile(dir=spool) as csv_file:
        csv_file.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
        with archive.open(f"{section.name}.json", "w", force_zip64=True) as member:
            writing: asyncio.Task[None] | None = None
            try:
                writing = asyncio.ensure_future(_off_loop(member.write, b"["))
                async with contextlib.aclosing(_partitions(connection, stmt)) as partitions:
                    async for partition in partitions:
                        if not partition:
                            continue
                        text, csv_rows = converter.convert(partition)
                        writer.writerows(csv_rows)
                        csv_file.write(buffer.getvalue().encode())
                        buffer.seek(0)
                        buffer.truncate()
                        data = (("," if rows else "") + "\n" + text).encode()
                        await writing
                        writing = asyncio.ensure_future(_off_loop(member.write, data))
                        rows += len(partition)
                await writing
                member.write(b"\n]\n")
            finally:
                if writing is not None and not writing.done():
                    await asyncio.wait([writing])
        csv_file.write(buffer.getvalue().encode())
        csv_file.seek(0)
        with archive.open(f"{section.name}.csv", "w", force_zip64=True) as csv_member:
            await _off_loop(shutil.copyfileobj, csv_file, csv_member, 1 << 20)
    return rows


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a complete export, or None when the file is missing or damaged."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(MANIFEST) as handle:
            manifest = json.load(handle)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return manifest if isinstance(manifest, dict) else None


@contextlib.asynccontextmanager
async def _snapshot(db: Database) -> AsyncIterator[AsyncSession]:
    """A read transaction; on PostgreSQL one snapshot, so files and counts agree."""
    async with db.sessions() as session, session.begin():
        if db.is_postgres:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await session.execute(text("SELECT 1"))  # begun now: a driver cursor needs the transaction
        yield session


async def _build(
    ctx: ActionContext,
    target: Path,
    sections: Sequence[Section],
    documents: Documents,
    exists: Exists,
) -> dict[str, Any]:
    folder = target.parent
    for stale in folder.glob(f".{target.name}.*.tmp"):  # left by a crashed earlier attempt
        stale.unlink(missing_ok=True)
    temp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    rows: dict[str, int] = {}
    try:
        with (
            temp.open("wb") as raw,
            zipfile.ZipFile(
                raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL
            ) as archive,
        ):
            store_db = account_store.of(ctx.db)
            async with contextlib.AsyncExitStack() as stack:
                store = await stack.enter_async_context(_snapshot(store_db))
                bot = (
                    store
                    if store_db is ctx.db
                    else await stack.enter_async_context(_snapshot(ctx.db))
                )
                if not await exists(store):
                    raise PermanentFailure("the account no longer exists")
                for section in sections:
                    rows[section.name] = await _write_section(
                        bot if section.database == "bot" else store,
                        archive,
                        section,
                        ctx.account_id,
                        folder,
                    )
                texts = await documents(store, rows)
            for name, text in texts.items():
                archive.writestr(name, text.encode("utf-8"))
            files = [f"{s.name}.{ext}" for s in sections for ext in ("json", "csv")]
            manifest = {
                "reference": ctx.reference,
                "kind": ctx.kind,
                "created_at": ctx.now().isoformat(),
                "files": [*files, *texts],
                "rows": rows,
                "categories": {s.name: list(s.categories) for s in sections},
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, target)
        _fsync_dir(folder)
    finally:
        temp.unlink(missing_ok=True)
    return manifest


async def export(
    ctx: ActionContext,
    label: str,
    sections: Sequence[Section],
    documents: Documents,
    exists: Exists,
) -> ExecutorResult:
    """Export `sections` for the account to `<reference>-<label>.zip` and sign a link to it."""
    try:
        filename = f"{safe_reference(ctx.reference)}-{label}.zip"
    except ValueError:
        raise PermanentFailure("the request reference is not a plain identifier") from None
    folder = exports_dir(ctx.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    manifest = read_manifest(target) if target.exists() else None
    if manifest is None:
        target.unlink(missing_ok=True)
        manifest = await _build(ctx, target, sections, documents, exists)
    return ExecutorResult(
        effects={
            "files": [filename],
            "members": manifest["files"],
            "rows": manifest["rows"],
            "bytes": target.stat().st_size,
        },
        notice=signed_link(ctx.secret, ctx.public_url, ctx.reference, filename, ctx.now()),
    )
