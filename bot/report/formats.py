"""A built report written in the format asked for: HTML, PDF, JSON or CSV.

Apart from `document`, so that the PDF writer (which reads a `Report`) is a leaf, and
fpdf is imported only when a PDF is asked for.
"""

from __future__ import annotations

from bot.report.document import Report, as_csv, as_json, html


def write(report: Report, fmt: str) -> bytes:
    if fmt == "pdf":
        from bot.report.pdf import pdf

        return pdf(report)
    text = {"html": html, "json": as_json, "csv": as_csv}[fmt](report)
    return text.encode()
