"""Signing in to the agent console: refusals, cookies, hashed sessions, CSRF, limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import select, text

from bot.runtime import Runtime
from bot.web.agent import accounts, login, sessions
from bot.web.app import create_app
from storage.agent_models import AgentSession
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.console.conftest import PASSWORD, ConsoleUser, OpenRequest, add_agent

Users = Callable[[], ConsoleUser]


async def test_an_agent_who_is_not_signed_in_is_refused(
    client: TestClient[Any, Any], user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    browser = user()
    for path in ("/agent/", f"/agent/requests/{request.reference}", "/agent/alerts", "/agent/x"):
        status, page, response = await browser.get(path)
        assert status == 303, path
        assert response.headers["Location"].startswith("/agent/login?next=")
        assert request.reference not in page
    status, _page, response = await browser.get("/agent")
    assert status == 303 and response.headers["Location"] == "/agent/"

    status, page, _ = await browser.post(
        f"/agent/requests/{request.reference}/approve", {"csrf": "guess"}
    )
    assert status == 403 and "text/html" in _.headers["Content-Type"]
    async with runtime.db.sessions() as session:
        status_now = await session.scalar(
            text("SELECT status FROM privacy_requests WHERE id = :id"), {"id": request.id}
        )
    assert status_now == "awaiting_approval"


async def test_sign_in_sets_a_strict_http_only_cookie_and_stores_only_its_hash(
    user: Users, runtime: Runtime
) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    status, _page, response = await browser.login("Mette")  # names are case-insensitive
    assert status == 303 and response.headers["Location"] == "/agent/"
    cookie = response.cookies[sessions.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/agent"
    assert not cookie["secure"]  # PUBLIC_URL is http here
    token = cookie.value
    async with runtime.db.sessions() as session:
        stored = (await session.scalars(select(AgentSession))).all()
    assert len(stored) == 1
    assert stored[0].token_hash == sessions.token_hash(runtime.services.secret, token)
    assert token not in stored[0].token_hash
    status, page, _ = await browser.get("/agent/")
    assert status == 200 and "Signed in as mette" in page


async def test_the_cookies_are_secure_when_the_public_address_is_https(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(database_url, tmp_path, public_url="https://privacy.example.com")
    runtime = Runtime.build(settings, clock=clock)
    await add_agent(runtime.db, "mette")
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as client:
        form = await client.get("/agent/login")
        assert form.cookies[sessions.LOGIN_COOKIE]["secure"]
        token = form.cookies[sessions.LOGIN_COOKIE].value
        client.session.cookie_jar.clear()
        signed_in = await client.post(
            "/agent/login",
            data={"name": "mette", "password": PASSWORD, "login_token": token},
            headers={"Cookie": f"{sessions.LOGIN_COOKIE}={token}"},
            allow_redirects=False,
        )
        assert signed_in.status == 303
        cookie = signed_in.cookies[sessions.COOKIE]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    await runtime.close()


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    user: Users, runtime: Runtime
) -> None:
    await add_agent(runtime.db, "mette")
    wrong = await user().login("mette", "not the password at all")
    unknown = await user().login("nobody", PASSWORD)
    assert wrong[0] == unknown[0] == 401
    assert "The name or password is wrong." in wrong[1]
    assert "The name or password is wrong." in unknown[1]
    assert sessions.COOKIE not in wrong[2].cookies and sessions.COOKIE not in unknown[2].cookies


async def test_the_sign_in_form_needs_its_own_token(user: Users, runtime: Runtime) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    status, page, _ = await browser.post(
        "/agent/login", {"name": "mette", "password": PASSWORD}, csrf=False
    )
    assert status == 400 and "expired" in page


async def test_failed_sign_ins_are_limited_per_name_and_client_and_successes_never_count(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Issue 13.5: the limit counts failures only, per agent name from one client, so
    nobody elsewhere can lock the real agent out; behind a trusted proxy the client is
    the address it reports in X-Forwarded-For."""
    monkeypatch.setattr(login, "FAILURES_PER_NAME", 3)
    settings = make_settings(database_url, tmp_path, trusted_proxies="127.0.0.1")
    runtime = Runtime.build(settings, clock=clock)
    await add_agent(runtime.db, "mette")
    async with TestClient(TestServer(create_app(runtime), host="127.0.0.1")) as client:
        agent = ConsoleUser(client, forwarded_for="198.51.100.7")
        attacker = ConsoleUser(client, forwarded_for="203.0.113.9")
        try:
            signed_in = [(await agent.login("mette"))[0] for _ in range(5)]
            failed = [(await attacker.login("mette", "wrong password!!"))[0] for _ in range(3)]
            status, page, response = await attacker.login("mette")  # even the right one
            agent_after = (await agent.login("mette"))[0]
            clock.advance(minutes=16)
            attacker_later = (await attacker.login("mette"))[0]
        finally:
            await agent.close()
            await attacker.close()
    await runtime.close()
    assert signed_in == [303] * 5, "successful sign-ins do not count"
    assert failed == [401, 401, 401]
    assert status == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in page
    assert agent_after == 303, "the attacker's failures do not lock the agent out"
    assert attacker_later == 303, "the window ends"


