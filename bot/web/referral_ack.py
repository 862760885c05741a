"""/referrals/ack/{token}: the account holder confirms that a forwarded request reached them.

The signed token in the referral email is the only credential. GET shows a page with a
button and changes nothing (mail scanners that open links acknowledge nothing); the POST
records the acknowledgement as the controller's. The page names only the reference and
what was asked: the recipient's number stays in the email.
"""

from __future__ import annotations

import logging

from aiohttp import web

import locales
from bot import agent_labels as labels
from bot.web.agent.html import Child, document, el
from bot.web.keys import RUNTIME
from locales import _
from storage.referral_models import ReferralStatus
from workflow import referral_links, referrals
from workflow.lifecycle import WorkflowError
from workflow.referral_lifecycle import CONTROLLER, ReferralNotFound, load

log = logging.getLogger(__name__)

routes = web.RouteTableDef()
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _language(request: web.Request) -> str:
    header = request.headers.get("Accept-Language", "").strip().lower()
    return "da" if header.startswith("da") else "en"


def _page(language: str, status: int, title: str, *content: Child) -> web.Response:
    head = [
        el("meta", {"charset": "utf-8"}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("meta", {"name": "robots", "content": "noindex, nofollow"}),
        el("title", None, title),
        el("link", {"rel": "stylesheet", "href": "/agent/static/console.css"}),
    ]
    brand = el(
        "p",
        {"class": "brand"},
        el("img", {"src": "/static/logo.svg", "alt": "", "width": 28, "height": 28}),
        el("span", None, "GatewayAPI"),
    )
    body = [el("main", {"id": "main", "class": "login"}, brand, el("h1", None, title), *content)]
    return web.Response(
        text=document(language, head, body),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": _CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )


def _bad_link(language: str, expired: bool) -> web.Response:
    if expired:
        text = _("This confirmation link has expired. Please reply to our email instead.")
        return _page(language, 410, _("Link expired"), el("p", None, text))
    text = _("This confirmation link is not valid. Please reply to our email instead.")
    return _page(language, 404, _("Link not valid"), el("p", None, text))


def _verified(request: web.Request) -> tuple[str, str | web.Response]:
    """The page's language, and the token's reference or the page saying why there is none."""
    language = _language(request)
    runtime = request.app[RUNTIME]
    with locales.use(language):
        try:
            reference = referral_links.verify_ack(
                runtime.services.secret, request.match_info["token"], runtime.services.clock()
            )
        except referral_links.ExpiredLink:
            return language, _bad_link(language, expired=True)
        except referral_links.InvalidLink:
            return language, _bad_link(language, expired=False)
    return language, reference


def _already(language: str, reference: str) -> web.Response:
    text = _("Request {reference} is already confirmed. Thank you.").format(reference=reference)
    return _page(language, 200, _("Already confirmed"), el("p", None, text))


@routes.get(referral_links.PATH + "{token}")
async def show(request: web.Request) -> web.StreamResponse:
    language, found = _verified(request)
    if isinstance(found, web.Response):
        return found
    runtime = request.app[RUNTIME]
    with locales.use(language):
        async with runtime.db.sessions() as session:
            try:
                referral = await load(session, found, lock=False)
            except ReferralNotFound:
                return _bad_link(language, expired=False)
        if referral.status is not ReferralStatus.FORWARDED:
            return _already(language, referral.reference)
        title = _("Confirm receipt of request {reference}").format(reference=referral.reference)
        return _page(
            language,
            200,
            title,
            el(
                "p",
                None,
                _(
                    "We forwarded a request from a recipient of your SMS messages: {kind}. "
                    "Please confirm that you have received it. You answer the person yourself."
                ).format(kind=labels.referral_kind(str(referral.kind)).lower()),
            ),
            el(
                "form",
                {"method": "post", "action": request.path, "class": "card login__form"},
                el(
                    "button",
                    {"type": "submit", "class": "button button--primary"},
                    _("I have received the request"),
                ),
            ),
        )


@routes.post(referral_links.PATH + "{token}")
async def confirm(request: web.Request) -> web.StreamResponse:
    language, found = _verified(request)
    if isinstance(found, web.Response):
        return found
    runtime = request.app[RUNTIME]
    with locales.use(language):
        try:
            async with runtime.db.transaction() as session:
                await referrals.acknowledge(
                    session, found, actor=CONTROLLER, now=runtime.services.clock()
                )
        except ReferralNotFound:
            return _bad_link(language, expired=False)
        except WorkflowError:
            return _already(language, found)
        log.info("referral %s acknowledged by its controller", found)
        text = _("Thank you. We have recorded that you received request {reference}.").format(
            reference=found
        )
        return _page(language, 200, _("Receipt confirmed"), el("p", None, text))
