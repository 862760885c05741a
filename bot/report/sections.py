"""The dashboard's and the report's sections, in the current language.

Each section is a chart (optional) and the table of its numbers: the page shows both,
the PDF draws both, CSV writes the tables. Another section (the Art. 30 record) is just
a table from a function returning rows: `Section.table_only`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

import locales
from bot import agent_labels as labels
from bot.report.charts import Chart, Series
from locales import N_, _
from workflow import lifecycle
from workflow.accountability.figures import Figures
from workflow.accountability.period import Period
from workflow.accountability.requests import OPEN_BUCKETS, OPEN_LAST, percentile

KIND_COLORS = {
    "access": "#0072b2",
    "portability": "#56b4e9",
    "rectification": "#009e73",
    "erasure": "#d55e00",
    "restriction": "#e69f00",
    "objection": "#cc79a7",
    "human_review": "#6b6b6b",
}
LANGUAGE_COLORS = {"da": "#c8102e", "en": "#0072b2"}
ON_TIME, MEDIAN, P90 = "#009e73", "#0072b2", "#d55e00"
OVERDUE, OPEN_COLOR = "#b3261e", "#0b5fff"
RETENTION, FAILURES, LOCKOUTS = "#009e73", "#e69f00", "#b3261e"
OPEN_LABELS = {
    "overdue": N_("Overdue"),
    "days_0_7": N_("0–7 days"),
    "days_8_14": N_("8–14 days"),
    "days_15_30": N_("15–30 days"),
    "days_31_plus": N_("31 days or more"),
}


@dataclass(frozen=True, slots=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    description: str
    table: Table
    chart: Chart | None = None

    @classmethod
    def table_only(
        cls,
        key: str,
        title: str,
        description: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
    ) -> Section:
        return cls(key, title, description, Table(columns, [list(map(str, r)) for r in rows]))


def period_text(period: Period) -> str:
    return _("From {first} to {last}. Months and days are counted in UTC.").format(
        first=locales.format_date(period.first, "medium"),
        last=locales.format_date(period.last, "medium"),
    )


def _month(value: str) -> str:
    return _month_in(value, locales.current())


@cache
def _month_in(value: str, language: str) -> str:
    year, month = value.split("-")
    return locales.format_date(date(int(year), int(month), 1), "MMM yy")


def _n(value: float) -> str:
    return locales.format_number(value)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _day_labels(days: Sequence[str]) -> list[str]:
    """Label the first day of each month (every day when the period is short)."""
    if len(days) <= 31:
        return [str(int(d[8:])) for d in days]
    return [_month(d[:7]) if d.endswith("-01") else "" for d in days]


def by_kind(f: Figures) -> Section:
    months = f.period.months()
    kinds = [k for k in lifecycle.KINDS if any(f.by_month_kind.get((m, k)) for m in months)]
    series = [
        Series(k, labels.kind(k), KIND_COLORS[k], [f.by_month_kind.get((m, k), 0) for m in months])
        for k in kinds
    ]
    rows = [
        [_month(m)]
        + [_n(f.by_month_kind.get((m, k), 0)) for k in kinds]
        + [_n(sum(f.by_month_kind.get((m, k), 0) for k in kinds))]
        for m in months
    ]
    title = _("Requests per month, by kind")
    description = _("Requests received each month, stacked by kind; withdrawn ones not counted.")
    chart = Chart("by-kind", "stacked", title, description, [_month(m) for m in months], series)
    columns = [_("Month"), *(labels.kind(k) for k in kinds), _("Total")]
    return Section("by-kind", title, description, Table(columns, rows), chart)


def on_time(f: Figures) -> Section:
    months = f.period.months()
    by_month = {t.month: t for t in f.timeliness}
    shares = [
        _share(by_month[m].on_time, by_month[m].answered) if m in by_month else None for m in months
    ]
    title = _("Answered on time")
    description = _(
        "Of the requests received each month and answered (completed or rejected), the share "
        "answered by the due date, extensions included."
    )
    chart = Chart(
        "on-time",
        "lines",
        title,
        description,
        [_month(m) for m in months],
        [Series("on_time", _("Answered on time (%)"), ON_TIME, shares)],
        unit="%",
        y_max=100,
    )
    rows = [
        [_month(m), _n(by_month[m].answered), _n(by_month[m].on_time), f"{_n(s)} %"]
        for m, s in zip(months, shares, strict=True)
        if m in by_month and s is not None
    ]
    columns = [_("Month"), _("Answered"), _("On time"), _("Share on time")]
    return Section("on-time", title, description, Table(columns, rows), chart)


def days_to_answer(f: Figures) -> Section:
    months = f.period.months()
    by_month = {t.month: t for t in f.timeliness}
    median = [percentile(by_month[m].days, 0.5) if m in by_month else None for m in months]
    p90 = [percentile(by_month[m].days, 0.9) if m in by_month else None for m in months]
    title = _("Days to answer")
    description = _(
        "Median and 90th percentile of whole days from receipt to answer, by month of receipt."
    )
    chart = Chart(
        "days",
        "lines",
        title,
        description,
        [_month(m) for m in months],
        [
            Series("median", _("Median"), MEDIAN, median),
            Series("p90", _("90th percentile"), P90, p90),
        ],
        unit=_("days"),
    )
    rows = [
        [_month(m), _n(a), _n(b)]
        for m, a, b in zip(months, median, p90, strict=True)
        if a is not None and b is not None
    ]
    columns = [_("Month"), _("Median (days)"), _("90th percentile (days)")]
    return Section("days", title, description, Table(columns, rows), chart)


def open_now(f: Figures) -> Section:
    keys = [key for key, _upper in OPEN_BUCKETS] + [OPEN_LAST]
    counts = [f.open_now.get(k, 0) for k in keys]
    title = _("Open now, by days left")
    description = _(
        "Requests not yet answered, by days left until their due date. Overdue ones are red "
        "and come first."
    )
    chart = Chart(
        "open-now",
        "stacked",
        title,
        description,
        [_(OPEN_LABELS[k]) for k in keys],
        [Series("open", _("Open requests"), OPEN_COLOR, counts)],
        bar_colors={0: OVERDUE},
    )
    rows = [[_(OPEN_LABELS[k]), _n(n)] for k, n in zip(keys, counts, strict=True)]
    return Section(
        "open-now", title, description, Table([_("Days left"), _("Requests")], rows), chart
    )


def reasons(f: Figures, which: str) -> Section:
    found = f.extensions if which == "extension" else f.rejections
    if which == "extension":
        title = _("Extensions and their reasons")
        description = _(
            "Requests whose deadline was extended, by the reason the customer was given."
        )
    else:
        title = _("Rejections and their reasons")
        description = _("Rejected requests, by the reason the customer was given.")
    pairs = [(r or _("(no reason given)"), n) for r, n in found.top]
    if found.others:
        pairs.append((_("Other reasons"), found.others))
    color = "#e69f00" if which == "extension" else "#b3261e"
    chart = (
        Chart(
            f"{which}-reasons",
            "hbars",
            title,
            description,
            [r for r, _n in pairs],
            [Series(which, title, color, [n for _r, n in pairs])],
        )
        if pairs
        else None
    )
    rows = [[r, _n(n)] for r, n in pairs] + [[_("Total"), _n(found.total)]]
    return Section(
        f"{which}-reasons", title, description, Table([_("Reason"), _("Requests")], rows), chart
    )


def channels(f: Figures) -> Section:
    names = sorted({c for c, _l in f.by_channel_language})
    langs = sorted({lang for _c, lang in f.by_channel_language})
    series = [
        Series(
            lang,
            labels.language(lang),
            LANGUAGE_COLORS.get(lang, "#6b6b6b"),
            [f.by_channel_language.get((c, lang), 0) for c in names],
        )
        for lang in langs
    ]
    title = _("Requests by channel and language")
    description = _("Where requests came from and in which language the customer wrote.")
    chart = Chart(
        "channels", "stacked", title, description, [labels.channel(c) for c in names], series
    )
    rows = [
        [labels.channel(c)] + [_n(f.by_channel_language.get((c, lang), 0)) for lang in langs]
        for c in names
    ]
    columns = [_("Channel"), *(labels.language(lang) for lang in langs)]
    return Section("channels", title, description, Table(columns, rows), chart)


def retention(f: Figures) -> Section:
    days = f.period.days()
    title = _("Retention sweep, rows per day")
    description = _(
        "Rows the retention sweep anonymised, erased or purged each day (UTC), all categories."
    )
    chart = Chart(
        "retention",
        "stacked",
        title,
        description,
        _day_labels(days),
        [Series("rows", _("Rows"), RETENTION, [f.retention_rows.get(d, 0) for d in days])],
    )
    rows = [[d, _n(n)] for d, n in sorted(f.retention_rows.items())]
    return Section("retention", title, description, Table([_("Day (UTC)"), _("Rows")], rows), chart)


def verification(f: Figures) -> Section:
    days = f.period.days()
    title = _("Verification failures and lock-outs per day")
    description = _(
        "Wrong one-time codes typed, and codes locked after too many wrong tries, per day (UTC). "
        "Codes are deleted soon after they expire, so older days may show none."
    )
    chart = Chart(
        "verification",
        "lines",
        title,
        description,
        _day_labels(days),
        [
            Series(
                "failures",
                _("Wrong codes"),
                FAILURES,
                [f.verification_failures.get(d, 0) for d in days],
            ),
            Series("lockouts", _("Lock-outs"), LOCKOUTS, [f.lockouts.get(d, 0) for d in days]),
        ],
    )
    seen = sorted(set(f.verification_failures) | set(f.lockouts))
    rows = [[d, _n(f.verification_failures.get(d, 0)), _n(f.lockouts.get(d, 0))] for d in seen]
    columns = [_("Day (UTC)"), _("Wrong codes"), _("Lock-outs")]
    return Section("verification", title, description, Table(columns, rows), chart)


def sections(f: Figures) -> list[Section]:
    """Every figure's section, in the order the page and the report show them."""
    return [
        by_kind(f),
        on_time(f),
        days_to_answer(f),
        open_now(f),
        reasons(f, "extension"),
        reasons(f, "rejection"),
        channels(f),
        retention(f),
        verification(f),
    ]


@dataclass(frozen=True, slots=True)
class Headline:
    key: str
    label: str
    value: str
    alert: bool = False


def headlines(f: Figures) -> list[Headline]:
    """The numbers at the top: how many, how fast, what is late now."""
    s = f.summary()

    def days(value: int | None) -> str:
        return "—" if value is None else _n(value)

    share = s["on_time_share"]
    return [
        Headline("received", _("Requests received"), _n(s["received"])),
        Headline("answered", _("Answered"), _n(s["answered"])),
        Headline(
            "on-time",
            _("Answered on time"),
            "—" if share is None else f"{_n(round(share * 100, 1))} %",
        ),
        Headline("median", _("Median days to answer"), days(s["median_days"])),
        Headline("p90", _("90th percentile, days"), days(s["p90_days"])),
        Headline("open", _("Open now"), _n(s["open_now"])),
        Headline("overdue", _("Overdue now"), _n(s["overdue_now"]), alert=bool(s["overdue_now"])),
        Headline("cancelled", _("Withdrawn (not counted)"), _n(s["cancelled"])),
    ]
