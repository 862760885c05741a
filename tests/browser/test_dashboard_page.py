"""The DPO overview (/agent/overview) in a real browser, in Danish and in English.

A small year of history is replayed through the workflow before the server starts (so
the server's own worker never races the replay). Page checks only, so SQLite only; the
figures themselves are checked in tests/console/test_dashboard_figures.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.a11y import low_contrast, sideways_scroll, unnamed_controls
from tests.browser.live import ARTIFACTS, DemoServer, demo_settings, seed_with_history
from tests.browser.pages import Console, screenshot
from tests.conftest import _run as run_to_completion

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
CHARTS = 9  # every figure has a chart once there are extensions and rejections


@pytest.fixture
def with_history(database_url: str, tmp_path: Path) -> Iterator[DemoServer]:
    settings, port = demo_settings(database_url, tmp_path)
    history = seed_with_history(
        database_url, settings.data_dir, migrate_first=False, sweeps=3, per_month=6
    )
    run_to_completion(history)  # Playwright's loop is running: in a thread
    server = DemoServer(settings, port).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("language", "heading", "first_chart"),
    [
        ("da", "Overblik", "Anmodninger pr. måned efter type"),
        ("en", "Overview", "Requests per month, by kind"),
    ],
)
def test_the_overview_reads_well_in_both_languages(
    browser: Browser, with_history: DemoServer, language: str, heading: str, first_chart: str
) -> None:
    with_history.add_agent("mette", language)
    context = browser.new_context(locale=f"{language}-DK", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        Console(page, with_history.url).sign_in("mette")
        page.get_by_role("link", name=heading).click()
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator("html")).to_have_attribute("lang", language)
        charts = page.get_by_role("img")
        expect(charts).to_have_count(CHARTS)  # the logo is decoration (alt="")
        expect(page.get_by_role("img", name=first_chart)).to_be_visible()
        expect(page.get_by_test_id("headline-overdue")).to_have_class("headline headline--alert")
        # each chart's numbers open as a table with a caption named like the chart
        page.get_by_test_id("figure-by-kind").locator("summary").click()
        expect(page.get_by_role("table", name=first_chart)).to_be_visible()
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert low_contrast(page) == [], width
            assert unnamed_controls(page) == [], width
            assert sideways_scroll(page) == 0, width
        screenshot(page, ARTIFACTS / "browser" / f"overview-{language}.png", full_page=True)

        page.locator("#from").fill("2020-01-01")  # more than three years: refused, said why
        page.get_by_role(
            "button", name="Vis perioden" if language == "da" else "Show period"
        ).click()
        expect(page.get_by_test_id("notice-error")).to_be_visible()
        expect(page.locator("h1")).to_have_text(heading)
    finally:
        context.close()
