"""Streaming a customer's data into a ZIP of JSON and CSV files, in constant memory.

Shared by the access (Art. 15) and portability (Art. 20) executors: each declares its
sections (one query per file) and its documents; this module streams every query in
partitions straight into the ZIP (JSON as a streamed array; CSV deflated into a
temporary file and copied in after, since a ZIP has one open member at a time), the
next partition fetched while this one is written; it writes to a temporary name and
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
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    Select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import account_store
from storage.db import Database
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure
from workflow.executors.deflated_spool import DeflatedSpool, speed_up
from workflow.executors.export_rows import Rows, as_driver_sql, streamable
from workflow.exports import exports_dir, safe_reference, signed_link

if TYPE_CHECKING:
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]

PARTITION = 5000
# zlib level 1 compresses these text files about three times faster than level 6, for a
# ZIP about a fifth larger; the archive is downloaded once, its time is the worker's. The
# sections' files are deflated faster still with zlib-ng where it is there (`speed_up`).
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


async def _partitions(connection: AsyncConnection, stmt: AnySelect) -> AsyncGenerator[Any, None]:
    """The query's rows in partitions of up to PARTITION, from the same transaction.

    Straight from the driver's cursor where SQLAlchemy would not convert any value:
    building its Row objects and switching greenlets per fetch took as long as
    formatting the rows. Otherwise through SQLAlchemy's streamed result.
    """
    sql = as_driver_sql(stmt, connection.dialect)
    if sql is None:
        result = await connection.stream(stmt.execution_options(yield_per=PARTITION))
        async for partition in result.partitions(PARTITION):
            yield partition
        return
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":  # asyncpg: a server-side cursor
        cursor = await driver.cursor(sql)
        async with contextlib.aclosing(_fetched_ahead(cursor.fetch)) as partitions:
            async for partition in partitions:
                yield partition
        return
    cursor = await driver.execute(sql)  # aiosqlite: fetched in its connection's thread
    try:
        # closed here, not whenever it is collected: the fetch still under way must have
        # answered before the cursor closes and the transaction ends
        async with contextlib.aclosing(_fetched_ahead(cursor.fetchmany)) as partitions:
            async for partition in partitions:
                yield partition
    finally:
        await cursor.close()


async def _fetched_ahead(fetch: Callable[[int], Awaitable[Any]]) -> AsyncGenerator[Any, None]:
    """`fetch(PARTITION)` until it comes back empty, the next partition asked for before
    this one is handed on, so the database (or the driver's thread) works on it while
    this one is converted and written.

    A task only starts at the loop's next turn, and the writer may not give it one
    before it converts the partition (awaiting a finished write does not), so the
    request is sent here first, by letting the loop run once.
    """
    ahead = asyncio.ensure_future(fetch(PARTITION))
    try:
        while partition := await ahead:
            ahead = asyncio.ensure_future(fetch(PARTITION))
            await asyncio.sleep(0)  # the next request goes out now
            yield partition
    finally:
        if not ahead.done():  # the connection is free again only once it has answered
            await asyncio.wait([ahead])
        if not ahead.cancelled():
            ahead.exception()  # retrieved: an error here is not the one to report


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

    Core rows (no ORM entities) in partitions; each partition's JSON is compressed into
    the archive and its CSV lines into the spool in a thread, while the next partition
    is fetched and converted.
    """
    connection = await session.connection()
    stmt, known = streamable(section.query(account_id), connection.dialect.name)
    columns = list(stmt.selected_columns.keys())
    converter = Rows(columns, known)
    rows = 0
    header = io.StringIO()
    csv.writer(header).writerow(columns)
    with DeflatedSpool(spool) as csv_spool:
        csv_spool.write(header.getvalue().encode())
        with archive.open(f"{section.name}.json", "w", force_zip64=True) as member:
            speed_up(member)
            writing: asyncio.Task[None] | None = None
            try:
                writing = asyncio.ensure_future(_off_loop(member.write, b"["))
                async with contextlib.aclosing(_partitions(connection, stmt)) as partitions:
                    async for partition in partitions:
                        if not partition:
                            continue
                        text, lines = converter.convert(partition, (",\n" if rows else "\n"))
                        await writing
                        writing = asyncio.ensure_future(
                            _off_loop(_write_both, member, text.encode(), csv_spool, lines.encode())
                        )
                        rows += len(partition)
                await writing
                member.write(b"\n]\n")
            finally:
                if writing is not None and not writing.done():
                    await asyncio.wait([writing])
        await _off_loop(csv_spool.add_to, archive, f"{section.name}.csv")
    return rows


def _write_both(member: IO[bytes], as_json: bytes, csv_spool: DeflatedSpool, as_csv: bytes) -> None:
    member.write(as_json)
    csv_spool.write(as_csv)


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
