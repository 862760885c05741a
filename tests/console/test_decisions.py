"""Deciding requests in the console: approve, reject and extend with a reason, self-approval.

Every decision is posted as a signed-in browser would (session cookie plus the form's
CSRF token) and checked in the database: status, who decided, the queued work, the
customer's notification and the audit trail, not only in the page's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from sqlalchemy import select

from bot.runtime import Runtime
from storage.agent_models import ConsoleAgent
from storage.privacy_models import Action, AuditEntry, Notification, PrivacyRequest
from tests.clock import FakeClock
from tests.console.conftest import ConsoleUser, OpenRequest, add_agent
from tests.workflow.conftest import reload, rows
from workflow import deadlines

Users = Callable[[], ConsoleUser]


async def signed_in(user: Users, runtime: Runtime, name: str, language: str = "en") -> ConsoleUser:
    await add_agent(runtime.db, name, language)
    browser = user()
    assert (await browser.login(name))[0] == 303
    return browser


async def notifications(runtime: Runtime, request: PrivacyRequest) -> list[Notification]:
    return list(await rows(runtime.db, Notification, Notification.request_id == request.id))


def flash(page: str) -> str:
    found = re.search(r'data-testid="notice-(?:ok|error)"[^>]*><p>(.*?)</p>', page, re.S)
    assert found is not None, "no notice on the page"
    return unescape(found.group(1))


async def test_approving_queues_the_work_and_tells_the_customer(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    mette = await signed_in(user, runtime, "mette")
    status, _page, response = await mette.post(f"/agent/requests/{request.reference}/approve", {})
    assert status == 303
    assert response.headers["Location"] == f"/agent/requests/{request.reference}?done=approved"

    after = await reload(runtime.db, request.reference)
    assert (after.status, after.decided_by) == ("approved", "mette")
    [action] = await rows(runtime.db, Action, Action.request_id == request.id)
    assert (action.kind, action.status) == ("access", "ready")
    assert [n.event for n in await notifications(runtime, request)][-1] == "approved"

    status, page, _ = await mette.get(response.headers["Location"])
    assert status == 200
    assert flash(page) == "Approved. The work has been queued and the customer will be told."
    assert 'data-testid="approve"' not in page, "nothing left to approve"


async def test_a_rejection_needs_a_reason_and_the_customer_is_told_it(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("portability")
    mette = await signed_in(user, runtime, "mette")
    path = f"/agent/requests/{request.reference}/reject"

    status, page, _ = await mette.post(path, {"reason": "   "})
    assert status == 400
    assert flash(page) == "Please give a reason. The customer is told it."
    assert 'aria-invalid="true"' in page
    assert (await reload(runtime.db, request.reference)).status == "awaiting_approval"

    reason = "We could not match the <b>account</b> to the request."
    status, _page, response = await mette.post(path, {"reason": reason})
    assert status == 303 and response.headers["Location"].endswith("?done=rejected")
    after = await reload(runtime.db, request.reference)
    assert (after.status, after.decided_by, after.decision_reason) == ("rejected", "mette", reason)
    [told] = [
        n
        for n in await notifications(runtime, request)
        if n.event == "rejected" and n.channel == request.channel
    ]
    assert told.params["reason"] == reason

    _status, page, _ = await mette.get(response.headers["Location"])
    assert "We could not match the &lt;b&gt;account&lt;/b&gt; to the request." in page
    assert "<b>account</b>" not in page, "an agent's text is never markup"


async def test_an_extension_needs_a_reason_and_moves_the_due_date(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    mette = await signed_in(user, runtime, "mette")
    path = f"/agent/requests/{request.reference}/extend"

    status, page, _ = await mette.post(path, {"months": "2", "reason": ""})
    assert status == 400 and flash(page) == "Please give a reason. The customer is told it."
    assert (await reload(runtime.db, request.reference)).extension_months == 0

    why = "The account has ten years of message history to go through."
    status, _page, response = await mette.post(path, {"months": "2", "reason": why})
    assert status == 303 and response.headers["Location"].endswith("?done=extended")
    after = await reload(runtime.db, request.reference)
    assert after.extended and after.extension_months == 2 and after.extension_reason == why
    assert after.due_at == deadlines.due_date(request.received_at, 2)
    assert after.status == "awaiting_approval", "an extension decides nothing"
    [told] = [
        n
        for n in await notifications(runtime, request)
        if n.event == "extended" and n.channel == request.channel
    ]
    assert told.params["reason"] == why

    _status, page, _ = await mette.get(f"/agent/requests/{request.reference}")
    assert 'data-testid="extend"' not in page, "two months is the most; the form is gone"
    status, page, _ = await mette.post(path, {"months": "1", "reason": why})
    assert status == 409
    assert flash(page) == "A deadline can be extended by at most two months in total."
    assert (await reload(runtime.db, request.reference)).extension_months == 2


async def test_an_extension_after_the_first_month_is_refused(
    user: Users, runtime: Runtime, request_for: OpenRequest, clock: FakeClock
) -> None:
    request = await request_for("access")
    clock.advance(days=32)
    mette = await signed_in(user, runtime, "mette")
    status, page, _ = await mette.post(
        f"/agent/requests/{request.reference}/extend", {"months": "1", "reason": "Busy."}
    )
    assert status == 409 and "The first month has passed" in flash(page)
    assert not (await reload(runtime.db, request.reference)).extended


async def test_an_agent_cannot_decide_a_request_they_made_themselves(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    # The console agent "mette" is the same identity as the CLI's `--agent mette`.
    request = await request_for("access", requester="mette")
    mette = await signed_in(user, runtime, "mette")
    for decision, form in (
        ("approve", {}),
        ("reject", {"reason": "Not needed."}),
        ("extend", {"months": "1", "reason": "Busy."}),
    ):
        status, page, _ = await mette.post(f"/agent/requests/{request.reference}/{decision}", form)
        assert status == 409, decision
        assert flash(page) == "You made this request yourself, so another agent must decide it."
    after = await reload(runtime.db, request.reference)
    assert (after.status, after.decided_by, after.extended) == ("awaiting_approval", None, False)

    jonas = await signed_in(user, runtime, "jonas")
    status, _page, _ = await jonas.post(f"/agent/requests/{request.reference}/approve", {})
    assert status == 303
    assert (await reload(runtime.db, request.reference)).decided_by == "jonas"


async def test_a_decided_request_cannot_be_decided_again(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    mette = await signed_in(user, runtime, "mette")
    jonas = await signed_in(user, runtime, "jonas")
    await jonas.get(f"/agent/requests/{request.reference}")  # jonas opens the page first
    assert (await mette.post(f"/agent/requests/{request.reference}/approve", {}))[0] == 303
    status, page, _ = await jonas.post(
        f"/agent/requests/{request.reference}/reject", {"reason": "Too late."}
    )
    assert status == 409 and flash(page) == "This request has already been decided."
    assert (await reload(runtime.db, request.reference)).status == "approved"


async def test_the_audit_trail_shows_every_entry_with_its_hash(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    mette = await signed_in(user, runtime, "mette")
    await mette.post(f"/agent/requests/{request.reference}/approve", {})
    entries = await rows(runtime.db, AuditEntry, AuditEntry.request_id == request.id)
    assert [e.event for e in entries][:2] == ["received", "status"]

    _status, page, _ = await mette.get(f"/agent/requests/{request.reference}")
    audit = page[page.index('id="h-audit"') :]
    shown = re.findall(r'<code class="hash" title="([0-9a-f]+)">([0-9a-f]{12})</code>', audit)
    assert shown == [(e.hash, e.hash[:12]) for e in entries]
    assert "Request received" in audit and "agent:mette" in audit
    history = page[page.index('id="h-history"') : page.index('id="h-actions"')]
    assert "Awaiting approval" in history and "Approved" in history


async def test_a_danish_agent_reads_the_console_in_danish(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    mette = await signed_in(user, runtime, "mette", language="da")
    _status, page, _ = await mette.get("/agent/")
    assert 'lang="da"' in page and "Log ud" in page
    status, page, _ = await mette.post(f"/agent/requests/{request.reference}/reject", {})
    assert status == 400 and "Angiv venligst en begrundelse" in flash(page)
    status, _page, _r = await mette.post("/agent/language", {"language": "en", "next": "/"})
    assert status == 303
    _status, page, _ = await mette.get("/agent/")
    assert 'lang="en"' in page and "Sign out" in page
    async with runtime.db.sessions() as session:
        stored = await session.scalar(select(ConsoleAgent.language))
    assert stored == "en"
