"""The console's pages as HTML, in the agent's language.

Called inside `locales.use(language)`: every word goes through gettext, every date
through Babel. Values from the database are plain `str` children of `el`, so they are
escaped. The pages need no JavaScript: forms post, the server answers with a redirect
(or the same page with an error), and work with a keyboard and a screen reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import locales
from bot import agent_labels as labels
from bot.web.agent.html import Child, Markup, document, el, fragment
from bot.web.agent.queries import Detail, FailedAlert, is_overdue
from locales import _, ngettext
from storage.privacy_models import PrivacyRequest
from workflow import deadlines, lifecycle

BASE = "/agent"
CSS = f"{BASE}/static/console.css"
LOGO = "/static/logo.svg"
REASON_MAX = 1000


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


def request_path(reference: str) -> str:
    return f"{BASE}/requests/{reference}"


# ---------------------------------------------------------------- shared pieces


def _head(title: str) -> list[Child]:
    return [
        el("meta", {"charset": "utf-8"}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("meta", {"name": "referrer", "content": "no-referrer"}),
        el("meta", {"name": "robots", "content": "noindex, nofollow"}),
        el("title", None, title, " · ", _("Privacy console")),
        el("link", {"rel": "icon", "href": LOGO, "type": "image/svg+xml"}),
        el("link", {"rel": "stylesheet", "href": CSS}),
    ]


def _brand() -> Markup:
    return el(
        "p",
        {"class": "brand"},
        el("img", {"src": LOGO, "alt": "", "width": 28, "height": 28}),
        el("span", None, "GatewayAPI"),
        el("span", {"class": "brand__product"}, _("Privacy console")),
    )


def _hidden(name: str, value: str) -> Markup:
    return el("input", {"type": "hidden", "name": name, "value": value})


def _language_form(ctx: Context) -> Markup:
    buttons = [
        el(
            "button",
            {
                "type": "submit",
                "name": "language",
                "value": code,
                "lang": code,
                "class": "lang__button",
                "aria-pressed": "true" if code == ctx.language else "false",
            },
            name,
        )
        for code, name in labels.LANGUAGES.items()
    ]
    return el(
        "form",
        {"method": "post", "action": f"{BASE}/language", "class": "lang"},
        _hidden("csrf", ctx.csrf),
        _hidden("next", ctx.path),
        el("span", {"class": "visually-hidden"}, _("Language")),
        *buttons,
    )


def _header(ctx: Context, current: str) -> Markup:
    def link(href: str, key: str, *children: Child) -> Markup:
        attrs: dict[str, str | None] = {"href": href, "class": "nav__link"}
        attrs["aria-current"] = "page" if key == current else None
        return el("li", None, el("a", attrs, *children))

    alerts_label: list[Child] = [_("Failed requests")]
    if ctx.failed:
        alerts_label.append(
            el(
                "span",
                {"class": "count"},
                el("span", {"class": "visually-hidden"}, ": "),
                str(ctx.failed),
            )
        )
    return el(
        "header",
        {"class": "top"},
        el(
            "div",
            {"class": "top__inner"},
            _brand(),
            el(
                "nav",
                {"aria-label": _("Console")},
                el(
                    "ul",
                    {"class": "nav"},
                    link(f"{BASE}/", "requests", _("Requests")),
                    link(f"{BASE}/referrals", "referrals", _("Referrals")),
                    link(f"{BASE}/alerts", "alerts", *alerts_label),
                ),
            ),
            el(
                "div",
                {"class": "top__user"},
                el(
                    "p",
                    {"class": "whoami"},
                    _("Signed in as {name}").format(name=ctx.agent),
                ),
                _language_form(ctx),
                el(
                    "form",
                    {"method": "post", "action": f"{BASE}/logout"},
                    _hidden("csrf", ctx.csrf),
                    el(
                        "button",
                        {"type": "submit", "class": "button button--quiet"},
                        _("Sign out"),
                    ),
                ),
            ),
        ),
    )


def _page(ctx: Context, title: str, current: str, *content: Child) -> str:
    body = [
        el("a", {"class": "skip", "href": "#main"}, _("Skip to content")),
        _header(ctx, current),
        el("main", {"id": "main", "class": "main", "tabindex": "-1"}, *content),
    ]
    return document(ctx.language, _head(title), body)


def _notice(text: str | None, kind: str) -> Markup | None:
    if not text:
        return None
    role = "alert" if kind == "error" else "status"
    return el(
        "div",
        {"class": f"notice notice--{kind}", "role": role, "data-testid": f"notice-{kind}"},
        el("p", None, text),
    )


def _date(value: datetime | None) -> str:
    return locales.format_date(value, "medium") if value else "—"


def _datetime(value: datetime | None) -> Markup | str:
    if value is None:
        return "—"
    return el(
        "time",
        {"datetime": value.isoformat(timespec="seconds")},
        locales.format_datetime(value, "short"),
    )


def _days(request: PrivacyRequest, now: datetime) -> Markup:
    """Days left, or an unmistakable 'overdue' badge (text, not only colour)."""
    if request.status in lifecycle.CLOSED:
        return el("span", {"class": "muted"}, "—")
    left = deadlines.days_left(request.due_at, now)
    if is_overdue(request, now):
        late = max(-left, 0)
        text = (
            ngettext("Overdue by {n} day", "Overdue by {n} days", late).format(n=late)
            if late
            else _("Overdue today")
        )
        return el("strong", {"class": "badge badge--overdue", "data-testid": "overdue"}, text)
    text = ngettext("{n} day left", "{n} days left", left).format(n=left)
    return el("span", {"class": "badge badge--soon" if left <= 7 else "badge"}, text)


def _status(value: str) -> Markup:
    return el("span", {"class": f"status status--{value}"}, labels.status(value))


def _table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[Child]], *, hidden: bool = False
) -> Markup:
    return el(
        "div",
        {"class": "table-wrap"},
        el(
            "table",
            None,
            el("caption", {"class": "visually-hidden"} if hidden else None, caption),
            el(
                "thead",
                None,
                el("tr", None, *(el("th", {"scope": "col"}, h) for h in headers)),
            ),
            el("tbody", None, *(el("tr", None, *(el("td", None, c) for c in row)) for row in rows)),
        ),
    )


# ---------------------------------------------------------------- sign-in


def login_page(
    language: str,
    *,
    token: str,
    next_url: str,
    name: str = "",
    error: str | None = None,
    chosen_language: str | None = None,
) -> str:
    """The sign-in form; `token` is the double-submit token also set as a cookie."""
    described = {"aria-describedby": "login-error", "aria-invalid": "true"} if error else {}
    switch = [
        el(
            "a",
            {
                "href": f"{BASE}/login?" + urlencode({"lang": code, "next": next_url}),
                "lang": code,
                "aria-current": "true" if code == language else None,
                "class": "lang__link",
            },
            label,
        )
        for code, label in labels.LANGUAGES.items()
    ]
    form = el(
        "form",
        {"method": "post", "action": f"{BASE}/login", "class": "card login__form"},
        _hidden("login_token", token),
        _hidden("next", next_url),
        _hidden("lang", chosen_language or ""),
        el(
            "div",
            {"class": "field"},
            el("label", {"for": "name"}, _("Name")),
            el(
                "input",
                {
                    "id": "name",
                    "name": "name",
                    "type": "text",
                    "value": name,
                    "autocomplete": "username",
                    "autocapitalize": "none",
                    "spellcheck": "false",
                    "required": True,
                    "maxlength": 64,
                    "autofocus": True,
                    **described,
                },
            ),
        ),
        el(
            "div",
            {"class": "field"},
            el("label", {"for": "password"}, _("Password")),
            el(
                "input",
                {
                    "id": "password",
                    "name": "password",
                    "type": "password",
                    "autocomplete": "current-password",
                    "required": True,
                    "maxlength": 1024,
                    **described,
                },
            ),
        ),
        el("button", {"type": "submit", "class": "button button--primary"}, _("Sign in")),
    )
    error_box = (
        el(
            "div",
            {"class": "notice notice--error", "role": "alert", "id": "login-error"},
            el("p", None, error),
        )
        if error
        else None
    )
    body = [
        el(
            "main",
            {"id": "main", "class": "login"},
            _brand(),
            el("h1", None, _("Sign in to the privacy console")),
            el("p", {"class": "muted"}, _("For GatewayAPI's privacy team only.")),
            error_box,
            form,
            el(
                "nav",
                {"class": "lang lang--links", "aria-label": _("Language")},
                *switch,
            ),
        )
    ]
    return document(language, _head(_("Sign in")), body)


# ---------------------------------------------------------------- request list


def _filter_links(wanted: str) -> Markup:
    choices: list[tuple[str, str]] = [
        ("open", _("Open")),
        ("awaiting_approval", labels.status("awaiting_approval")),
        ("failed", labels.status("failed")),
        ("completed", labels.status("completed")),
        ("all", _("All")),
    ]
    items = [
        el(
            "li",
            None,
            el(
                "a",
                {
                    "href": f"{BASE}/?" + urlencode({"status": key}),
                    "class": "filter__link",
                    "aria-current": "page" if key == wanted else None,
                },
                label,
            ),
        )
        for key, label in choices
    ]
    return el("nav", {"aria-label": _("Show requests")}, el("ul", {"class": "filter"}, *items))


def list_page(ctx: Context, requests: Sequence[PrivacyRequest], wanted: str, now: datetime) -> str:
    overdue = sum(1 for r in requests if is_overdue(r, now))
    shown = ngettext("{n} request", "{n} requests", len(requests)).format(n=len(requests))
    summary: list[Child] = [shown]
    if overdue:
        summary += [
            " · ",
            el(
                "strong",
                {"class": "text-overdue"},
                ngettext("{n} overdue", "{n} overdue", overdue).format(n=overdue),
            ),
        ]
    rows = []
    for request in requests:
        late = is_overdue(request, now)
        rows.append(
            el(
                "tr",
                {
                    "class": "row--overdue" if late else None,
                    "data-testid": "request-row",
                    "data-reference": request.reference,
                },
                el(
                    "th",
                    {"scope": "row"},
                    el("a", {"href": request_path(request.reference)}, request.reference),
                ),
                el("td", None, labels.kind(request.kind)),
                el("td", None, _status(request.status)),
                el("td", None, _date(request.received_at)),
                el("td", None, _date(request.due_at)),
                el("td", None, _days(request, now)),
            )
        )
    headers = [_("Request"), _("Type"), _("Status"), _("Received"), _("Due"), _("Time left")]
    table = (
        el(
            "div",
            {"class": "table-wrap"},
            el(
                "table",
                {"class": "requests"},
                el("caption", {"class": "visually-hidden"}, _("Requests by due date")),
                el(
                    "thead",
                    None,
                    el("tr", None, *(el("th", {"scope": "col"}, h) for h in headers)),
                ),
                el("tbody", None, *rows),
            ),
        )
        if rows
        else el("p", {"class": "empty"}, _("No requests to show."))
    )
    content = [
        el("h1", None, _("Privacy requests")),
        el("p", {"class": "summary"}, *summary),
        _filter_links(wanted),
        table,
    ]
    return _page(ctx, _("Privacy requests"), "requests", *content)


# ---------------------------------------------------------------- one request


def _details_value(value: Any) -> str:
    if value is None:
        return _("hidden")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _facts(detail: Detail, now: datetime) -> Markup:
    request = detail.request
    status: list[Child] = [_status(request.status)]
    if request.status == "awaiting_approval" and detail.needed > 1:
        status.append(
            el(
                "span",
                {"class": "muted"},
                " ",
                _("({given} of {needed} approvals)").format(
                    given=detail.given, needed=detail.needed
                ),
            )
        )
    account: list[Child] = [
        _("Account {number}").format(number=request.account_id),
        " · ",
        detail.company or _("(no company name)"),
    ]
    if detail.account_status == "closed":
        account += [" · ", _("closed")]
    if detail.restricted:
        account += [" · ", _("processing restricted")]
    pairs: list[tuple[str, Child]] = [
        (_("Status"), fragment(*status)),
        (_("Type"), labels.kind(request.kind)),
        (_("Account"), fragment(*account)),
        (_("Verified by"), labels.verified_via(request.verified_via)),
        (_("Channel"), labels.channel(request.channel)),
        (_("Customer's language"), labels.language(request.language)),
        (_("Received"), _datetime(request.received_at)),
        (_("Due"), fragment(_date(request.due_at), " ", _days(request, now))),
    ]
    if request.extended:
        pairs.append(
            (
                _("Extended"),
                fragment(
                    ngettext("by {n} month", "by {n} months", request.extension_months).format(
                        n=request.extension_months
                    ),
                    ": ",
                    request.extension_reason or "",
                ),
            )
        )
    if request.decided_by:
        pairs.append((_("Decided by"), request.decided_by))
    if request.decision_reason:
        pairs.append((_("Reason given"), request.decision_reason))
    if request.failure_reason:
        pairs.append((_("Failure"), request.failure_reason))
    shown = detail.shown_details()
    if shown:
        pairs.append(
            (
                _("Parameters"),
                el(
                    "ul",
                    {"class": "plain"},
                    *(el("li", None, key, ": ", _details_value(value)) for key, value in shown),
                ),
            )
        )
    return el(
        "dl",
        {"class": "facts"},
        *(
            el("div", {"class": "facts__row"}, el("dt", None, k), el("dd", None, v))
            for k, v in pairs
        ),
    )


def _reason_field(
    form: str, label: str, hint: str, state: FormState, *, required: bool = True
) -> Markup:
    field_id = f"{form}-reason"
    invalid = state.form == form and state.error is not None
    return el(
        "div",
        {"class": "field"},
        el("label", {"for": field_id}, label),
        el("p", {"class": "hint", "id": f"{field_id}-hint"}, hint),
        el(
            "textarea",
            {
                "id": field_id,
                "name": "reason",
                "rows": 3,
                "maxlength": REASON_MAX,
                "required": required,
                "aria-describedby": f"{field_id}-hint" + (" decision-error" if invalid else ""),
                "aria-invalid": "true" if invalid else None,
            },
            state.values.get("reason", "") if state.form == form else "",
        ),
    )


def _decision_forms(ctx: Context, detail: Detail, now: datetime, state: FormState) -> Markup:
    request = detail.request
    action = request_path(request.reference)
    parts: list[Child] = []
    mine = any(a.approver == ctx.agent and a.decision == "approve" for a in detail.approvals)
    if request.status == "awaiting_approval":
        if mine:
            parts.append(
                el(
                    "p",
                    {"class": "notice notice--info"},
                    _(
                        "You have approved this request. "
                        "A different agent must give the next approval."
                    ),
                )
            )
        else:
            confirm: list[Child] = []
            if request.kind == "erasure":
                confirm.append(
                    el(
                        "div",
                        {"class": "check"},
                        el(
                            "input",
                            {
                                "type": "checkbox",
                                "id": "confirm-erasure",
                                "name": "confirm",
                                "value": "yes",
                                "required": True,
                            },
                        ),
                        el(
                            "label",
                            {"for": "confirm-erasure"},
                            _("I understand that an erasure cannot be undone."),
                        ),
                    )
                )
            parts.append(
                el(
                    "form",
                    {"method": "post", "action": f"{action}/approve", "class": "decide card"},
                    el("h3", None, _("Approve")),
                    el(
                        "p",
                        {"class": "hint"},
                        _("The work starts at once; the customer is told when it is done."),
                    ),
                    _hidden("csrf", ctx.csrf),
                    *confirm,
                    el(
                        "button",
                        {
                            "type": "submit",
                            "class": "button button--primary",
                            "data-testid": "approve",
                        },
                        _("Approve request"),
                    ),
                )
            )
        parts.append(
            el(
                "form",
                {"method": "post", "action": f"{action}/reject", "class": "decide card"},
                el("h3", None, _("Reject")),
                _hidden("csrf", ctx.csrf),
                _reason_field(
                    "reject",
                    _("Reason for rejecting"),
                    _("The customer receives this reason, with their right to complain."),
                    state,
                ),
                el(
                    "button",
                    {"type": "submit", "class": "button button--danger", "data-testid": "reject"},
                    _("Reject request"),
                ),
            )
        )
    can_extend = (
        request.status in lifecycle.OPEN
        and request.extension_months < deadlines.MAX_EXTENSION_MONTHS
        and now < deadlines.due_date(request.received_at)
    )
    if can_extend:
        left = deadlines.MAX_EXTENSION_MONTHS - request.extension_months
        months = state.values.get("months", "1") if state.form == "extend" else "1"
        options = [
            el(
                "option",
                {"value": str(n), "selected": str(n) == months},
                ngettext("{n} month", "{n} months", n).format(n=n),
            )
            for n in range(1, left + 1)
        ]
        parts.append(
            el(
                "form",
                {"method": "post", "action": f"{action}/extend", "class": "decide card"},
                el("h3", None, _("Extend the deadline")),
                _hidden("csrf", ctx.csrf),
                el(
                    "div",
                    {"class": "field"},
                    el("label", {"for": "extend-months"}, _("Extend by")),
                    el("select", {"id": "extend-months", "name": "months"}, *options),
                ),
                _reason_field(
                    "extend",
                    _("Reason for the extension"),
                    _("The customer is told the reason and the new due date."),
                    state,
                ),
                el(
                    "button",
                    {"type": "submit", "class": "button", "data-testid": "extend"},
                    _("Extend deadline"),
                ),
            )
        )
    if not parts:
        return el(
            "p",
            {"class": "muted"},
            _("Nothing to decide: the request is {status}.").format(
                status=labels.status(request.status)
            ),
        )
    return el("div", {"class": "decisions"}, *parts)


def _audit_data(data: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
        for k, v in sorted(data.items())
    )


def detail_page(
    ctx: Context,
    detail: Detail,
    now: datetime,
    *,
    flash: str | None = None,
    state: FormState | None = None,
) -> str:
    state = state or FormState()
    request = detail.request
    title = _("{kind} request {reference}").format(
        kind=labels.kind(request.kind), reference=request.reference
    )
    error = (
        el(
            "div",
            {
                "class": "notice notice--error",
                "role": "alert",
                "id": "decision-error",
                "data-testid": "notice-error",
            },
            el("p", None, state.error),
        )
        if state.error
        else None
    )
    approvals = _table(
        _("Approvals"),
        [_("Agent"), _("Decision"), _("When")],
        [(a.approver, labels.decision(a.decision), _datetime(a.at)) for a in detail.approvals],
        hidden=True,
    )
    history = _table(
        _("Status history"),
        [_("When"), _("From"), _("To"), _("By"), _("Note")],
        [
            (
                _datetime(e.at),
                labels.status(e.from_status) if e.from_status else "—",
                labels.status(e.to_status),
                e.actor,
                e.reason or "",
            )
            for e in detail.events
        ],
        hidden=True,
    )
    actions = _table(
        _("Actions"),
        [_("Action"), _("Status"), _("Attempts"), _("Last error")],
        [
            (
                a.kind,
                labels.action_status(a.status),
                str(a.attempts),
                a.last_error or "",
            )
            for a in detail.actions
        ],
        hidden=True,
    )
    audit = _table(
        _("Audit trail"),
        ["#", _("When"), _("Who"), _("Event"), _("Data"), _("Hash")],
        [
            (
                str(entry.id),
                _datetime(entry.at),
                entry.actor,
                labels.audit_event(entry.event),
                el("code", None, _audit_data(entry.data or {})),
                el("code", {"class": "hash", "title": entry.hash}, entry.hash[:12]),
            )
            for entry in detail.audit
        ],
        hidden=True,
    )

    def section(key: str, heading: str, *content: Child) -> Markup:
        return el(
            "section",
            {"class": "section", "aria-labelledby": f"h-{key}"},
            el("h2", {"id": f"h-{key}"}, heading),
            *content,
        )

    content: list[Child] = [
        el(
            "p",
            {"class": "back"},
            el("a", {"href": f"{BASE}/"}, "← ", _("All requests")),
        ),
        el("h1", {"data-testid": "request-title"}, title),
        _notice(flash, "ok"),
        error,
        _facts(detail, now),
        section("decide", _("Decision"), _decision_forms(ctx, detail, now, state)),
        section(
            "approvals",
            _("Approvals"),
            approvals if detail.approvals else el("p", {"class": "muted"}, _("None yet.")),
        ),
        section("history", _("Status history"), history),
        section(
            "actions",
            _("Actions"),
            actions if detail.actions else el("p", {"class": "muted"}, _("None yet.")),
        ),
        section(
            "audit",
            _("Audit trail"),
            el(
                "p",
                {"class": "hint"},
                _(
                    "Entries are hash-chained: each one's hash covers the previous one, "
                    "so a changed or removed entry is detected."
                ),
            ),
            audit,
        ),
    ]
    return _page(ctx, title, "requests", *content)


# ---------------------------------------------------------------- failed requests


def alerts_page(ctx: Context, alerts: Sequence[FailedAlert]) -> str:
    rows = [
        (
            _datetime(item.alert.created_at),
            el("a", {"href": request_path(item.reference)}, item.reference)
            if item.reference
            else "—",
            labels.kind(item.kind or ""),
            _status(item.status) if item.status else "—",
            str((item.alert.params or {}).get("error") or ""),
        )
        for item in alerts
    ]
    content: list[Child] = [
        el("h1", None, _("Failed requests")),
        el(
            "p",
            {"class": "summary"},
            _(
                "The worker could not carry these requests out, even after retrying. "
                "The customer has been told; follow up with them and fix the cause."
            ),
        ),
        _table(
            _("Failed-request alerts, newest first"),
            [_("When"), _("Request"), _("Type"), _("Status now"), _("Error")],
            rows,
            hidden=True,
        )
        if rows
        else el("p", {"class": "empty"}, _("No failed requests.")),
    ]
    return _page(ctx, _("Failed requests"), "alerts", *content)


# ---------------------------------------------------------------- errors


def error_page(language: str, status: int, message: str, *, sign_in: bool = False) -> str:
    links: list[Child] = [el("a", {"href": f"{BASE}/"}, _("Back to the requests"))]
    if sign_in:
        links = [el("a", {"href": f"{BASE}/login"}, _("Sign in"))]
    body = [
        el(
            "main",
            {"id": "main", "class": "login"},
            _brand(),
            el("h1", None, _("Error {status}").format(status=status)),
            el("p", {"data-testid": "error-message"}, message),
            el("p", None, *links),
        )
    ]
    return document(language, _head(_("Error {status}").format(status=status)), body)
