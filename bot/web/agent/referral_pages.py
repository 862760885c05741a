"""The console's referral pages, rendered from `agent/referrals.html` and `agent/referral.html`.

Called inside `locales.use(language)`, like the request pages (`pages`): this module only
prepares what the templates show (which follow-up forms the lifecycle allows now); the
wording and markup live in the templates, which share the console's header, section and
audit-trail pieces. Numbers are masked; the recipient's words are never shown (only
whether they gave any).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.web.agent.pages import BASE, REASON_MAX, Context, render_console
from locales import _
from storage.referral_models import ReferralStatus
from workflow.referral_lifecycle import ALLOWED
from workflow.referral_queries import AgentReferral, ReferralDetail

LIST_PATH = f"{BASE}/referrals"
NOTE_MAX = REASON_MAX
FILTERS = ("open", "forwarded", "acknowledged", "closed", "account_gone", "all")


def referral_path(reference: str) -> str:
    return f"{LIST_PATH}/{reference}"


def list_page(
    request: web.Request, ctx: Context, rows: Sequence[AgentReferral], wanted: str
) -> str:
    return render_console(
        request,
        "agent/referrals.html",
        ctx,
        _("Referrals"),
        current="referrals",
        rows=rows,
        wanted=wanted,
        filters=FILTERS,
    )


def detail_page(
    request: web.Request,
    ctx: Context,
    found: ReferralDetail,
    *,
    flash: str | None = None,
    error: str | None = None,
) -> str:
    allowed = ALLOWED[ReferralStatus(found.referral.status)]
    return render_console(
        request,
        "agent/referral.html",
        ctx,
        _("Referral {reference}").format(reference=found.referral.reference),
        current="referrals",
        found=found,
        flash=flash,
        error=error,
        can_ack=ReferralStatus.ACKNOWLEDGED in allowed,
        can_close=ReferralStatus.CLOSED in allowed,
        note_max=NOTE_MAX,
    )
