"""The overview's figures on a small hand-made history, checked by hand (both backends).

31 January 2027, 10:00 UTC: five requests arrive. Their legal month ends on 28 February
at 10:00 (the day is clamped to February's end), so an answer at 09:59 is on time and
one at 10:01 is late. One is extended by a month and answered in March (on time), one
is rejected, one is withdrawn (not counted), one is still open and overdue in March.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.runtime import Runtime
from tests.clock import FakeClock
from tests.console.conftest import ConsoleUser, OpenRequest, add_agent
from tests.workflow.conftest import agent, make_deps, reload
from workflow import decisions, requests, worker
from workflow.accountability.figures import Figures, collect
from workflow.accountability.period import Period

Users = Callable[[], ConsoleUser]
RECEIVED = datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
DUE = datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
PERIOD = Period(date(2027, 1, 1), date(2027, 3, 31))


async def _answer(runtime: Runtime, clock: FakeClock, reference: str, at: datetime, tmp: Path):
    """An agent approves an hour earlier; the worker carries it out at `at`."""
    clock.now = at - timedelta(hours=1)
    async with runtime.db.transaction() as session:
        await decisions.approve(session, reference, agent("jonas"), clock.now)
    clock.now = at
    deps = make_deps(runtime.db, clock, tmp)
    assert await worker.run_worker(deps, stop=asyncio.Event(), concurrency=1, once=True) == 0
    assert (await reload(runtime.db, reference)).status == "completed"


async def _history(runtime: Runtime, clock: FakeClock, request_for: OpenRequest, tmp: Path):
    clock.now = RECEIVED
    on_time = await request_for("access")
    late = await request_for("portability")
    extended = await request_for("access")
    rejected = await request_for("restriction", language="da")
    withdrawn = await request_for("access")
    still_open = await request_for("erasure")
    assert on_time.due_at == DUE

    clock.now = RECEIVED + timedelta(days=2)
    async with runtime.db.transaction() as session:
        await decisions.reject(session, rejected.reference, agent("jonas"), "Duplicate.", clock.now)
        await decisions.extend(
            session, extended.reference, agent("jonas"), "Large export.", 1, clock.now
        )
        assert await requests.cancel_by_customer(
            session, withdrawn.reference, withdrawn.account_id, clock.now
        )
    await _answer(runtime, clock, on_time.reference, DUE - timedelta(minutes=1), tmp)
    await _answer(runtime, clock, late.reference, DUE + timedelta(minutes=1), tmp)
    await _answer(runtime, clock, extended.reference, datetime(2027, 3, 15, 12, tzinfo=UTC), tmp)
    clock.now = datetime(2027, 3, 20, 12, tzinfo=UTC)
    return still_open


async def test_the_figures_of_a_small_history_are_right(
    runtime: Runtime, clock: FakeClock, request_for: OpenRequest, tmp_path: Path
) -> None:
    await _history(runtime, clock, request_for, tmp_path)
    async with runtime.db.sessions() as session:
        found: Figures = await collect(session, PERIOD, clock.now)

    assert found.by_month_kind == {
        ("2027-01", "access"): 2,  # the withdrawn access request is not counted
        ("2027-01", "portability"): 1,
        ("2027-01", "restriction"): 1,
        ("2027-01", "erasure"): 1,
    }
    assert found.cancelled == 1
    (january,) = found.timeliness
    assert (january.month, january.answered, january.on_time) == ("2027-01", 4, 3)
    # whole days to answer: rejected 2, on time 27 (09:59), late 28 (10:01), extended 43
    assert january.days == {2: 1, 27: 1, 28: 1, 43: 1}
    summary = found.summary()
    assert summary["median_days"] == 27 and summary["p90_days"] == 43
    assert summary["on_time_share"] == 0.75
    assert summary["extended"] == 1 and found.extensions.top == [("Large export.", 1)]
    assert summary["rejected"] == 1 and found.rejections.top == [("Duplicate.", 1)]
    assert found.open_now == {"overdue": 1} and summary["overdue_now"] == 1
    assert found.by_channel_language == {("webchat", "en"): 4, ("webchat", "da"): 1}


async def test_a_request_answered_at_the_deadline_is_on_time_one_minute_later_is_late(
    runtime: Runtime, clock: FakeClock, request_for: OpenRequest, tmp_path: Path
) -> None:
    clock.now = RECEIVED
    first = await request_for("access")
    second = await request_for("access")
    await _answer(runtime, clock, first.reference, DUE, tmp_path)  # exactly at the due time
    await _answer(runtime, clock, second.reference, DUE + timedelta(minutes=1), tmp_path)
    async with runtime.db.sessions() as session:
        found = await collect(session, PERIOD, clock.now)
    assert [(t.answered, t.on_time) for t in found.timeliness] == [(2, 1)]


async def test_the_overview_page_shows_the_figures(
    user: Users, runtime: Runtime, clock: FakeClock, request_for: OpenRequest, tmp_path: Path
) -> None:
    still_open = await _history(runtime, clock, request_for, tmp_path)
    await add_agent(runtime.db, "mette")
    mette = user()
    assert (await mette.login("mette"))[0] == 303

    status, page, _ = await mette.get("/agent/overview?from=2027-01-01&to=2027-03-31")
    assert status == 200

    def headline(key: str) -> str:
        found = re.search(rf'data-testid="headline-{key}"><dt>[^<]+</dt><dd>([^<]+)</dd>', page)
        assert found is not None, key
        return found.group(1)

    assert headline("received") == "5" and headline("answered") == "4"
    assert headline("on-time") == "75 %" and headline("overdue") == "1"
    assert headline("median") == "27" and headline("p90") == "43"
    assert 'class="headline headline--alert" data-testid="headline-overdue"' in page
    assert page.count('role="img"') == 9  # one SVG chart per figure, each with a title
    assert '<title id="by-kind-title">Requests per month, by kind</title>' in page
    assert "Large export." in page and "Duplicate." in page
    assert still_open.reference not in page  # figures, not a list of requests

    status, page, _ = await mette.get("/agent/overview?from=2027-03-31&to=2027-01-01")
    assert status == 400 and "cannot be shown" in page
