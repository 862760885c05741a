"""What every console handler shares: the runtime, HTML and redirect answers, the
signed-in agent, the page context, and the middleware that guards every page.

One middleware guards everything: signed-in session required (a page asked for without
one redirects to the sign-in form; a form posted without one is refused with 403), a
valid CSRF token on every POST, and HTML error pages instead of JSON. Only the handlers
the console app lists under `PUBLIC` (the sign-in form) are served without a session.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

import locales
from bot.runtime import Runtime
from bot.web.agent import pages, sessions
from bot.web.agent.pages import Context
from bot.web.keys import RUNTIME
from locales import _

log = logging.getLogger(__name__)

BASE = pages.BASE
_SIGNED_IN: web.RequestKey[sessions.SignedIn] = web.RequestKey(
    "agent_console_signed_in", sessions.SignedIn
)
_NEXT = re.compile(r"^/agent/[A-Za-z0-9_./?=&%-]*$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC: web.AppKey[frozenset[Handler]] = web.AppKey("agent_console_public", frozenset)


def runtime_of(request: web.Request) -> Runtime:
    return request.config_dict[RUNTIME]


def _secure(request: web.Request) -> bool:
    return runtime_of(request).services.public_url.startswith("https://")


def html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def browser_language(request: web.Request) -> str:
    chosen = request.query.get("lang")
    if chosen in locales.LANGUAGES:
        return chosen
    header = request.headers.get("Accept-Language", "").strip().lower()
    return "da" if header.startswith("da") else "en"


def safe_next(value: object) -> str:
    """A local console address to return to; anything else becomes the request list."""
    text = value if isinstance(value, str) else ""
    if text and len(text) <= 300 and _NEXT.match(text) and "//" not in text:
        return text
    return f"{BASE}/"


def set_cookie(
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


def signed_in(request: web.Request) -> sessions.SignedIn:
    return request[_SIGNED_IN]


def _language(request: web.Request) -> str:
    signed = request.get(_SIGNED_IN)
    if isinstance(signed, sessions.SignedIn):
        return locales.normalise(signed.agent.language)
    return browser_language(request)


def _error(request: web.Request, status: int, message: str | None = None) -> web.Response:
    language = _language(request)
    with locales.use(language):
        text = message or _error_message(status)
        signed = isinstance(request.get(_SIGNED_IN), sessions.SignedIn)
        body = pages.error_page(request, language, status, text, sign_in=not signed)
    return html(body, status)


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
    if request.path.startswith(f"{BASE}/static/") or route_handler in request.config_dict[PUBLIC]:
        return await handler(request)
    runtime = runtime_of(request)
    secret = runtime.services.secret
    async with runtime.db.transaction() as session:
        signed = await sessions.lookup(
            session, secret, request.cookies.get(sessions.COOKIE), runtime.services.clock()
        )
    if signed is None:
        if request.method in ("GET", "HEAD"):
            query = urlencode({"next": safe_next(request.path_qs)})
            return redirect(f"{BASE}/login?{query}")
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


async def context(request: web.Request, failed: int) -> Context:
    signed = signed_in(request)
    return Context(
        agent=signed.agent.name,
        language=locales.normalise(signed.agent.language),
        csrf=sessions.csrf_token(runtime_of(request).services.secret, signed.token),
        path=request.path_qs,
        failed=failed,
    )
