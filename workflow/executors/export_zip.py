"""Streaming a customer's data into a ZIP of JSON and CSV files, in constant memory.

Shared by the access (Art. 15) and portability (Art. 20) executors: each declares its
sections (one query per file) and its documents; this module streams every query in
partitions straight into the ZIP (JSON as a streamed array; CSV spooled to a temporary
file, since a ZIP has one open member at a time), writes to a temporary name and
renames it into place only when complete. A file under the final name is therefore
always whole, and a re-run after a crash reuses it instead of exporting twice.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import tempfile
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure
from workflow.exports import exports_dir, safe_reference, signed_link

if TYPE_CHECKING:
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]

PARTITION = 5000
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Section:
    """One file pair (`<name>.json`, `<name>.csv`): the rows of one query."""

    name: str
    categories: tuple[str, ...]  # data-map categories found in the file
    query: Callable[[int], AnySelect]  # account id -> the rows, columns named


Documents = Callable[[AsyncSession, dict[str, int]], Awaitable[dict[str, str]]]


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

    def __init__(self, columns: Sequence[str]) -> None:
        self._known: list[Converter | None] = [None] * len(columns)
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


async def _write_section(
    session: AsyncSession, archive: zipfile.ZipFile, section: Section, account_id: int, spool: Path
) -> int:
    """Stream one query into `<name>.json` in the archive and `<name>.csv` via a spool file."""
    stmt = section.query(account_id).execution_options(yield_per=PARTITION)
    columns = list(stmt.selected_columns.keys())
    converter = _Rows(columns)
    rows = 0
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="", dir=spool) as csv_file:
        writer = csv.writer(csv_file)
        writer.writerow(columns)
        with archive.open(f"{section.name}.json", "w", force_zip64=True) as member:
            member.write(b"[")
            result = await session.stream(stmt)
            async for partition in result.partitions(PARTITION):
                if not partition:
                    continue
                text, csv_rows = converter.convert(partition)
                writer.writerows(csv_rows)
                member.write((("," if rows else "") + "\n" + text).encode())
                rows += len(partition)
            member.write(b"\n]\n")
        csv_file.flush()
        csv_file.seek(0)
        with archive.open(f"{section.name}.csv", "w", force_zip64=True) as csv_member:
            while block := csv_file.read(1 << 18):
                csv_member.write(block.encode("utf-8"))
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


async def _build(
    ctx: ActionContext, target: Path, sections: Sequence[Section], documents: Documents
) -> dict[str, Any]:
    folder = target.parent
    for stale in folder.glob(f".{target.name}.*.tmp"):  # left by a crashed earlier attempt
        stale.unlink(missing_ok=True)
    temp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    rows: dict[str, int] = {}
    try:
        with (
            temp.open("wb") as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
        ):
            async with ctx.db.sessions() as session, session.begin():
                if ctx.db.is_postgres:  # one snapshot, so files and counts agree
                    await session.connection(
                        execution_options={"isolation_level": "REPEATABLE READ"}
                    )
                if await session.get(Account, ctx.account_id) is None:
                    raise PermanentFailure("the account no longer exists")
                for section in sections:
                    rows[section.name] = await _write_section(
                        session, archive, section, ctx.account_id, folder
                    )
                texts = await documents(session, rows)
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
    ctx: ActionContext, label: str, sections: Sequence[Section], documents: Documents
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
        manifest = await _build(ctx, target, sections, documents)
    return ExecutorResult(
        effects={
            "files": [filename],
            "members": manifest["files"],
            "rows": manifest["rows"],
            "bytes": target.stat().st_size,
        },
        notice=signed_link(ctx.secret, ctx.public_url, ctx.reference, filename, ctx.now()),
    )
