"""Browser test fixtures: Debian's Chromium driven by Playwright, one demo server per test.

The browser is started once for the package and closed after it, so Playwright's own
event loop never overlaps the asyncio tests that run before or after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.live import CHROMIUM, WAIT_MS, DemoServer, demo_settings, require_chromium
from tests.console.conftest import cheap_hashing  # noqa: F401 - autouse, shared


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_chromium()
    expect.set_options(timeout=WAIT_MS)  # a busy CI machine may be slow; never flaky
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[DemoServer]:
    settings, port = demo_settings(database_url, tmp_path)
    server = DemoServer(settings, port).start()
    try:
        yield server
    finally:
        server.stop()
