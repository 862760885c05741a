"""What a customer and an agent do in the browser, as small page objects.

Shared by the browser tests and the screenshot script, so both walk the same path.
Every wait is on something visible in the page (Playwright's auto-waiting `expect`),
never on time.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.live import AGENT_PASSWORD, WAIT_MS
from workflow.identity import parse_code

REFERENCE = re.compile(r"\bPR-[A-Z0-9]{4,}\b")


class CustomerChat:
    """The web chat page at `/`."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base = base_url

    def open(self) -> CustomerChat:
        self.page.goto(self.base + "/")
        expect(self.page.get_by_test_id("welcome")).to_be_visible()
        self.wait_idle()
        return self

    @property
    def input(self) -> Locator:
        return self.page.locator("#message-input")

    def wait_idle(self) -> None:
        """Until the page is not sending and the conversation is open."""
        expect(self.page.locator("#composer")).to_have_attribute(
            "aria-busy", "false", timeout=WAIT_MS
        )
        self.page.wait_for_function(
            "() => sessionStorage.getItem('gatewayapi.privacychat.conversation') !== null",
            timeout=WAIT_MS,
        )

    def bot_messages(self) -> Locator:
        return self.page.get_by_test_id("bot-message")

    def say(self, text: str) -> str:
        """Type `text`, send it with Enter, return the bot's answer (its new messages)."""
        before = self.bot_messages().count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.bot_messages()).not_to_have_count(before, timeout=WAIT_MS)
        self.wait_idle()
        return "\n".join(self.bot_messages().all_inner_texts()[before:])

    def live_button(self, value: str) -> Locator:
        return self.page.locator(
            f"[data-testid='reply-button'][data-value='{value}']:not([disabled])"
        )

    def press(self, value: str) -> str:
        before = self.bot_messages().count()
        self.live_button(value).click()
        expect(self.bot_messages()).not_to_have_count(before, timeout=WAIT_MS)
        self.wait_idle()
        return "\n".join(self.bot_messages().all_inner_texts()[before:])


def code_from_outbox(page: Page, base_url: str, to: str) -> str:
    """The newest one-time code sent to `to`, read from the demo outbox page."""
    page.goto(base_url + "/dev/outbox")
    row = page.locator("tbody tr", has=page.locator("td", has_text=to)).first
    expect(row).to_be_visible()
    code = parse_code(row.inner_text())
    assert code is not None, "no code in the outbox"
    return code


class Console:
    """The agent console at /agent."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base = base_url

    def sign_in(self, name: str, password: str = AGENT_PASSWORD) -> None:
        self.page.goto(self.base + "/agent/")
        expect(self.page).to_have_url(re.compile(r"/agent/login\?next="))
        self.page.locator("#name").fill(name)
        self.page.locator("#password").fill(password)
        self.page.locator("#password").press("Enter")
        expect(self.page.locator(".whoami")).to_contain_text(name)

    def row(self, reference: str) -> Locator:
        return self.page.locator(f"tr[data-reference='{reference}']")

    def open_request(self, reference: str) -> None:
        self.page.goto(self.base + "/agent/")
        self.row(reference).get_by_role("link", name=reference).click()
        expect(self.page.get_by_test_id("request-title")).to_contain_text(reference)

    def approve(self) -> None:
        self.page.get_by_test_id("approve").click()
        expect(self.page.get_by_test_id("notice-ok")).to_be_visible()


def screenshot(page: Page, path: Path, *, full_page: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
