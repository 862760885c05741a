"""The console's referral pages: the list and one referral, in the agent's language.

Built from the console's own pieces (`pages`), so they look and behave like the request
pages: escaped by construction, no JavaScript, forms that post and redirect. Numbers are
masked; the recipient's words are never shown (only whether they gave any).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from bot import agent_labels as labels
from bot.web.agent.html import Child, Markup, el, fragment
from bot.web.agent.pages import (
    BASE,
    REASON_MAX,
    Context,
    _audit_data,
    _date,
    _datetime,
    _hidden,
    _notice,
    _page,
    _table,
)
from locales import _, ngettext
from storage.referral_models import ReferralStatus
from workflow.referral_lifecycle import ALLOWED
from workflow.referral_queries import AgentReferral, ReferralDetail

LIST_PATH = f"{BASE}/referrals"
NOTE_MAX = REASON_MAX
FILTERS = ("open", "forwarded", "acknowledged", "closed", "account_gone", "all")


def referral_path(reference: str) -> str:
    return f"{LIST_PATH}/{reference}"


def _status(value: str) -> Markup:
    return el("span", {"class": f"status status--{value}"}, labels.referral_status(value))


def _filter_links(wanted: str) -> Markup:
    names = {"open": _("Open"), "all": _("All")}
    items = [
        el(
            "li",
            None,
            el(
                "a",
                {
                    "href": f"{LIST_PATH}?" + urlencode({"status": key}),
                    "class": "filter__link",
                    "aria-current": "page" if key == wanted else None,
                },
                names.get(key) or labels.referral_status(key),
            ),
        )
        for key in FILTERS
    ]
    return el("nav", {"aria-label": _("Show referrals")}, el("ul", {"class": "filter"}, *items))


def list_page(ctx: Context, rows: Sequence[AgentReferral], wanted: str) -> str:
    body = [
        el(
            "tr",
            {"data-testid": "referral-row", "data-reference": row.reference},
            el(
                "th",
                {"scope": "row"},
                el("a", {"href": referral_path(row.reference)}, row.reference),
            ),
            el("td", None, labels.referral_kind(row.kind)),
            el("td", None, _status(row.status)),
            el("td", None, _("Account {number}").format(number=row.account_id)),
            el("td", None, el("span", {"class": "number"}, row.number)),
            el("td", None, ", ".join(row.sender_names) or "—"),
            el("td", None, _date(row.created_at)),
        )
        for row in rows
    ]
    headers = [_("Referral"), _("Type"), _("Status"), _("Account"), _("Number"), _("Senders")]
    headers.append(_("Opened"))
    table = (
        el(
            "div",
            {"class": "table-wrap"},
            el(
                "table",
                {"class": "requests"},
                el("caption", {"class": "visually-hidden"}, _("Referrals, oldest first")),
                el(
                    "thead", None, el("tr", None, *(el("th", {"scope": "col"}, h) for h in headers))
                ),
                el("tbody", None, *body),
            ),
        )
        if body
        else el("p", {"class": "empty"}, _("No referrals to show."))
    )
    content: list[Child] = [
        el("h1", None, _("Referrals")),
        el(
            "p",
            {"class": "summary"},
            _(
                "Requests from people who received SMS messages our customers sent. We are the "
                "processor: each request is forwarded to the account that sent the messages."
            ),
            " ",
            ngettext("{n} referral", "{n} referrals", len(rows)).format(n=len(rows)),
        ),
        _filter_links(wanted),
        table,
    ]
    return _page(ctx, _("Referrals"), "referrals", *content)


def _facts(found: ReferralDetail) -> Markup:
    row = found.referral
    account: list[Child] = [
        _("Account {number}").format(number=row.account_id),
        " · ",
        row.company or _("(no company name)"),
    ]
    if row.account_status == "closed":
        account += [" · ", _("closed")]
    words = {
        None: _("erased when the referral ended"),
        True: _("given; sent to the account only"),
        False: _("none"),
    }[row.details_given]
    pairs: list[tuple[str, Child]] = [
        (_("Status"), _status(row.status)),
        (_("Type"), labels.referral_kind(row.kind)),
        (_("Account"), fragment(*account)),
        (_("Recipient's number"), el("span", {"class": "number"}, row.number)),
        (_("Sender names"), ", ".join(row.sender_names) or "—"),
        (_("Recipient's own words"), words),
        (_("Channel"), labels.channel(row.channel)),
        (_("Recipient's language"), labels.language(row.language)),
        (_("Opened"), _datetime(row.created_at)),
        (_("Forwarded"), _datetime(row.forwarded_at)),
    ]
    if row.acknowledged_at:
        pairs.append(
            (
                _("Acknowledged"),
                fragment(_datetime(row.acknowledged_at), " · ", row.acknowledged_by or ""),
            )
        )
    if row.closed_at:
        pairs.append((_("Ended"), fragment(_datetime(row.closed_at), " · ", row.closed_by or "")))
    if found.suppressed:
        pairs.append((_("Stop"), _("Messages from the account to this number are stopped.")))
    return el(
        "dl",
        {"class": "facts"},
        *(
            el("div", {"class": "facts__row"}, el("dt", None, k), el("dd", None, v))
            for k, v in pairs
        ),
    )


def _note_field(form: str, hint: str) -> Markup:
    field_id = f"{form}-note"
    return el(
        "div",
        {"class": "field"},
        el("label", {"for": field_id}, _("Note (optional)")),
        el("p", {"class": "hint", "id": f"{field_id}-hint"}, hint),
        el(
            "textarea",
            {
                "id": field_id,
                "name": "note",
                "rows": 2,
                "maxlength": NOTE_MAX,
                "aria-describedby": f"{field_id}-hint",
            },
        ),
    )


def _forms(ctx: Context, row: AgentReferral) -> Markup:
    action = referral_path(row.reference)
    allowed = ALLOWED[ReferralStatus(row.status)]
    parts: list[Child] = []
    hint = _("For the history; agents read it. No personal data, please.")
    if ReferralStatus.ACKNOWLEDGED in allowed:
        parts.append(
            el(
                "form",
                {"method": "post", "action": f"{action}/ack", "class": "decide card"},
                el("h3", None, _("Record acknowledgement")),
                el(
                    "p",
                    {"class": "hint"},
                    _("The account confirmed receipt, e.g. by replying to our email."),
                ),
                _hidden("csrf", ctx.csrf),
                _note_field("ack", hint),
                el(
                    "button",
                    {"type": "submit", "class": "button button--primary", "data-testid": "ack"},
                    _("Acknowledged"),
                ),
            )
        )
    if ReferralStatus.CLOSED in allowed:
        parts.append(
            el(
                "form",
                {"method": "post", "action": f"{action}/close", "class": "decide card"},
                el("h3", None, _("End the referral")),
                _hidden("csrf", ctx.csrf),
                _note_field("close", hint),
                el(
                    "div",
                    {"class": "check"},
                    el(
                        "input",
                        {
                            "type": "checkbox",
                            "id": "account-gone",
                            "name": "account_gone",
                            "value": "yes",
                        },
                    ),
                    el(
                        "label",
                        {"for": "account-gone"},
                        _("The sending account is closed or cannot be reached"),
                    ),
                ),
                el(
                    "button",
                    {"type": "submit", "class": "button", "data-testid": "close"},
                    _("End referral"),
                ),
            )
        )
    if not parts:
        return el("p", {"class": "muted"}, _("Nothing to do: the referral has ended."))
    return el("div", {"class": "decisions"}, *parts)


def detail_page(
    ctx: Context, found: ReferralDetail, *, flash: str | None = None, error: str | None = None
) -> str:
    row = found.referral
    title = _("Referral {reference}").format(reference=row.reference)
    history = _table(
        _("Status history"),
        [_("When"), _("From"), _("To"), _("By"), _("Note")],
        [
            (
                _datetime(e.at),
                labels.referral_status(str(e.from_status)) if e.from_status else "—",
                labels.referral_status(str(e.to_status)),
                e.actor,
                e.note or "",
            )
            for e in found.events
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
            for entry in found.audit
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
        el("p", {"class": "back"}, el("a", {"href": LIST_PATH}, "← ", _("All referrals"))),
        el("h1", {"data-testid": "referral-title"}, title),
        _notice(flash, "ok"),
        _notice(error, "error"),
        _facts(found),
        section("decide", _("Follow-up"), _forms(ctx, row)),
        section("history", _("Status history"), history),
        section("audit", _("Audit trail"), audit),
    ]
    return _page(ctx, title, "referrals", *content)
