"""`privacybot report`: the same figures as the overview, as HTML, PDF, JSON and CSV;
exit 1 while a request is overdue. The PDF is opened and its first page drawn to PNG."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdfium2
from click.testing import CliRunner, Result

from bot.cli import cli
from storage import demo_seed
from storage.db import Database
from storage.types import utcnow
from tests.conftest import TEST_SECRET
from tests.workflow.conftest import account_id, agent, open_request
from workflow import decisions

ACCESS_BLUE = (0, 114, 178)  # the access kind's colour in the stacked bars


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["report", *args],
        env={"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET},
        catch_exceptions=False,
    )


def on_db(url: str, work: Any) -> Any:
    async def go() -> Any:
        db = Database(url)
        try:
            async with db.transaction() as session:
                await demo_seed.seed(session)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _requests(url: str) -> str:
    """Four access requests this month and one received 40 days ago (overdue now)."""

    async def work(db: Database) -> str:
        account = await account_id(db)
        for _ in range(4):
            await open_request(db, "access", now=utcnow() - timedelta(hours=1), account=account)
        late = await open_request(
            db, "restriction", now=utcnow() - timedelta(days=40), account=account
        )
        return late.reference

    return str(on_db(url, work))


def test_json_and_csv_carry_the_figures_and_the_exit_code_says_overdue(database_url: str) -> None:
    late = _requests(database_url)
    result = invoke(database_url, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["received"] == 5 and report["summary"]["overdue_now"] == 1
    keys = [s["key"] for s in report["sections"]]
    assert keys[0] == "by-kind" and keys[-1] == "art30"
    art30 = report["sections"][-1]
    assert art30["columns"][0] == "Category" and len(art30["rows"]) >= 8

    async def reject(db: Database) -> None:
        async with db.transaction() as session:
            await decisions.reject(session, late, agent("jonas"), "Not ours to answer.")

    on_db(database_url, reject)
    result = invoke(database_url, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"section": "summary", "row": "1", "column": "overdue_now", "value": "0"} in rows
    reasons = [r for r in rows if r["section"] == "rejection-reasons" and r["column"] == "Reason"]
    assert reasons[0]["value"] == "Not ours to answer."


def test_html_is_self_contained(database_url: str, tmp_path: Path) -> None:
    _requests(database_url)
    target = tmp_path / "report.html"
    assert invoke(database_url, "--output", str(target), "--language", "da").exit_code == 1
    page = target.read_text()
    assert page.startswith("<!doctype html>") and '<html lang="da">' in page
    # seven charts: no extension or rejection yet, so those two sections are tables only
    assert page.count("<svg") == 7 and "Fortegnelse over behandlingsaktiviteter" in page
    assert "<script" not in page and "http" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_the_pdf_opens_and_has_the_charts(database_url: str, tmp_path: Path) -> None:
    _requests(database_url)
    target = tmp_path / "report.pdf"
    result = invoke(database_url, "--format", "pdf", "--output", str(target), "--language", "da")
    assert result.exit_code == 1, result.output
    document = pypdfium2.PdfDocument(target)
    try:
        assert len(document) >= 3
        first = document[0]
        text = first.get_textpage().get_text_range()
        assert "Anmodninger pr. måned efter type" in text
        assert "indsigt" in text  # the legend, drawn from the SVG's text
        image = first.render(scale=1.5).to_pil().convert("RGB")
        image.save(tmp_path / "page-1.png")
        colours = dict((colour, count) for count, colour in image.getcolors(1 << 24) or [])
        blue = colours.get(ACCESS_BLUE, 0)
        assert blue > 200, "the stacked bars are drawn"
        everything = "".join(
            document[i].get_textpage().get_text_range() for i in range(len(document))
        )
        assert "Fortegnelse over behandlingsaktiviteter (art. 30)" in everything
        assert "Åbne nu, efter dage tilbage" in everything
    finally:
        document.close()


def test_bad_dates_are_a_usage_error(database_url: str) -> None:
    assert invoke(database_url, "--from", "2027-13-01").exit_code == 2
    result = invoke(database_url, "--from", "2027-03-01", "--to", "2027-01-01")
    assert result.exit_code == 2 and "ends before it starts" in result.output
