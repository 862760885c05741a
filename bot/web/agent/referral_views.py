"""The console's referral handlers: list, one referral, acknowledge and end it.

Mounted by `views.create_console` under the same middleware as the request pages
(signed-in agents only, CSRF on every POST). Changes go through `workflow.referrals`,
the functions the CLI calls, in one transaction.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from aiohttp import web

import locales
from bot.web.agent import queries, referral_pages
from bot.web.agent.kit import context, html, redirect, runtime_of, signed_in
from locales import N_, _
from workflow import referral_queries, referrals
from workflow.lifecycle import WorkflowError
from workflow.referral_lifecycle import ReferralNotFound

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"^[A-Za-z]{2}-[A-Za-z0-9]{6}$")
_ACTIONS = ("ack", "close")
_DONE = {
    "acknowledged": N_("The acknowledgement is recorded."),
    "closed": N_("The referral is closed."),
    "account_gone": N_("The referral is ended: the account cannot be reached."),
}


def _reference(request: web.Request) -> str:
    reference = request.match_info["reference"]
    if not _REFERENCE.match(reference):
        raise web.HTTPNotFound()
    return reference.upper()


async def referral_list(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    wanted = request.query.get("status", "open")
    if wanted not in referral_pages.FILTERS:
        wanted = "open"
    async with runtime.db.sessions() as session:
        rows = await referral_queries.for_agents(session, wanted)
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return html(referral_pages.list_page(request, ctx, rows, wanted))


async def _render(
    request: web.Request,
    reference: str,
    *,
    flash: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    runtime = runtime_of(request)
    async with runtime.db.sessions() as session:
        try:
            found = await referral_queries.detail(session, reference)
        except ReferralNotFound:
            raise web.HTTPNotFound() from None
        ctx = await context(request, await queries.failed_count(session))
    with locales.use(ctx.language):
        return html(
            referral_pages.detail_page(
                request, ctx, found, flash=_(flash) if flash else None, error=error
            ),
            status,
        )


async def referral_detail(request: web.Request) -> web.StreamResponse:
    done = _DONE.get(request.query.get("done") or "")
    return await _render(request, _reference(request), flash=done)


async def referral_action(request: web.Request) -> web.StreamResponse:
    runtime = runtime_of(request)
    reference = _reference(request)
    action = request.match_info["action"]
    if action not in _ACTIONS:
        raise web.HTTPNotFound()
    form = await request.post()
    note = str(form.get("note") or "").strip()[: referral_pages.NOTE_MAX] or None
    agent = signed_in(request).agent
    now = runtime.services.clock()
    try:
        async with runtime.db.transaction() as session:
            if action == "ack":
                done = await referrals.acknowledge(
                    session, reference, actor=agent.name, now=now, note=note
                )
            else:
                done = await referrals.close(
                    session,
                    reference,
                    agent.name,
                    now=now,
                    note=note,
                    account_gone=form.get("account_gone") == "yes",
                )
    except ReferralNotFound:
        raise web.HTTPNotFound() from None
    except WorkflowError as exc:
        log.info("console: referral %s refused: %s", action, type(exc).__name__)
        with locales.use(agent.language):
            message = _("The referral changed meanwhile; this can no longer be done. Reload it.")
        return await _render(request, reference, error=message, status=409)
    log.info("console: referral %s is %s", reference, done.status)
    return redirect(
        referral_pages.referral_path(reference) + "?" + urlencode({"done": str(done.status)})
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/referrals", referral_list)
    router.add_get("/referrals/{reference}", referral_detail)
    router.add_post("/referrals/{reference}/{action}", referral_action)
