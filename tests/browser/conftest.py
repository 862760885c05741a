"""Browser test fixtures: Debian's Chromium driven by Playwright, one demo server per test.

The browser is started once for the package and closed after it, so Playwright's own
event loop never overlaps the asyncio tests that run before or after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, expect, sync_playwright

from bot.web.agent import accounts
from tests.browser.live import CHROMIUM, WAIT_MS, DemoServer, demo_settings, require_chromium


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_chromium()
    expect.set_options(timeout=WAIT_MS)  # a busy CI machine may be slow; never flaky
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters (tests/console checks the production ones)."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[DemoServer]:
    settings, port = demo_settings(database_url, tmp_path)
    server = DemoServer(settings, port).start()
    try:
        yield server
    finally:
        server.stop()
