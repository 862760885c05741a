"""A Danish customer gets a copy of her data through the web chat, in a real browser.

She asks, confirms, types the code from the demo outbox; an agent signs in to the
console in a second browser context and approves; the in-process worker builds the
export; the customer's open page shows the download link without a reload, and the
ZIP it downloads holds her account's data. Screens go to test-artifacts/browser/.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from storage.models import Person, SmsMessage
from tests.browser.live import ARTIFACTS, WAIT_MS, DemoServer
from tests.browser.pages import REFERENCE, Console, CustomerChat, code_from_outbox, screenshot

ANNA = "anna@example.dk"


def artifact(request: pytest.FixtureRequest, step: str) -> Path:
    name = request.node.name.replace("[", "-").replace("]", "")
    return ARTIFACTS / "browser" / f"{name}-{step}.png"


def anna_sms_count(live: DemoServer) -> int:
    async def count() -> int:
        async with live.runtime.db.sessions() as session:
            account = await session.scalar(select(Person.account_id).where(Person.email == ANNA))
            found = await session.scalar(
                select(func.count()).where(SmsMessage.account_id == account)
            )
        return int(found or 0)

    return live.run(count())


def test_a_danish_customer_downloads_her_data_after_an_agent_approves(
    browser: Browser, live: DemoServer, request: pytest.FixtureRequest
) -> None:
    live.add_agent("mette", "en")
    customer_context = browser.new_context(
        locale="da-DK", viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    agent_context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    try:
        page = customer_context.new_page()
        chat = CustomerChat(page, live.url).open()
        expect(page.locator("html")).to_have_attribute("lang", "da")
        expect(page.locator("#welcome-text")).to_contain_text("Hej!")

        asked = chat.say("Jeg vil gerne have en kopi af mine data")
        assert "kopi" in asked
        expect(chat.live_button("confirm")).to_be_visible()
        asks_email = chat.press("confirm")
        assert "e-mail" in asks_email.lower()
        sent = chat.say(ANNA)
        assert "kode" in sent
        assert ANNA not in sent, "the bot never repeats the address"

        outbox = customer_context.new_page()
        code = code_from_outbox(outbox, live.url, ANNA)
        outbox.close()
        registered = chat.say(code)
        found = REFERENCE.search(registered)
        assert found is not None, registered
        reference = found.group(0)
        page.evaluate("window.__stillTheSamePage = true")
        screenshot(page, artifact(request, "1-chat-registered"))

        console_page = agent_context.new_page()
        console = Console(console_page, live.url)
        console.sign_in("mette")
        expect(console.row(reference)).to_contain_text("Awaiting approval")
        screenshot(console_page, artifact(request, "2-console-list"))
        console.open_request(reference)
        assert ANNA not in console_page.content()
        console.approve()
        screenshot(console_page, artifact(request, "3-console-approved"), full_page=True)

        link = page.get_by_test_id("download-link")
        expect(link).to_be_visible(timeout=WAIT_MS)
        assert page.evaluate("window.__stillTheSamePage === true"), "the page was reloaded"
        expect(link).to_contain_text("Hent dine data")  # in the language she wrote in
        done = chat.bot_messages().last.inner_text()
        assert reference in done and "Kopien af dine oplysninger" in done
        screenshot(page, artifact(request, "4-chat-download-link"))

        with page.expect_download(timeout=WAIT_MS) as started:
            link.click()
        download = started.value
        assert download.suggested_filename.endswith(".zip")
        archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
        names = archive.namelist()
        people = next(n for n in names if "people" in n and n.endswith(".json"))
        assert ANNA in archive.read(people).decode()
        sms_file = next(n for n in names if "sms" in n and n.endswith(".csv"))
        sms_rows = list(csv.DictReader(io.StringIO(archive.read(sms_file).decode("utf-8-sig"))))
        assert len(sms_rows) == anna_sms_count(live) > 0
        assert "ben@example.com" not in "".join(
            archive.read(n).decode(errors="replace") for n in names
        )
        json.loads(archive.read(people))  # machine-readable
    finally:
        customer_context.close()
        agent_context.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_agent_who_is_not_signed_in_is_refused(browser: Browser, live: DemoServer) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(live.url + "/agent/alerts")
        assert response is not None and response.ok
        expect(page).to_have_url(live.url + "/agent/login?next=%2Fagent%2Falerts")
        expect(page.locator("h1")).to_have_text("Sign in to the privacy console")
        answer = context.request.post(
            live.url + "/agent/requests/PR-AAAA/approve",
            form={"csrf": "guess"},
            max_redirects=0,
        )
        assert answer.status == 403
        page.locator("#name").fill("nobody")
        page.locator("#password").fill("not a password at all")
        page.locator("#password").press("Enter")
        expect(page.get_by_role("alert")).to_have_text("The name or password is wrong.")
        assert page.context.cookies() == [] or all(
            c["name"] != "agent_session" for c in page.context.cookies()
        )
    finally:
        context.close()
