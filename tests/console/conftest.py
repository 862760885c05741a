"""Helpers for the agent console tests: agents, a cookie-keeping browser, requests.

Each `ConsoleUser` has its own cookie jar, so two agents can be signed in at once
against the same application, as two browsers would be. Password hashing uses cheap
argon2 parameters here (the production parameters cost about a quarter of a second
per hash); one test checks the production hasher's parameters separately.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from html import unescape
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from bot.runtime import Runtime
from bot.web.agent import accounts
from storage.db import Database
from storage.privacy_models import PrivacyRequest
from tests.workflow.conftest import account_id, open_request

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LOGIN = re.compile(r'name="login_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters (test_sign_in checks the production ones)."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


async def add_agent(db: Database, name: str, language: str = "en") -> None:
    async with db.transaction() as session:
        await accounts.add(session, name, PASSWORD, language=language)


class ConsoleUser:
    """One browser: its own cookies, talking real HTTP to the test server."""

    def __init__(self, client: TestClient[Any, Any], forwarded_for: str | None = None) -> None:
        """`forwarded_for`: the client address a (trusted) proxy in front would report."""
        self.base = str(client.make_url("")).rstrip("/")
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False) as response:
            text = await response.text()
        match = _CSRF.search(text)
        if match:
            self.csrf = unescape(match.group(1))
        return response.status, text, response

    async def post(
        self, path: str, data: dict[str, str], *, csrf: bool = True
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        body = {**data, **({"csrf": self.csrf} if csrf and "csrf" not in data else {})}
        async with self.http.post(self.base + path, data=body, allow_redirects=False) as response:
            text = await response.text()
        return response.status, text, response

    async def login(
        self, name: str, password: str = PASSWORD, **extra: str
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        _status, page, _response = await self.get("/agent/login")
        token = _LOGIN.search(page)
        assert token is not None
        form = {"name": name, "password": password, "login_token": unescape(token.group(1))}
        result = await self.post("/agent/login", {**form, **extra}, csrf=False)
        if result[0] == 303:
            await self.get("/agent/")  # picks up the CSRF token
        return result


@pytest.fixture
async def user(client: TestClient[Any, Any]) -> AsyncIterator[Callable[[], ConsoleUser]]:
    made: list[ConsoleUser] = []

    def make() -> ConsoleUser:
        made.append(ConsoleUser(client))
        return made[-1]

    yield make
    for one in made:
        await one.close()


OpenRequest = Callable[..., Awaitable[PrivacyRequest]]


@pytest.fixture
def request_for(runtime: Runtime) -> OpenRequest:
    """Open a verified request of `kind` (for Ben's account unless told), at the runtime's time."""

    async def make(
        kind: str = "access", *, account: int | None = None, **kwargs: Any
    ) -> PrivacyRequest:
        if account is None:
            account = await account_id(runtime.db)
        return await open_request(
            runtime.db, kind, now=runtime.services.clock(), account=account, **kwargs
        )

    return make
