"""The console's pages, rendered from the Jinja2 templates in `bot/web/templates/agent/`.

Called inside `locales.use(language)`: the templates translate through the catalog and
format dates with Babel. Values from the database reach the templates as plain values,
and autoescape makes them text. This module only prepares what the templates show
(which rows are overdue, how many days are left); the wording and markup live in the
templates. The pages need no JavaScript: forms post, the server answers with a redirect
(or the same page with an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import agent_labels
from bot.web.agent.queries import Detail, FailedAlert, is_overdue
from bot.web.templating import render_page
from locales import _
from workflow import deadlines, lifecycle
from workflow.agent_view import RequestView

BASE = "/agent"
REASON_MAX = 1000
SOON_DAYS = 7


@dataclass(frozen=True, slots=True)
class Context:
    """Who is looking, in which language, and the token their forms must carry."""

    agent: str
    language: str
    csrf: str
    path: str
    failed: int = 0


@dataclass(slots=True)
class FormState:
    """What the agent typed into a decision form that was refused, to show it again."""

    error: str | None = None
    form: str | None = None  # approve | reject | extend
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimeLeft:
    """A request's deadline as the pages show it: closed, overdue (by `late` days) or not."""

    closed: bool
    overdue: bool
    days: int
    late: int
    soon: bool


@dataclass(frozen=True, slots=True)
class Row:
    request: RequestView
    left: TimeLeft


def time_left(request: RequestView, now: datetime) -> TimeLeft:
    left = deadlines.days_left(request.due_at, now)
    return TimeLeft(
        closed=request.status in lifecycle.CLOSED,
        overdue=is_overdue(request, now),
        days=left,
        late=max(-left, 0),
        soon=left <= SOON_DAYS,
    )


def request_path(reference: str) -> str:
    return f"{BASE}/requests/{reference}"


def render_console(request: web.Request, name: str, ctx: Context, title: str, **values: Any) -> str:
    """A signed-in console page: `ctx` gives the header its agent, language and CSRF token."""
    return render_page(
        request, name, {"ctx": ctx, "language": ctx.language, "title": title, **values}
    )


def login_page(
    request: web.Request,
    language: str,
    *,
    token: str,
    next_url: str,
    name: str = "",
    error: str | None = None,
    chosen_language: str | None = None,
) -> str:
    """The sign-in form; `token` is the double-submit token also set as a cookie."""
    return render_page(
        request,
        "agent/login.html",
        {
            "language": language,
            "title": _("Sign in"),
            "token": token,
            "next_url": next_url,
            "name": name,
            "error": error,
            "chosen_language": chosen_language,
        },
    )


def list_page(
    request: web.Request,
    ctx: Context,
    requests: Sequence[RequestView],
    wanted: str,
    now: datetime,
) -> str:
    rows = [Row(r, time_left(r, now)) for r in requests]
    overdue = sum(1 for row in rows if row.left.overdue)
    return render_console(
        request,
        "agent/list.html",
        ctx,
        _("Privacy requests"),
        current="requests",
        rows=rows,
        overdue=overdue,
        wanted=wanted,
    )


def detail_page(
    request: web.Request,
    ctx: Context,
    detail: Detail,
    now: datetime,
    *,
    flash: str | None = None,
    state: FormState | None = None,
) -> str:
    found = detail.request
    title = _("{kind} request {reference}").format(
        kind=agent_labels.kind(found.kind), reference=found.reference
    )
    can_extend = (
        found.status in lifecycle.OPEN
        and found.extension_months < deadlines.MAX_EXTENSION_MONTHS
        and now < deadlines.due_date(found.received_at)
    )
    return render_console(
        request,
        "agent/detail.html",
        ctx,
        title,
        current="requests",
        detail=detail,
        left=time_left(found, now),
        flash=flash,
        state=state or FormState(),
        mine=any(a.approver == ctx.agent and a.decision == "approve" for a in detail.approvals),
        can_extend=can_extend,
        months_left=deadlines.MAX_EXTENSION_MONTHS - found.extension_months,
        reason_max=REASON_MAX,
    )


def alerts_page(request: web.Request, ctx: Context, alerts: Sequence[FailedAlert]) -> str:
    return render_console(
        request, "agent/alerts.html", ctx, _("Failed requests"), current="alerts", alerts=alerts
    )


def error_page(
    request: web.Request, language: str, status: int, message: str, *, sign_in: bool = False
) -> str:
    return render_page(
        request,
        "agent/error.html",
        {
            "language": language,
            "title": _("Error {status}").format(status=status),
            "message": message,
            "sign_in": sign_in,
        },
    )
