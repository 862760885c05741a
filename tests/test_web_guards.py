"""The web process's guards: security headers on every page (13.8), the client address
behind trusted proxies only (13.5), and the web chat's limit per client shared by every
web process through the database (13.1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from bot.config import load_settings
from bot.runtime import Runtime
from bot.web import ratelimit
from bot.web.app import create_app
from bot.web.client import TRUSTED_PROXIES, client_address
from tests.clock import FakeClock
from tests.conftest import make_settings

Client = TestClient[Any, Any]


async def test_the_chat_page_and_every_answer_carry_the_security_headers(client: Client) -> None:
    for path in ("/", "/webchat/api/conversations/nope/messages", "/no-such-page"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    api = await client.post("/webchat/api/conversations", json={})
    assert api.status == 201 and api.headers["Cache-Control"] == "no-store"


async def test_the_chat_page_needs_nothing_inline_that_its_policy_forbids(
    client: Client,
) -> None:
    page = await (await client.get("/")).text()
    scripts = re.findall(r"<script\b[^>]*>", page)
    code = [tag for tag in scripts if 'type="application/json"' not in tag]
    assert code and all('src="/static/' in tag for tag in code), scripts
    for tag in code:  # a script with a src has no body
        assert re.search(re.escape(tag) + r"\s*</script>", page), tag
    assert not re.search(r"\son[a-z]+=", page) and " style=" not in page and "<style" not in page


def _request(peer: str, forwarded: str | None, trusted: str) -> web.Request:
    app = web.Application()
    app[TRUSTED_PROXIES] = load_settings(trusted_proxies=trusted).trusted_proxy_networks()
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("GET", "/", headers=headers, app=app)
    return request.clone(remote=peer)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.5", "198.51.100.1", "", "203.0.113.5"),  # no proxies trusted
        ("203.0.113.5", "198.51.100.1", "10.0.0.0/8", "203.0.113.5"),  # peer not a proxy
        ("10.0.0.2", "198.51.100.1", "10.0.0.0/8", "198.51.100.1"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9", "10.0.0.0/8", "198.51.100.1"),
        ("10.0.0.2", "not-an-address", "10.0.0.0/8", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2", "10.0.0.2"),
        ("::1", "2001:db8::7", "::1", "2001:db8::7"),
    ],
)
def test_the_client_address_believes_forwarded_for_only_from_trusted_proxies(
    peer: str, forwarded: str | None, trusted: str, client: str
) -> None:
    assert client_address(_request(peer, forwarded, trusted)) == client


async def test_the_limit_per_client_holds_across_two_web_processes(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    """Two applications (as two processes would) on one database share one budget."""
    monkeypatch.setattr(ratelimit, "WEBCHAT_PER_CLIENT", 6)
    clock = FakeClock()
    settings = make_settings(database_url, tmp_path, trusted_proxies="127.0.0.1")
    runtimes = [Runtime.build(settings, clock=clock) for _ in range(2)]
    clients = [TestClient(TestServer(create_app(r), host="127.0.0.1")) for r in runtimes]
    for one in clients:
        await one.start_server()
    try:

        async def open_from(n: int, address: str) -> int:
            response = await clients[n % 2].post(
                "/webchat/api/conversations", headers={"X-Forwarded-For": address}
            )
            return response.status

        statuses = [await open_from(n, "198.51.100.1") for n in range(7)]
        other = await open_from(0, "198.51.100.2")
        clock.advance(seconds=61)
        later = await open_from(1, "198.51.100.1")
    finally:
        for one in clients:
            await one.close()
    assert statuses == [201] * 6 + [429], "6 per minute in all, over both processes"
    assert other == 201, "another client has its own budget"
    assert later == 201, "the next minute is a new window"
