"""The console's referral pages: masked numbers, the history, acknowledge and end."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.runtime import Runtime
from tests.console.conftest import ConsoleUser
from tests.console.test_overview import signed_in
from tests.referrals.conftest import BEN_ONLY, BOTH, forward, history

Users = Callable[[], ConsoleUser]
_ROW = re.compile(r'data-testid="referral-row" data-reference="([^"]+)"')


async def test_the_list_and_the_page_show_the_number_masked(user: Users, runtime: Runtime) -> None:
    views = await forward(
        runtime.db, BOTH, details="I am Karen, 31000003", now=runtime.services.clock()
    )
    mette = await signed_in(user, runtime)
    status, page, _ = await mette.get("/agent/referrals")
    assert status == 200
    assert sorted(_ROW.findall(page)) == sorted(v.reference for v in views)
    assert "+45 31 ** ** 03" in page and "AnnasBageri" in page and "BensBikes" in page
    assert 'href="/agent/referrals" class="nav__link" aria-current="page"' in page
    status, detail, _ = await mette.get(f"/agent/referrals/{views[0].reference}")
    assert status == 200 and "+45 31 ** ** 03" in detail
    assert "given; sent to the account only" in detail
    assert "Referral opened" in detail, "the audit trail is on the page"
    for text in (page, detail):
        assert "31000003" not in text and "31 00 00 03" not in text and "Karen" not in text


async def test_an_agent_acknowledges_and_ends_a_referral(user: Users, runtime: Runtime) -> None:
    [view] = await forward(runtime.db, BEN_ONLY, now=runtime.services.clock())
    mette = await signed_in(user, runtime)
    path = f"/agent/referrals/{view.reference}"
    await mette.get(path)
    status, _text, response = await mette.post(f"{path}/ack", {"note": "Ben replied"})
    assert status == 303 and response.headers["Location"].endswith("?done=acknowledged")
    status, page, _ = await mette.get(response.headers["Location"].removeprefix(mette.base))
    assert "The acknowledgement is recorded." in page and 'data-testid="ack"' not in page
    status, _text, response = await mette.post(f"{path}/close", {"account_gone": "yes"})
    assert response.headers["Location"].endswith("?done=account_gone")
    assert await history(runtime.db, view.reference) == [
        (None, "opened", "recipient"),
        ("opened", "forwarded", "system"),
        ("forwarded", "acknowledged", "mette"),
        ("acknowledged", "account_gone", "mette"),
    ]
    _status, page, _ = await mette.get(path)
    assert "Nothing to do: the referral has ended." in page
    status, page, _ = await mette.post(f"{path}/close", {})
    assert status == 409 and "can no longer be done" in page


async def test_forms_need_a_signed_in_agent_and_the_csrf_token(
    user: Users, runtime: Runtime
) -> None:
    [view] = await forward(runtime.db, BEN_ONLY, now=runtime.services.clock())
    path = f"/agent/referrals/{view.reference}"
    stranger = user()
    status, _text, response = await stranger.get(path)
    assert status == 303 and "/agent/login" in response.headers["Location"]
    assert (await stranger.post(f"{path}/ack", {}, csrf=False))[0] == 403
    mette = await signed_in(user, runtime)
    assert (await mette.post(f"{path}/ack", {"csrf": "forged"}))[0] == 403
    assert (await mette.get("/agent/referrals/RF-NOPE00"))[0] == 404
    assert (await mette.get("/agent/referrals/%3Cscript%3E"))[0] == 404
    assert (await mette.post(f"{path}/explode", {}))[0] == 404
    assert (await history(runtime.db, view.reference))[-1][1] == "forwarded"


async def test_the_console_speaks_danish_to_a_danish_agent(user: Users, runtime: Runtime) -> None:
    await forward(runtime.db, BOTH, now=runtime.services.clock())
    from tests.console.conftest import add_agent

    await add_agent(runtime.db, "soeren", language="da")
    browser = user()
    assert (await browser.login("soeren"))[0] == 303
    _status, page, _ = await browser.get("/agent/referrals")
    assert "Videresendte henvendelser" in page and "Videresendt</span>" in page
