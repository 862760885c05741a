"""Security headers on every response, from one middleware.

A strict Content Security Policy (nothing inline, everything from this origin: the chat
page loads /static/chat.js and talks to /webchat/api; the agent console has no script
at all, nor has the page an account holder confirms a referral on), no framing, no MIME
sniffing, no referrer (links can carry tokens). Pages with personal data or a token (the
console, the chat API, downloads, referral confirmations) are never cached. A response
that sets its own policy (the demo outbox page) keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import web

CHAT_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CONSOLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_NEVER_CACHED = ("/agent", "/webchat/api/", "/downloads/", "/referrals/")
_NO_SCRIPT = ("/agent/", "/referrals/")  # and /agent itself

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def apply(path: str, headers: MutableMapping[str, str]) -> None:
    """Add the headers `path` gets, keeping any the handler set itself."""
    setdefault = headers.setdefault
    no_script = path == "/agent" or path.startswith(_NO_SCRIPT)
    setdefault("Content-Security-Policy", CONSOLE_CSP if no_script else CHAT_CSP)
    setdefault("X-Frame-Options", "DENY")
    setdefault("X-Content-Type-Options", "nosniff")
    setdefault("Referrer-Policy", "no-referrer")
    if path.startswith(_NEVER_CACHED):
        setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        apply(request.path, exc.headers)
        raise
    apply(request.path, response.headers)
    return response
