"""The console's sign-in and out, and the agent's choice of language.

Failed sign-ins are counted in the database (the same limit in every web process), per
client address and per agent name from one client; a successful sign-in never counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

import locales
from bot.web.agent import accounts, pages, sessions
from bot.web.agent.kit import (
    BASE,
    browser_language,
    html,
    redirect,
    runtime_of,
    safe_next,
    set_cookie,
    signed_in,
)
from bot.web.client import client_address
from bot.web.ratelimit import SharedLimiter
from locales import _, ngettext
from storage.agent_models import ConsoleAgent

log = logging.getLogger(__name__)


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
    language = chosen or browser_language(request)
    token = sessions.login_token()
    with locales.use(language):
        body = pages.login_page(
            request,
            language,
            token=token,
            next_url=next_url or safe_next(request.query.get("next")),
            name=name,
            error=error,
            chosen_language=chosen,
        )
    response = html(body, status, headers)
    set_cookie(response, request, sessions.LOGIN_COOKIE, token, 3600)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    chosen = request.query.get("lang")
    return _login_response(request, chosen=chosen if chosen in locales.LANGUAGES else None)


async def login_submit(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    form = await request.post()
    name = str(form.get("name") or "").strip()[:64]
    password = str(form.get("password") or "")
    next_url = safe_next(form.get("next"))
    raw_choice = form.get("lang")
    chosen = raw_choice if isinstance(raw_choice, str) and raw_choice in locales.LANGUAGES else None
    language = chosen or browser_language(request)

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
    response = redirect(next_url)
    set_cookie(
        response,
        request,
        sessions.COOKIE,
        session_token,
        int(sessions.LIFETIME.total_seconds()),
    )
    response.del_cookie(sessions.LOGIN_COOKIE, path=sessions.PATH)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    signed = signed_in(request)
    async with runtime.db.transaction() as session:
        await sessions.end(session, runtime.services.secret, signed.token)
    response = redirect(f"{BASE}/login?" + urlencode({"lang": signed.agent.language}))
    response.del_cookie(sessions.COOKIE, path=sessions.PATH)
    return response


async def set_language(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    form = await request.post()
    language = form.get("language")
    if language not in locales.LANGUAGES:
        raise web.HTTPBadRequest()
    signed = signed_in(request)
    async with runtime.db.transaction() as session:
        agent = await session.get(ConsoleAgent, signed.agent.id)
        if agent is not None:
            agent.language = str(language)
    return redirect(safe_next(form.get("next")))
