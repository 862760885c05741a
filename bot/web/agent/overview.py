"""`/agent/overview`: the DPO's dashboard, the same figures as `privacybot report`.

The period comes from `?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last twelve months);
bad dates get the default period and a message saying why. Charts are inline SVG drawn
on the server (no script, no external asset), each followed by the table of its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from aiohttp import web
from markupsafe import Markup

from bot.report import charts
from bot.report.sections import headlines, period_text, sections
from bot.web.agent.pages import Context
from bot.web.templating import render_page
from locales import _
from workflow.accountability.figures import Figures
from workflow.accountability.period import Period, PeriodError


def period_from(query: Mapping[str, str], today: date) -> tuple[Period, str | None]:
    """The period asked for, or the default one and why the request was refused."""
    try:
        first = date.fromisoformat(query["from"]) if query.get("from") else None
        last = date.fromisoformat(query["to"]) if query.get("to") else None
        return Period.between(first, last, today), None
    except ValueError as exc:
        reason = (
            _("it must start before it ends and last at most three years")
            if isinstance(exc, PeriodError)
            else _("the dates must be YYYY-MM-DD")
        )
        message = _("That period cannot be shown ({reason}); showing the last 12 months.")
        return Period.default(today), message.format(reason=reason)


def page(request: web.Request, ctx: Context, figures: Figures, error: str | None) -> str:
    shown = [
        (section, Markup(charts.svg(section.chart)) if section.chart else None)  # noqa: S704 - our own escaped template output
        for section in sections(figures)
    ]
    return render_page(
        request,
        "agent/overview.html",
        {
            "ctx": ctx,
            "language": ctx.language,
            "title": _("Overview"),
            "current": "overview",
            "figures": figures,
            "period": figures.period,
            "headlines": headlines(figures),
            "sections": shown,
            "error": error,
            "open_tables": False,
            "period_text": period_text(figures.period),
        },
    )
