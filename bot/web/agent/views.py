"""The console's HTTP handlers: a sub-application mounted at /agent.

One middleware guards everything: signed-in session required (a page asked for without
one redirects to the sign-in form; a form posted without one is refused with 403), a
valid CSRF token on every POST, and HTML error pages instead of JSON. The security
headers (a Content Security Policy with no scripts at all) come from the application's
`bot.web.security` middleware. Decisions call `workflow.decisions` in one transaction, the
same functions Slack and the CLI call, so four-eyes and no-self-approval hold here too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

import locales
from bot import agent_labels as labels
from bot.runtime import Runtime
from bot.web import templating
from bot.web.agent import accounts, overview, pages, queries, sessions
from bot.web.agent.pages import Context, FormState
from bot.web.client import client_address
from bot.web.keys import RUNTIME
from bot.web.ratelimit import SharedLimiter
from locales import N_, _, ngettext
from storage.agent_models import ConsoleAgent
from workflow import deadlines, decisions, lifecycle
from workflow.accountability import figures as accountability
from workflow.approvals import Agent
from workflow.lifecycle import Status

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
BASE = pages.BASE
_SIGNED_IN: web.RequestKey[sessions.SignedIn] = web.RequestKey(
    "agent_console_signed_in", sessions.SignedIn
)
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_NEXT = re.compile(r"^/agent/[A-Za-z0-9_./?=&%-]*$")
_DECISIONS = ("approve", "reject", "extend")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Failed sign-ins allowed per 15 minutes: per client address, and per agent name from one
# client (so nobody elsewhere can lock an agent out). A successful sign-in never counts.
FAILURES_PER_CLIENT = 20
FAILURES_PER_NAME = 10
LOGIN_WINDOW = 900.0


@dataclass(frozen=True)
class Limits:
    """Sign-in failure limits, counted in the database (the same in every web process)."""

    per_client: SharedLimiter = field(
        default_factory=lambda: SharedLimiter("login", FAILURES_PER_CLIENT, LOGIN_WINDOW)
    )
    per_name: SharedLimiter = field(
        default_factory=lambda: SharedLimiter("login_name", FAILURES_PER_NAME, LOGIN_WINDOW)
    )


LIMITS: web.AppKey[Limits] = web.AppKey("agent_console_limits", Limits)

# ---------------------------------------------------------------- helpers


def _runtime(request: web.Request) -> Runtime:
    return request.config_dict[RUNTIME]


def _secure(request: web.Request) -> bool:
    return _runtime(request).services.public_url.startswith("https://")


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _browser_language(request: web.Request) -> str:
    chosen = request.query.get("lang")
    if chosen in locales.LANGUAGES:
        return chosen
    header = request.headers.get("Accept-Language", "").strip().lower()
    return "da" if header.startswith("da") else "en"


def _safe_next(value: object) -> str:
    """A local console address to return to; anything else becomes the request list."""
    text = value if isinstance(value, str) else ""
    if text and len(text) <= 300 and _NEXT.match(text) and "//" not in text:
        return text
    return f"{BASE}/"


def _set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=sessions.PATH,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )


def _signed_in(request: web.Request) -> sessions.SignedIn:
    return request[_SIGNED_IN]


def _language(request: web.Request) -> str:
    signed = request.get(_SIGNED_IN)
    if isinstance(signed, sessions.SignedIn):
        return locales.normalise(signed.agent.language)
    return _browser_language(request)


def _error(request: web.Request, status: int, message: str | None = None) -> web.Response:
    language = _language(request)
    with locales.use(language):
        text = message or _error_message(status)
        signed = isinstance(request.get(_SIGNED_IN), sessions.SignedIn)
        body = pages.error_page(request, language, status, text, sign_in=not signed)
    return _html(body, status)


def _error_message(status: int) -> str:
    if status == 403:
        return _("You are not allowed to do that. Sign in, then try again from the page itself.")
    if status == 404:
        return _("There is no such page or request.")
    if status == 413:
        return _("What you sent is too large.")
    if status == 429:
        return _("Too many attempts in a short time. Please wait a few minutes.")
    if status == 503:
        return _("The service is temporarily unavailable. Please try again shortly.")
    return _("Something went wrong on our side. Please try again.")


# ---------------------------------------------------------------- middleware


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(request, exc.status)
        if "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
    except StaleDataError:
        response = _error(request, 409, _conflict_message(request))
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError) as exc:
        log.warning("console: database unavailable: %s", type(exc).__name__)
        response = _error(request, 503)
    except Exception:
        log.exception("console: unhandled error on %s", request.method)
        response = _error(request, 500)
    return response


def _conflict_message(request: web.Request) -> str:
    with locales.use(_language(request)):
        return _("The request changed while you were deciding. Reload it and try again.")


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    route_handler = getattr(request.match_info.route, "handler", None)
    if request.path.startswith(f"{BASE}/static/") or route_handler in _PUBLIC:
        return await handler(request)
    runtime = _runtime(request)
    secret = runtime.services.secret
    async with runtime.db.transaction() as session:
        signed = await sessions.lookup(
            session, secret, request.cookies.get(sessions.COOKIE), runtime.services.clock()
        )
    if signed is None:
        if request.method in ("GET", "HEAD"):
            query = urlencode({"next": _safe_next(request.path_qs)})
            return _redirect(f"{BASE}/login?{query}")
        return _error(request, 403)
    request[_SIGNED_IN] = signed
    if request.method == "POST":
        form = await request.post()
        given = form.get("csrf")
        if not sessions.csrf_ok(secret, signed.token, given if isinstance(given, str) else None):
            with locales.use(signed.agent.language):
                message = _(
                    "This form has expired or did not come from the console. "
                    "Go back, reload the page and try again."
                )
            return _error(request, 403, message)
    return await handler(request)


# ---------------------------------------------------------------- sign-in and out


def _login_response(
    request: web.Request,
    *,
    status: int = 200,
    name: str = "",
    error: str | None = None,
    next_url: str | None = None,
    chosen: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    language = chosen or _browser_language(request)
    token = sessions.login_token()
    with locales.use(language):
        body = pages.login_page(
            request,
            language,
            token=token,
            next_url=next_url or _safe_next(request.query.get("next")),
            name=name,
            error=error,
            chosen_language=chosen,
        )
    response = _html(body, status, headers)
    _set_cookie(response, request, sessions.LOGIN_COOKIE, token, 3600)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    chosen = request.query.get("lang")
    return _login_response(request, chosen=chosen if chosen in locales.LANGUAGES else None)


async def login_submit(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    form = await request.post()
    name = str(form.get("name") or "").strip()[:64]
    password = str(form.get("password") or "")
    next_url = _safe_next(form.get("next"))
    raw_choice = form.get("lang")
    chosen = raw_choice if isinstance(raw_choice, str) and raw_choice in locales.LANGUAGES else None
    language = chosen or _browser_language(request)

    def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return _login_response(
            request,
            status=status,
            name=name,
            error=message,
            next_url=next_url,
            chosen=chosen,
            headers=headers,
        )

    token = form.get("login_token")
    if not sessions.login_token_ok(
        request.cookies.get(sessions.LOGIN_COOKIE), token if isinstance(token, str) else None
    ):
        with locales.use(language):
            return refuse(400, _("The sign-in form had expired. Please sign in again."))
    limits = request.app[LIMITS]
    client = client_address(request)
    counted = ((limits.per_client, client), (limits.per_name, f"{name.lower()}\n{client}"))
    secret, now = runtime.services.secret, runtime.services.clock()
    wait = max([await limiter.blocked(runtime.db, secret, key, now) for limiter, key in counted])
    if wait:
        minutes = int(wait // 60) + 1
        with locales.use(language):
            message = ngettext(
                "Too many sign-in attempts. Wait {n} minute and try again.",
                "Too many sign-in attempts. Wait {n} minutes and try again.",
                minutes,
            ).format(n=minutes)
        log.warning("console: sign-in rate limit reached")
        return refuse(429, message, {"Retry-After": str(int(wait) + 1)})
    async with runtime.db.transaction() as session:
        agent = await accounts.authenticate(session, name, password, now)
        session_token = None
        if agent is not None:
            if chosen:
                agent.language = chosen
            session_token = await sessions.start(session, runtime.services.secret, agent, now)
    if agent is None or session_token is None:
        for limiter, key in counted:
            await limiter.hit(runtime.db, secret, key, now)
        log.info("console: sign-in failed")
        with locales.use(language):
            return refuse(401, _("The name or password is wrong."))
    log.info("console: agent signed in")
    response = _redirect(next_url)
    _set_cookie(
        response,
        request,
        sessions.COOKIE,
        session_token,
        int(sessions.LIFETIME.total_seconds()),
    )
    response.del_cookie(sessions.LOGIN_COOKIE, path=sessions.PATH)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    signed = _signed_in(request)
    async with runtime.db.transaction() as session:
        await sessions.end(session, runtime.services.secret, signed.token)
    response = _redirect(f"{BASE}/login?" + urlencode({"lang": signed.agent.language}))
    response.del_cookie(sessions.COOKIE, path=sessions.PATH)
    return response


async def set_language(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    form = await request.post()
    language = form.get("language")
    if language not in locales.LANGUAGES:
        raise web.HTTPBadRequest()
    signed = _signed_in(request)
    async with runtime.db.transaction() as session:
        agent = await session.get(ConsoleAgent, signed.agent.id)
        if agent is not None:
            agent.language = str(language)
    return _redirect(_safe_next(form.get("next")))


# ---------------------------------------------------------------- pages


async def _context(request: web.Request, failed: int) -> Context:
    signed = _signed_in(request)
    return Context(
        agent=signed.agent.name,
        language=locales.normalise(signed.agent.language),
        csrf=sessions.csrf_token(_runtime(request).services.secret, signed.token),
        path=request.path_qs,
        failed=failed,
    )


async def request_list(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    wanted = request.query.get("status", "open")
    if wanted not in queries.FILTERS:
        wanted = "open"
    async with runtime.db.sessions() as session:
        found = await queries.request_list(session, wanted)
        ctx = await _context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return _html(pages.list_page(request, ctx, found, wanted, runtime.services.clock()))


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
    runtime = _runtime(request)
    async with runtime.db.sessions() as session:
        found = await queries.detail(session, reference, runtime.services.policy)
        if found is None:
            raise web.HTTPNotFound()
        ctx = await _context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        text = _(flash) if flash else None
        return _html(
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
    runtime = _runtime(request)
    reference = _reference(request)
    decision = request.match_info["decision"]
    if decision not in _DECISIONS:
        raise web.HTTPNotFound()
    signed = _signed_in(request)
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
    return _redirect(pages.request_path(reference) + "?" + urlencode({"done": outcome}))


async def overview_page(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    now = runtime.services.clock()
    period, error = overview.period_from(request.query, now.date())
    async with runtime.db.sessions() as session:
        found = await accountability.collect(session, period, now)
        ctx = await _context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return _html(overview.page(request, ctx, found, error), 400 if error else 200)


async def alerts(request: web.Request) -> web.StreamResponse:
    runtime = _runtime(request)
    async with runtime.db.sessions() as session:
        found = await queries.failed_alerts(session)
        ctx = await _context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return _html(pages.alerts_page(request, ctx, found))


async def not_found(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound()


_PUBLIC = frozenset({login_form, login_submit})


def create_console() -> web.Application:
    app = web.Application(middlewares=[console_middleware])
    app[LIMITS] = Limits()
    templating.setup(app)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/language", set_language)
    app.router.add_get("/", request_list)
    app.router.add_get("/alerts", alerts)
    app.router.add_get("/overview", overview_page)
    app.router.add_get("/requests/{reference}", request_detail)
    app.router.add_post("/requests/{reference}/{decision}", decide)
    from bot.web.agent import referral_views  # it builds on this module's helpers

    referral_views.add_routes(app.router)
    app.router.add_static("/static/", STATIC)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


def setup(app: web.Application) -> None:
    """Mount the console at /agent on the main application."""

    async def bare(_request: web.Request) -> web.StreamResponse:
        return _redirect(f"{BASE}/")

    app.router.add_get(BASE, bare)
    app.add_subapp(BASE, create_console())
