"""`privacybot report` in four formats: HTML (self-contained), PDF, JSON and CSV.

One `Report` (figures, sections, extra table sections such as the Art. 30 record) is
built in the reader's language; `bot.report.formats` writes it in the format asked
for. The HTML and the console's overview page use the same section and chart templates.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

import locales
from bot.report import art30, charts
from bot.report.sections import Headline, Section, headlines, period_text, sections
from bot.web.templating import render
from locales import _
from workflow.accountability.figures import Figures

SectionSource = Callable[[], Section]


def record_of_processing() -> Section:
    return Section.table_only(
        "art30",
        _("Record of processing activities (Art. 30)"),
        _(
            "The categories of personal data, why and how long we hold them, and how each "
            "is erased."
        ),
        art30.columns(),
        art30.rows(),
    )


# Table sections after the figures; a new one is a function returning a Section.
EXTRA_SECTIONS: tuple[SectionSource, ...] = (record_of_processing,)


@dataclass(frozen=True, slots=True)
class Report:
    figures: Figures
    language: str
    generated: datetime
    headlines: Sequence[Headline]
    sections: Sequence[Section]

    @property
    def title(self) -> str:
        return _("Privacy requests: accountability report")


def build(figures: Figures, language: str, generated: datetime) -> Report:
    """The report's content in `language` (the caller writes it with `write`)."""
    with locales.use(language):
        return Report(
            figures,
            language,
            generated,
            headlines(figures),
            [*sections(figures), *(source() for source in EXTRA_SECTIONS)],
        )


def html(report: Report) -> str:
    with locales.use(report.language):
        shown = [
            (s, Markup(charts.svg(s.chart)) if s.chart else None)  # noqa: S704 - template output
            for s in report.sections
        ]
        return render(
            "report/report.html",
            report=report,
            sections=shown,
            language=report.language,
            open_tables=True,
            period_text=period_text(report.figures.period),
        )


def as_json(report: Report) -> str:
    period = report.figures.period
    data: dict[str, Any] = {
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "generated": report.generated.isoformat(timespec="seconds"),
        "language": report.language,
        "summary": report.figures.summary(),
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "columns": list(s.table.columns),
                "rows": [list(r) for r in s.table.rows],
            }
            for s in report.sections
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def as_csv(report: Report) -> str:
    """Long format: section, row number, column, value (one table under another)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "row", "column", "value"])
    for key, value in report.figures.summary().items():
        writer.writerow(["summary", 1, key, "" if value is None else value])
    for s in report.sections:
        for number, row in enumerate(s.table.rows, start=1):
            for column, value in zip(s.table.columns, row, strict=False):
                writer.writerow([s.key, number, column, value])
    return out.getvalue()
