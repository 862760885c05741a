"""The per-request deadline (`bot.web.deadline`): an answer in time is passed through
untouched, a late one becomes 503 + Retry-After at once while the handler unwinds in
the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web import deadline


class Handlers:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.unwound = asyncio.Event()

    async def fast(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True}, headers={"X-Handler": "fast"})

    async def failing(self, _request: web.Request) -> web.Response:
        raise web.HTTPConflict(reason="taken")

    async def stuck(self, _request: web.Request) -> web.Response:
        try:
            await self.release.wait()  # as a query over a partitioned link
        finally:
            self.unwound.set()
        return web.json_response({"late": True})


Setup = tuple[TestClient[web.Request, web.Application], Handlers]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    handlers = Handlers()
    app = web.Application(middlewares=[deadline.deadline_middleware])
    app[deadline.DEADLINE] = 0.2
    app.router.add_get("/fast", handlers.fast)
    app.router.add_get("/failing", handlers.failing)
    app.router.add_get("/stuck", handlers.stuck)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, handlers


async def test_an_answer_in_time_is_passed_through(
    setup: Setup,
) -> None:
    client, _ = setup
    async with client.get("/fast") as response:
        assert response.status == 200
        assert response.headers["X-Handler"] == "fast"
        assert await response.json() == {"ok": True}
    async with client.get("/failing") as response:
        assert response.status == 409, "the handler's own error is its answer"


async def test_past_the_deadline_the_client_gets_503_and_the_handler_unwinds(
    setup: Setup,
) -> None:
    client, handlers = setup
    async with client.get("/stuck") as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert (await response.json())["error"] == deadline.UNAVAILABLE
    await asyncio.wait_for(handlers.unwound.wait(), 5)  # cancelled, not left running
    assert not handlers.release.is_set()
    await asyncio.sleep(0)  # the done callback runs on the loop's next turn
    assert not deadline._UNWINDING, "the unwound handler's outcome was retrieved"
