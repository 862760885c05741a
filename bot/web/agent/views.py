"""The console's request pages: the list, one request, decisions, overview and alerts,
and the sub-application mounted at /agent that puts them together.

Every page is guarded by `kit.console_middleware` (session, CSRF, HTML errors); the
security headers (a Content Security Policy with no scripts at all) come from the
application's `bot.web.security` middleware. Decisions call `workflow.decisions` in one
transaction, the same functions Slack and the CLI call, so four-eyes and
no-self-approval hold here too.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

import locales
from bot import agent_labels as labels
from bot.web import templating
from bot.web.agent import login, overview, pages, queries, referral_views
from bot.web.agent.kit import (
    BASE,
    PUBLIC,
    console_middleware,
    context,
    html,
    redirect,
    runtime_of,
    signed_in,
)
from bot.web.agent.pages import FormState
from locales import N_, _
from workflow import deadlines, decisions, lifecycle
from workflow.accountability import figures as accountability
from workflow.approvals import Agent
from workflow.lifecycle import Status

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_DECISIONS = ("approve", "reject", "extend")


async def request_list(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    wanted = request.query.get("status", "open")
    if wanted not in queries.FILTERS:
        wanted = "open"
    async with runtime.db.sessions() as session:
        found = await queries.request_list(session, wanted)
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return html(pages.list_page(request, ctx, found, wanted, runtime.services.clock()))


def _reference(request: web.Request) -> str:
    reference = request.match_info["reference"]
    if not _REFERENCE.match(reference):
        raise web.HTTPNotFound()
    return reference.upper()


_DONE = {
    "approved": N_("Approved. The work has been queued and the customer will be told."),
    "approval_recorded": N_("Your approval is recorded. Another agent must approve too."),
    "rejected": N_("Rejected. The customer has been told the reason."),
    "extended": N_("The deadline is extended. The customer has been told why."),
}


async def _render_detail(
    request: web.Request,
    reference: str,
    *,
    flash: str | None = None,
    state: FormState | None = None,
    status: int = 200,
) -> web.Response:
    runtime = runtime_of(request)
    async with runtime.db.sessions() as session:
        found = await queries.detail(session, reference, runtime.services.policy)
        if found is None:
            raise web.HTTPNotFound()
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        text = _(flash) if flash else None
        return html(
            pages.detail_page(
                request, ctx, found, runtime.services.clock(), flash=text, state=state
            ),
            status,
        )


async def request_detail(request: web.Request) -> web.StreamResponse:
    done = request.query.get("done")
    return await _render_detail(request, _reference(request), flash=_DONE.get(done or ""))


def _refusal(exc: decisions.WorkflowError, request_now: queries.Detail | None, months: int) -> str:
    """The workflow's refusal in the agent's language (its own message is for logs/CLI)."""
    if isinstance(exc, decisions.SelfApprovalRefused):
        return _("You made this request yourself, so another agent must decide it.")
    if isinstance(exc, decisions.ReasonRequired):
        return _("Please give a reason. The customer is told it.")
    current = request_now.request if request_now is not None else None
    if isinstance(exc, decisions.AlreadyDecided):
        if current is not None and current.status == Status.AWAITING_APPROVAL:
            return _("You have already approved this request; a different agent must approve it.")
        return _("This request has already been decided.")
    if isinstance(exc, decisions.ExtensionRefused) and current is not None:
        if current.status in lifecycle.CLOSED:
            return _("The request is closed, so its deadline cannot be extended.")
        if current.extension_months + months > deadlines.MAX_EXTENSION_MONTHS:
            return _("A deadline can be extended by at most two months in total.")
        return _(
            "The first month has passed: an extension must be announced within a month "
            "of receiving the request."
        )
    if isinstance(exc, decisions.InvalidTransition) and current is not None:
        return _("This cannot be done while the request is {status}.").format(
            status=labels.status(current.status)
        )
    return _("The request could not be changed.")


async def decide(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    reference = _reference(request)
    decision = request.match_info["decision"]
    if decision not in _DECISIONS:
        raise web.HTTPNotFound()
    signed = signed_in(request)
    form = await request.post()
    reason = str(form.get("reason") or "")[: pages.REASON_MAX]
    raw_months = str(form.get("months") or "1")
    months = int(raw_months) if raw_months in ("1", "2") else 0
    state = FormState(form=decision, values={"reason": reason, "months": raw_months})
    agent = Agent.from_identity(runtime.services.secret, signed.agent.name)
    now = runtime.services.clock()

    async with runtime.db.sessions() as session:
        before = await queries.detail(session, reference, runtime.services.policy)
    if before is None:
        raise web.HTTPNotFound()
    language = locales.normalise(signed.agent.language)
    if decision == "approve" and before.request.kind == "erasure" and form.get("confirm") != "yes":
        with locales.use(language):
            state.error = _("Tick the box to confirm that the erasure cannot be undone.")
        return await _render_detail(request, reference, state=state, status=400)
    try:
        async with runtime.db.transaction() as session:
            if decision == "approve":
                done = await decisions.approve(
                    session, reference, agent, now, policy=runtime.services.policy
                )
                outcome = "approved" if done.status == Status.APPROVED else "approval_recorded"
            elif decision == "reject":
                await decisions.reject(session, reference, agent, reason, now)
                outcome = "rejected"
            else:
                await decisions.extend(session, reference, agent, reason, months or 99, now)
                outcome = "extended"
    except decisions.NotFound:
        raise web.HTTPNotFound() from None
    except decisions.WorkflowError as exc:
        log.info("console: %s refused: %s", decision, type(exc).__name__)
        async with runtime.db.sessions() as session:
            after = await queries.detail(session, reference, runtime.services.policy)
        with locales.use(language):
            state.error = _refusal(exc, after, months)
        status = 400 if isinstance(exc, decisions.ReasonRequired) else 409
        return await _render_detail(request, reference, state=state, status=status)
    log.info("console: %s on %s", outcome, reference)
    return redirect(pages.request_path(reference) + "?" + urlencode({"done": outcome}))


async def overview_page(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    now = runtime.services.clock()
    period, error = overview.period_from(request.query, now.date())
    async with runtime.db.sessions() as session:
        found = await accountability.collect(session, period, now)
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return html(overview.page(request, ctx, found, error), 400 if error else 200)


async def alerts(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    async with runtime.db.sessions() as session:
        found = await queries.failed_alerts(session)
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return html(pages.alerts_page(request, ctx, found))


async def not_found(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound()


def create_console() -> web.Application:
    app = web.Application(middlewares=[console_middleware])
    app[PUBLIC] = frozenset({login.login_form, login.login_submit})
    app[login.LIMITS] = login.Limits()
    templating.setup(app)
    app.router.add_get("/login", login.login_form)
    app.router.add_post("/login", login.login_submit)
    app.router.add_post("/logout", login.logout)
    app.router.add_post("/language", login.set_language)
    app.router.add_get("/", request_list)
    app.router.add_get("/alerts", alerts)
    app.router.add_get("/overview", overview_page)
    app.router.add_get("/requests/{reference}", request_detail)
    app.router.add_post("/requests/{reference}/{decision}", decide)
    referral_views.add_routes(app.router)
    app.router.add_static("/static/", STATIC)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


def setup(app: web.Application) -> None:
    """Mount the console at /agent on the main application."""

    async def bare(_request: web.Request) -> web.StreamResponse:
        return redirect(f"{BASE}/")

    app.router.add_get(BASE, bare)
    app.add_subapp(BASE, create_console())
