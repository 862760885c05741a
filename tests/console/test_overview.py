"""What the console shows: requests by due date, overdue ones, failed-request alerts,
and never a customer's contact details.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from storage.demo_seed import DEMO_ACCOUNTS
from storage.privacy_models import Action
from tests.clock import FakeClock
from tests.console.conftest import ConsoleUser, OpenRequest, add_agent
from tests.workflow.conftest import account_id, make_deps, reload
from workflow import worker
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure, registry

Users = Callable[[], ConsoleUser]
_ROW = re.compile(
    r'<tr class="([^"]*)" data-testid="request-row" data-reference="([^"]+)"|'
    r'<tr data-testid="request-row" data-reference="([^"]+)"'
)


def listed(page: str) -> list[tuple[str, bool]]:
    """(reference, highlighted as overdue) for each row of the request list, in order."""
    found = []
    for match in _ROW.finditer(page):
        if match.group(2):
            found.append((match.group(2), "row--overdue" in match.group(1)))
        else:
            found.append((match.group(3), False))
    return found


async def signed_in(user: Users, runtime: Runtime, name: str = "mette") -> ConsoleUser:
    await add_agent(runtime.db, name)
    browser = user()
    assert (await browser.login(name))[0] == 303
    return browser


async def test_requests_are_listed_by_due_date_and_overdue_ones_stand_out(
    user: Users, runtime: Runtime, request_for: OpenRequest, clock: FakeClock
) -> None:
    oldest = await request_for("access")
    clock.advance(days=10)
    middle = await request_for("restriction")
    clock.advance(days=10)
    newest = await request_for("portability")
    clock.advance(days=15)  # oldest: due a month after receipt, now 35 days old
    mette = await signed_in(user, runtime)

    _status, page, _ = await mette.get("/agent/")
    assert listed(page) == [
        (oldest.reference, True),
        (middle.reference, False),
        (newest.reference, False),
    ]
    assert "1 overdue" in page
    row = page[page.index(f'data-reference="{oldest.reference}"') :]
    row = row[: row.index("</tr>")]
    late = re.search(r'data-testid="overdue">Overdue by (\d+) days?<', row)
    assert late is not None and 4 <= int(late.group(1)) <= 7
    assert 'data-testid="overdue"' not in page[page.index(middle.reference) :]

    clock.advance(days=60)  # everything is overdue now, but a closed request is not
    jonas = await signed_in(user, runtime, "jonas")  # mette's session idled out meanwhile
    rejected = await jonas.post(f"/agent/requests/{middle.reference}/reject", {"reason": "Dup."})
    assert rejected[0] == 303
    _status, page, _ = await jonas.get("/agent/?status=all")
    assert dict(listed(page)) == {
        oldest.reference: True,
        middle.reference: False,
        newest.reference: True,
    }
    _status, page, _ = await jonas.get("/agent/")  # open ones only
    assert [ref for ref, _late in listed(page)] == [oldest.reference, newest.reference]


async def test_the_detail_page_shows_how_late_a_request_is(
    user: Users, runtime: Runtime, request_for: OpenRequest, clock: FakeClock
) -> None:
    request = await request_for("access")
    clock.advance(days=40)
    mette = await signed_in(user, runtime)
    _status, page, _ = await mette.get(f"/agent/requests/{request.reference}")
    assert re.search(r'data-testid="overdue">Overdue by \d+ days?<', page)


@pytest.fixture
def broken_executor() -> Iterator[None]:
    async def run(_ctx: ActionContext) -> ExecutorResult:
        raise PermanentFailure("the export store is not mounted")

    registry.register("test_broken", run)
    yield
    registry.unregister("test_broken")


async def test_failed_requests_are_listed_on_the_alerts_page(
    user: Users,
    runtime: Runtime,
    request_for: OpenRequest,
    tmp_path: Path,
    broken_executor: None,
) -> None:
    request = await request_for("access")
    ok = await request_for("restriction")
    mette = await signed_in(user, runtime)
    _status, page, _ = await mette.get("/agent/alerts")
    assert "No failed requests." in page

    for reference in (request.reference, ok.reference):
        assert (await mette.post(f"/agent/requests/{reference}/approve", {}))[0] == 303
    async with runtime.db.transaction() as session:
        action = await session.scalar(select(Action).where(Action.request_id == request.id))
        assert action is not None
        action.kind = "test_broken"
    deps = make_deps(runtime.db, runtime.services.clock, tmp_path)
    assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=1, once=True) == 1
    assert (await reload(runtime.db, request.reference)).status == "failed"
    assert (await reload(runtime.db, ok.reference)).status == "completed"

    _status, page, _ = await mette.get("/agent/alerts")
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    assert table.count("<tr>") == 1
    assert f'href="/agent/requests/{request.reference}"' in table
    assert "the export store is not mounted" in table and "Failed" in table
    assert ok.reference not in table
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.search(r'class="count"><span class="visually-hidden">: </span>1<', nav)

    _status, page, _ = await mette.get(f"/agent/requests/{request.reference}")
    assert "the export store is not mounted" in page  # the failure reason, for follow-up


def _personal_data() -> list[str]:
    values: list[str] = []
    for account in DEMO_ACCOUNTS:
        values += [account.email, account.phone, account.phone.lstrip("+"), account.name]
        values += [account.address, account.vat_number]
    return values


async def test_no_console_page_shows_a_customers_contact_details(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    anna = await account_id(runtime.db, "anna@example.dk")
    made = [
        await request_for("access"),
        await request_for(
            "rectification", details={"field": "email", "value": "ben.new@example.org"}
        ),
        await request_for(
            "human_review",
            details={"decision": "You blocked +447700900001 and ben@example.com"},
        ),
        await request_for("erasure", account=anna),
        await request_for("objection", account=anna, details={"purposes": ["tracking"]}),
    ]
    mette = await signed_in(user, runtime)
    await mette.post(f"/agent/requests/{made[0].reference}/approve", {})
    await mette.post(f"/agent/requests/{made[3].reference}/reject", {"reason": "Open invoices."})

    pages = []
    for path in ["/agent/", "/agent/?status=all", "/agent/alerts"] + [
        f"/agent/requests/{r.reference}" for r in made
    ]:
        status, page, _ = await mette.get(path)
        assert status == 200, path
        pages.append(page)
    everything = "\n".join(pages)
    assert all(r.reference in everything for r in made)
    for value in [*_personal_data(), "ben.new@example.org"]:
        assert value not in everything, "personal data on a console page"
    assert "@" not in everything.replace("Signed in as", "")

    rectification = pages[4]
    assert "field: email" in rectification and "value: hidden" in rectification
    review = pages[5]
    assert "decision: hidden" in review
    assert "Ben&#39;s Bikes Ltd" in pages[3], "the company name says whose account it is"
