"""The web chat page as a customer meets it: keyboard, screen reader names, contrast,
phone width, the typing state, the language switch, and a server that goes away.

These look at the page (and once at what the server stored), so they run on SQLite
only; the full flow in test_access_request.py runs on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from storage.models import TranscriptMessage
from tests.browser.a11y import focus_ring, low_contrast, sideways_scroll, unnamed_controls
from tests.browser.live import WAIT_MS, DemoServer
from tests.browser.pages import CustomerChat

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def danish_phone(browser: Browser, live: DemoServer) -> Iterator[BrowserContext]:
    """A phone-sized browser in Danish; closed before the server stops."""
    context = browser.new_context(locale="da-DK", viewport=PHONE)
    yield context
    context.close()


def tab_to(page: Page, selector: str, *, limit: int = 15, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with the keyboard")


def test_a_customer_can_do_everything_with_the_keyboard(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()

    tab_to(page, "#lang-da")
    assert focus_ring(page), "the keyboard focus must be visible"
    tab_to(page, "[data-value='access']")
    expect(page.locator(":focus")).to_have_text("Se mine data")
    assert focus_ring(page)
    page.keyboard.press("Enter")
    expect(chat.live_button("confirm")).to_be_visible(timeout=WAIT_MS)
    chat.wait_idle()
    expect(chat.input).to_be_focused()  # back in the message field after a button

    tab_to(page, "[data-value='confirm']", back=True)
    page.keyboard.press("Space")
    expect(chat.bot_messages().last).to_contain_text("e-mail", timeout=WAIT_MS)
    chat.wait_idle()
    expect(chat.input).to_be_focused()
    page.keyboard.type("anna@example.dk")
    page.keyboard.press("Enter")
    expect(chat.bot_messages().last).to_contain_text("kode", timeout=WAIT_MS)
    assert page.get_by_test_id("customer-message").all_inner_texts()[-1].endswith("anna@example.dk")


def test_every_control_has_a_name_for_screen_readers(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()
    chat.say("Jeg vil gerne have en kopi af mine data")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("textbox", name="Din besked")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("group", name="Sprog")).to_be_visible()
    expect(page.get_by_role("button", name="Dansk")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("log", name="Samtale")).to_contain_text("Assistent:")
    expect(page.get_by_role("log", name="Samtale")).to_contain_text("Dig:")
    expect(page.get_by_role("button", name="Ja, fortsæt")).to_be_visible()
    assert unnamed_controls(page) == []


def test_the_page_fits_the_screen_and_its_text_is_readable(
    browser: Browser, live: DemoServer
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        chat = CustomerChat(page, live.url).open()
        chat.say("I would like a copy of my data")
        for width in (320, 390, 768, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            assert sideways_scroll(page) == 0, width
            assert low_contrast(page) == [], width
            composer = page.locator("#composer").bounding_box()
            assert composer is not None and composer["y"] + composer["height"] <= 800, width
            expect(chat.bot_messages().last).to_be_in_viewport()  # still at the newest
    finally:
        context.close()


def test_the_typing_state_shows_while_the_bot_answers(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()
    held: list[Route] = []
    page.route(
        "**/messages",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    chat.input.fill("Hej")
    chat.input.press("Enter")
    typing = page.locator("#typing")
    expect(typing).to_be_visible()
    expect(page.locator("#status")).to_have_text("Assistenten skriver")
    expect(page.locator("#composer")).to_have_attribute("aria-busy", "true")
    expect(chat.input).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    expect(typing).to_be_hidden(timeout=WAIT_MS)
    expect(chat.bot_messages()).to_have_count(1)
    expect(chat.input).to_be_enabled()


def test_the_language_switch_changes_the_page_and_is_remembered(
    browser: Browser, live: DemoServer
) -> None:
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    try:
        page = context.new_page()
        CustomerChat(page, live.url).open()
        expect(page.locator("#welcome-text")).to_contain_text("Hi!")
        expect(page.locator("[data-value='erasure']")).to_have_text("Delete my account")
        page.get_by_role("button", name="Dansk").click()
        expect(page.locator("html")).to_have_attribute("lang", "da")
        expect(page.locator("#welcome-text")).to_contain_text("Hej!")
        expect(page.locator("[data-value='erasure']")).to_have_text("Slet min konto")
        expect(page.get_by_role("textbox", name="Din besked")).to_have_attribute(
            "placeholder", "Skriv en besked…"
        )
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "da")
        chat = CustomerChat(page, live.url)
        chat.wait_idle()
        answer = chat.say("Hvad gør I med mine data?")
        assert answer and "the" not in answer.split(), "the bot answers in Danish too"
    finally:
        context.close()


def test_the_page_says_clearly_when_the_server_cannot_be_reached(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()
    chat.say("Hej")
    live.stop()  # the server is gone, the page is still open
    chat.input.fill("Er I der?")
    chat.input.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Vi kan ikke få forbindelse til serveren", timeout=WAIT_MS)
    expect(chat.input).to_have_value("Er I der?")  # nothing typed is lost
    expect(page.get_by_test_id("customer-message")).to_have_count(1)
    assert low_contrast(page) == []


def test_the_error_clears_and_sending_works_again_when_the_connection_is_back(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()
    danish_phone.set_offline(True)
    chat.input.fill("Hej")
    chat.input.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Vi kan ikke få forbindelse")
    danish_phone.set_offline(False)  # the browser's "online" event makes the page retry
    expect(page.locator("#error")).to_be_empty(timeout=WAIT_MS)
    expect(page.locator("#error")).to_be_hidden()
    chat.say("Hej")
    expect(page.get_by_test_id("customer-message")).to_have_count(1)


def _posted_messages(page: Page, answer: Callable[[Route, int], None]) -> list[dict[str, Any]]:
    """Route the page's message POSTs through `answer(route, attempt)`; their bodies."""
    bodies: list[dict[str, Any]] = []

    def handle(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        bodies.append(route.request.post_data_json)
        answer(route, len(bodies))

    page.route("**/messages", handle)
    return bodies


def _lose_the_first_answer(route: Route, attempt: int) -> None:
    """The server stores and answers the first message; its answer never reaches the page."""
    if attempt == 1:
        route.fetch()
        route.abort("connectionreset")
    else:
        route.continue_()


def test_a_message_the_busy_server_refused_is_sent_again_without_bothering_the_customer(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()

    def busy_once(route: Route, attempt: int) -> None:
        if attempt == 1:
            route.fulfill(status=503, headers={"Retry-After": "1"}, json={"error": "busy"})
        else:
            route.continue_()

    posted = _posted_messages(page, busy_once)
    assert chat.say("Hej")
    assert len(posted) == 2 and posted[0] == posted[1]  # the same message, the same id
    assert len(posted[0]["client_id"]) == 32
    expect(page.locator("#error")).to_be_empty()
    expect(page.get_by_test_id("customer-message")).to_have_count(1)


def test_a_message_whose_answer_was_lost_is_answered_once_when_sent_again(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    """The server stored and answered the message, but the answer never reached the
    page: the customer sends the text the page put back, and gets that one answer."""
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()

    posted = _posted_messages(page, _lose_the_first_answer)
    chat.input.fill("Hvad gemmer I om mig?")
    chat.input.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Vi kan ikke få forbindelse")
    expect(chat.input).to_have_value("Hvad gemmer I om mig?")
    chat.input.press("Enter")
    expect(page.locator("#error")).to_be_empty(timeout=WAIT_MS)
    chat.wait_idle()
    assert len(posted) == 2 and posted[0]["client_id"] == posted[1]["client_id"]
    expect(page.get_by_test_id("customer-message")).to_have_count(1)
    assert live.run(_stored(live, "Hvad gemmer I om mig?")) == 1


def test_a_message_that_arrived_after_all_is_shown_and_the_same_words_later_are_a_new_one(
    danish_phone: BrowserContext, live: DemoServer
) -> None:
    """The answer was lost, but the transcript the page keeps polling shows the message
    arrived: the copy put back in the box goes, and the same words sent later are a new
    message, answered anew (not mistaken for the first one sent again)."""
    page = danish_phone.new_page()
    chat = CustomerChat(page, live.url).open()

    posted = _posted_messages(page, _lose_the_first_answer)
    chat.input.fill("Hej")
    chat.input.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Vi kan ikke få forbindelse")
    expect(page.get_by_test_id("customer-message")).to_have_count(1, timeout=WAIT_MS)
    expect(chat.input).to_have_value("")
    chat.say("Hej")
    assert len(posted) == 2 and posted[0]["client_id"] != posted[1]["client_id"]
    expect(page.get_by_test_id("customer-message")).to_have_count(2)
    assert live.run(_stored(live, "Hej")) == 2


async def _stored(live: DemoServer, text: str) -> int:
    """How many customer messages with this text the server stored."""
    async with live.runtime.db.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(TranscriptMessage)
            .where(TranscriptMessage.sender == "customer", TranscriptMessage.text == text)
        )
    return int(found or 0)
