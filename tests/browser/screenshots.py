"""Make the README's screenshots: `python -m tests.browser.screenshots [OUT_DIR]`.

Runs the demo (web app + in-process worker, SQLite in a temporary folder) and walks the
same path as the browser test with Debian's Chromium: a Danish customer on a phone gets
a copy of her data after an agent approves in the console; an English customer on a
desktop asks to delete his account. A few older requests are added first, so the
console's list shows an overdue one, and a year of history (`demo seed --history`) for
the overview. Files (fixed names) go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.live import (
    CHROMIUM,
    ROOT,
    WAIT_MS,
    DemoServer,
    demo_settings,
    seed_with_history,
)
from tests.browser.pages import REFERENCE, Console, CustomerChat, code_from_outbox, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# (kind, email, days ago): older requests so the list has something to sort and flag
EARLIER = (
    ("restriction", "ben@example.com", 40),
    ("portability", "ben@example.com", 12),
    ("erasure", "anna@example.dk", 3),
)


def _verified(chat: CustomerChat, outbox: Page, base: str, ask: str, email: str) -> str:
    """Ask, confirm, give the email and the code; the request's reference."""
    chat.say(ask)
    chat.press("confirm")
    chat.say(email)
    answer = chat.say(code_from_outbox(outbox, base, email))
    found = REFERENCE.search(answer)
    assert found is not None, "no request was registered"
    return found.group(0)


def make(out: Path) -> list[Path]:
    made: list[Path] = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        settings, port = demo_settings(url, Path(folder))
        asyncio.run(seed_with_history(url, settings.data_dir, migrate_first=True))
        server = DemoServer(settings, port).start()
        try:
            server.add_agent("mette", "en")
            for kind, email, days in EARLIER:
                server.open_request(kind, email, days_ago=days)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
                anna = browser.new_context(locale="da-DK", viewport=PHONE)
                ben = browser.new_context(locale="en-GB", viewport=DESKTOP)
                agent = browser.new_context(locale="en-GB", viewport=DESKTOP)

                page = anna.new_page()
                chat = CustomerChat(page, server.url).open()
                reference = _verified(
                    chat,
                    anna.new_page(),
                    server.url,
                    "Jeg vil gerne have en kopi af mine data",
                    "anna@example.dk",
                )

                console_page = agent.new_page()
                console_page.goto(server.url + "/agent/login")
                made.append(screenshot(console_page, out / "console-login.png"))
                console = Console(console_page, server.url)
                console.sign_in("mette")
                made.append(screenshot(console_page, out / "console-list.png"))
                console.open_request(reference)
                made.append(screenshot(console_page, out / "console-request.png", full_page=True))
                console.approve()
                console_page.set_viewport_size({"width": 1280, "height": 1500})
                console_page.goto(server.url + "/agent/overview")
                made.append(screenshot(console_page, out / "console-overview.png"))
                console_page.get_by_role("button", name="Dansk").click()
                made.append(screenshot(console_page, out / "console-overview-da.png"))
                console_page.set_viewport_size(DESKTOP)

                expect(page.get_by_test_id("download-link")).to_be_visible(timeout=WAIT_MS)
                page.locator("#message-input").focus()
                made.append(screenshot(page, out / "chat-da-phone.png"))
                page.set_viewport_size(DESKTOP)
                made.append(screenshot(page, out / "chat-da-desktop.png"))

                page = ben.new_page()
                chat = CustomerChat(page, server.url).open()
                _verified(
                    chat,
                    ben.new_page(),
                    server.url,
                    "Please delete my account",
                    "ben@example.com",
                )
                made.append(screenshot(page, out / "chat-en-desktop.png"))
                page.set_viewport_size(PHONE)
                made.append(screenshot(page, out / "chat-en-phone.png"))
                browser.close()
        finally:
            server.stop()
    return sorted(made)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} is missing; apt-get install chromium", file=sys.stderr)
        return 1
    for path in make(out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