async def test_every_form_needs_the_sessions_csrf_token(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("access")
    await add_agent(runtime.db, "mette")
    browser = user()
    await browser.login("mette")
    path = f"/agent/requests/{request.reference}/approve"
    missing = await browser.post(path, {}, csrf=False)
    wrong = await browser.post(path, {"csrf": "0" * 64})
    other = user()
    await add_agent(runtime.db, "jonas")
    await other.login("jonas")
    foreign = await browser.post(path, {"csrf": other.csrf})  # another session's token
    assert [missing[0], wrong[0], foreign[0]] == [403, 403, 403]
    assert "did not come from the console" in missing[1]
    async with runtime.db.sessions() as session:
        status_now = await session.scalar(
            text("SELECT status FROM privacy_requests WHERE id = :id"), {"id": request.id}
        )
    assert status_now == "awaiting_approval"


async def test_signing_out_ends_the_session_on_the_server(user: Users, runtime: Runtime) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    _s, _p, response = await browser.login("mette")
    token = response.cookies[sessions.COOKIE].value
    status, _page, response = await browser.post("/agent/logout", {})
    assert status == 303 and response.headers["Location"].startswith("/agent/login")
    async with runtime.db.sessions() as session:
        assert (await session.scalars(select(AgentSession))).all() == []
    replay = user()
    replay.http.cookie_jar.update_cookies({sessions.COOKIE: token})
    status, _page, _r = await replay.get("/agent/")
    assert status == 303  # the old cookie is worth nothing


async def test_an_idle_session_expires(user: Users, runtime: Runtime, clock: FakeClock) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    await browser.login("mette")
    clock.advance(minutes=50)
    assert (await browser.get("/agent/"))[0] == 200
    clock.advance(minutes=59)  # used 59 minutes ago: still alive
    assert (await browser.get("/agent/"))[0] == 200
    clock.advance(seconds=sessions.IDLE.total_seconds())
    assert (await browser.get("/agent/"))[0] == 303


async def test_a_session_ends_after_twelve_hours_even_when_used(
    user: Users, runtime: Runtime, clock: FakeClock
) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    await browser.login("mette")
    used = timedelta()
    while used < sessions.LIFETIME - timedelta(minutes=30):
        clock.advance(minutes=30)
        used += timedelta(minutes=30)
        assert (await browser.get("/agent/"))[0] == 200
    clock.advance(minutes=31)
    assert (await browser.get("/agent/"))[0] == 303


async def test_a_new_password_or_removal_signs_the_agent_out(user: Users, runtime: Runtime) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    await browser.login("mette")
    async with runtime.db.transaction() as session:
        await accounts.set_password(session, "mette", "another good password")
    assert (await browser.get("/agent/"))[0] == 303
    assert (await browser.login("mette"))[0] == 401
    assert (await browser.login("mette", "another good password"))[0] == 303
    async with runtime.db.transaction() as session:
        await accounts.remove(session, "mette")
    assert (await browser.get("/agent/"))[0] == 303


async def test_pages_carry_security_headers_and_no_scripts(user: Users, runtime: Runtime) -> None:
    await add_agent(runtime.db, "mette")
    browser = user()
    status, _, _ = await browser.get("/agent/login")
    assert status == 200
    await browser.login("mette")
    status, page, response = await browser.get("/agent/")
    assert status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "<script" not in page
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'lang="en"' in page


def test_production_hashes_are_argon2id_with_the_recommended_parameters() -> None:
    hasher = PasswordHasher()
    hashed = hasher.hash(PASSWORD)
    assert hashed.startswith("$argon2id$") and "m=65536,t=3,p=4" in hashed
    assert accounts.verify_password(hashed, PASSWORD)
    assert not accounts.verify_password(hashed, PASSWORD + "x")
    assert not accounts.verify_password("not a hash", PASSWORD)
