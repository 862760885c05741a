"""The agent console in a real browser: readable, named, usable on a phone and by keyboard.

Page checks only (the decisions themselves are tested in tests/console/), so SQLite only.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.a11y import focus_ring, low_contrast, sideways_scroll, unnamed_controls
from tests.browser.live import DemoServer
from tests.browser.pages import Console

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_console_pages_are_readable_and_fit_a_phone_and_a_desktop(
    browser: Browser, live: DemoServer
) -> None:
    live.add_agent("mette", "da")
    late = live.open_request("restriction", "ben@example.com", days_ago=40)
    erasure = live.open_request("erasure", "anna@example.dk", days_ago=2)
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.goto(live.url + "/agent/login")
        checked = ["login"]
        assert low_contrast(page) == [] and unnamed_controls(page) == []
        console = Console(page, live.url)
        console.sign_in("mette")
        expect(console.row(late)).to_have_class("row--overdue")
        expect(console.row(late)).to_contain_text("Overskredet")
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            for path in ("/agent/", f"/agent/requests/{erasure}", "/agent/alerts"):
                page.goto(live.url + path)
                expect(page.locator("html")).to_have_attribute("lang", "da")
                assert low_contrast(page) == [], (width, path)
                assert unnamed_controls(page) == [], (width, path)
                assert sideways_scroll(page) == 0, (width, path)
                checked.append(path)
        assert len(checked) == 7
    finally:
        context.close()


def test_an_agent_can_approve_with_the_keyboard_alone(browser: Browser, live: DemoServer) -> None:
    live.add_agent("mette", "en")
    reference = live.open_request("erasure", "ben@example.com")
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        console = Console(page, live.url)
        console.sign_in("mette")
        page.goto(live.url + f"/agent/requests/{reference}")
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Skip to content")
        assert focus_ring(page)
        page.keyboard.press("Enter")
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id === 'confirm-erasure'"):
                break
        expect(page.locator("#confirm-erasure")).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("approve")).to_be_focused()
        assert focus_ring(page)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("notice-ok")).to_contain_text("Approved.")
    finally:
        context.close()
