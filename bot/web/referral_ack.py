"""/referrals/ack/{token}: the account holder confirms that a forwarded request reached them.

The signed token in the referral email is the only credential. GET shows a page with a
button and changes nothing (mail scanners that open links acknowledge nothing); the POST
records the acknowledgement as the controller's. The page names only the reference and
what was asked: the recipient's number stays in the email.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

import locales
from bot import agent_labels as labels
from bot.web.keys import RUNTIME
from bot.web.templating import render_page
from locales import _
from storage.referral_models import ReferralStatus
from workflow import referral_links, referrals
from workflow.lifecycle import WorkflowError
from workflow.referral_lifecycle import CONTROLLER, ReferralNotFound, load

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


def _language(request: web.Request) -> str:
    header = request.headers.get("Accept-Language", "").strip().lower()
    return "da" if header.startswith("da") else "en"


def _page(
    request: web.Request, language: str, status: int, title: str, message: str, **extra: Any
) -> web.Response:
    """`referrals/ack.html` (call inside `locales.use(language)`); the security headers,
    a policy without scripts and no caching among them, come from `bot.web.security`."""
    text = render_page(
        request,
        "referrals/ack.html",
        {"language": language, "title": title, "message": message, "confirm": False, **extra},
    )
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _bad_link(request: web.Request, language: str, expired: bool) -> web.Response:
    if expired:
        text = _("This confirmation link has expired. Please reply to our email instead.")
        return _page(request, language, 410, _("Link expired"), text)
    text = _("This confirmation link is not valid. Please reply to our email instead.")
    return _page(request, language, 404, _("Link not valid"), text)


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
            return language, _bad_link(request, language, expired=True)
        except referral_links.InvalidLink:
            return language, _bad_link(request, language, expired=False)
    return language, reference


def _already(request: web.Request, language: str, reference: str) -> web.Response:
    text = _("Request {reference} is already confirmed. Thank you.").format(reference=reference)
    return _page(request, language, 200, _("Already confirmed"), text)


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
                return _bad_link(request, language, expired=False)
        if referral.status is not ReferralStatus.FORWARDED:
            return _already(request, language, referral.reference)
        title = _("Confirm receipt of request {reference}").format(reference=referral.reference)
        text = _(
            "We forwarded a request from a recipient of your SMS messages: {kind}. "
            "Please confirm that you have received it. You answer the person yourself."
        ).format(kind=labels.referral_kind(str(referral.kind)).lower())
        return _page(request, language, 200, title, text, confirm=True, action=request.path)


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
            return _bad_link(request, language, expired=False)
        except WorkflowError:
            return _already(request, language, found)
        log.info("referral %s acknowledged by its controller", found)
        text = _("Thank you. We have recorded that you received request {reference}.").format(
            reference=found
        )
        return _page(request, language, 200, _("Receipt confirmed"), text)
