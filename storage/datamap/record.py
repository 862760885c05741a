"""The record of processing activities (GDPR Art. 30), generated from the data map.

One row per category of personal data: the tables and columns that hold it, the
purposes and their legal bases, the recipients, the retention period and how an
erasure treats it. What the record says and what the code does come from the same
declaration. `rows()` is for other code (a DPO report); `render()` gives text, HTML,
CSV or JSON.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import asdict, dataclass

from storage.datamap.model import DataMap

FORMATS = ("text", "html", "csv", "json")


@dataclass(frozen=True, slots=True)
class RecordRow:
    category: str
    role: str
    where: list[str]  # table.column
    purposes: list[str]
    legal_bases: list[str]
    recipients: list[str]
    retention: str
    erasure: list[str]  # "table.column: strategy"


def rows(data_map: DataMap) -> list[RecordRow]:
    """The Art. 30 record, one row per category, in the current language."""
    found = []
    for key in data_map.category_keys():
        columns = [c for c in data_map.personal() if c.spec.category == key]
        purposes = list(dict.fromkeys(c.spec.purpose for c in columns if c.spec.purpose))
        found.append(
            RecordRow(
                category=data_map.label(key),
                role=data_map.role_of(columns[0]).value,
                where=[f"{c.table}.{c.name}" for c in columns],
                purposes=[data_map.purpose_text(p) for p in purposes],
                legal_bases=list(dict.fromkeys(data_map.basis_text(p) for p in purposes)),
                recipients=[
                    r.name + (f" <{r.contact}>" if r.contact else "")
                    for r in data_map.recipients.values()
                    if key in r.categories
                ],
                retention=data_map.retention_text(key),
                erasure=[f"{c.table}.{c.name}: {c.erasure.value}" for c in columns],
            )
        )
    return found


_HEAD = (
    "Category",
    "Role",
    "Where",
    "Purposes",
    "Legal bases",
    "Recipients",
    "Retention",
    "Erasure",
)


def cells(row: RecordRow) -> list[str]:
    return [
        row.category,
        row.role,
        ", ".join(row.where),
        "; ".join(row.purposes),
        "; ".join(row.legal_bases),
        "; ".join(row.recipients) or "-",
        row.retention,
        ", ".join(row.erasure),
    ]


def _text(record: list[RecordRow], title: str) -> str:
    """One block per category: a table of label and value, readable in a terminal."""
    lines = [title, "=" * len(title), ""]
    width = max(len(h) for h in _HEAD)
    for row in record:
        for head, cell in zip(_HEAD, cells(row), strict=True):
            lines.append(f"{head:<{width}}  {cell}")
        lines.append("")
    return "\n".join(lines)


def _html(record: list[RecordRow], title: str) -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in _HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(row)) + "</tr>"
        for row in record
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table></body></html>\n"
    )


def render(data_map: DataMap, fmt: str = "text") -> str:
    """The record in one of FORMATS."""
    record = rows(data_map)
    title = f"Record of processing activities (GDPR Art. 30): {data_map.controller}"
    if fmt == "json":
        return json.dumps(
            {"controller": data_map.controller, "categories": [asdict(r) for r in record]},
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_HEAD)
        writer.writerows(cells(row) for row in record)
        return buffer.getvalue()
    if fmt == "html":
        return _html(record, title)
    if fmt == "text":
        return _text(record, title)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
