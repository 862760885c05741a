"""The referral pages in a real browser: the agent's list and detail, the account holder's
confirmation page; readable, named and without sideways scrolling on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from storage.types import utcnow
from tests.browser.a11y import low_contrast, sideways_scroll, unnamed_controls
from tests.browser.live import DemoServer
from tests.browser.pages import Console
from workflow import referral_links, referrals

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _forward(live: DemoServer, number: str) -> list[str]:
    async def go() -> list[str]:
        services = live.runtime.services
        now = utcnow()
        async with live.runtime.db.transaction() as session:
            found = await referrals.senders_for_number(session, number, now)
            views = await referrals.forward(
                session,
                number,
                [s.account_id for s in found],
                "objection",
                "Stop",
                None,
                "webchat",
                "da",
                now,
                secret=services.secret,
                public_url=services.public_url,
            )
        return [v.reference for v in views]

    return live.run(go())


def test_referral_pages_fit_a_phone_and_a_desktop(browser: Browser, live: DemoServer) -> None:
    references = _forward(live, "+4531000003")
    live.add_agent("mette", "da")
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        Console(page, live.url).sign_in("mette")
        token = referral_links.sign_ack(
            live.runtime.services.secret, references[0], utcnow() + referral_links.LIFETIME
        )
        paths = (
            "/agent/referrals",
            f"/agent/referrals/{references[0]}",
            referral_links.PATH + token,
        )
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            for path in paths:
                page.goto(live.url + path)
                expect(page.locator("html")).to_have_attribute("lang", "da")
                assert low_contrast(page) == [], (width, path)
                assert unnamed_controls(page) == [], (width, path)
                assert sideways_scroll(page) == 0, (width, path)
        page.goto(live.url + paths[1])
        expect(page.get_by_text("+45 31 ** ** 03")).to_be_visible()
    finally:
        context.close()
