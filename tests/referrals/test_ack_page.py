"""The account holder's confirmation link: a page with a button, then the acknowledgement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot.runtime import Runtime
from tests.clock import FakeClock
from tests.referrals.conftest import BEN_ONLY, emails, forward, history
from workflow import referral_links


async def _link(runtime: Runtime) -> tuple[str, str]:
    [view] = await forward(runtime.db, BEN_ONLY, now=runtime.services.clock())
    [email] = await emails(runtime.db)
    url = next(w for w in email.text.split() if referral_links.PATH in w)
    return view.reference, url[url.index(referral_links.PATH) :]


async def test_opening_the_link_changes_nothing_and_the_button_confirms(
    client: TestClient[Any, Any], runtime: Runtime
) -> None:
    reference, path = await _link(runtime)
    page = await client.get(path)
    text = await page.text()
    assert page.status == 200 and reference in text and "I have received the request" in text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "900555" not in text, "the number stays in the email"
    assert (await history(runtime.db, reference))[-1][1] == "forwarded"
    confirmed = await client.post(path)
    assert confirmed.status == 200 and "Receipt confirmed" in await confirmed.text()
    assert (await history(runtime.db, reference))[-1] == ("forwarded", "acknowledged", "controller")
    again = await client.post(path)
    assert again.status == 200 and "already confirmed" in await again.text()
    assert "already confirmed" in await (await client.get(path)).text()
    assert len(await history(runtime.db, reference)) == 3


async def test_the_page_speaks_danish_when_the_browser_does(
    client: TestClient[Any, Any], runtime: Runtime
) -> None:
    _reference, path = await _link(runtime)
    page = await client.get(path, headers={"Accept-Language": "da-DK,da;q=0.9"})
    assert "Jeg har modtaget henvendelsen" in await page.text()
    expired = await client.get(path + "x", headers={"Accept-Language": "da"})
    assert "Linket til bekræftelsen er ikke gyldigt" in await expired.text()


async def test_bad_and_expired_links(
    client: TestClient[Any, Any], runtime: Runtime, clock: FakeClock
) -> None:
    reference, path = await _link(runtime)
    token = path.removeprefix(referral_links.PATH)
    for bad in (token[:-2] + "xx", "nonsense", token + ".x"):
        response = await client.get(referral_links.PATH + bad)
        assert response.status == 404 and "not valid" in await response.text()
        assert (await client.post(referral_links.PATH + bad)).status == 404
    clock.advance(days=referral_links.LIFETIME.days, seconds=1)
    assert (await client.get(path)).status == 410
    assert (await client.post(path)).status == 410
    clock.advance(days=-1)
    assert (await client.get(path)).status == 200
    assert (await history(runtime.db, reference))[-1][1] == "forwarded"
    assert timedelta(days=60) == referral_links.LIFETIME
