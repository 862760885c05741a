"""Telegram fixtures: the Bot API stand-in, Telegram settings, the app behind real HTTP.

The app is a bare aiohttp application with only Telegram mounted, so each test counts
every Bot API call; `test_wiring` checks the full application mounts the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import delivery
from bot.channels import telegram
from bot.config import Settings
from bot.runtime import Runtime
from bot.web.keys import RUNTIME
from tests.conftest import make_settings
from tests.telegram.helpers import SECRET, TelegramEnv
from tests.telegram.standin import TOKEN, TelegramStandIn


@pytest.fixture
async def telegram_api() -> AsyncIterator[TelegramStandIn]:
    api = TelegramStandIn()
    await api.start()
    yield api
    await api.close()


def telegram_settings(api: TelegramStandIn) -> dict[str, Any]:
    return {
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_url": api.url,
    }


@pytest.fixture
def settings(database_url: str, tmp_path: Path, telegram_api: TelegramStandIn) -> Settings:
    return make_settings(database_url, tmp_path, **telegram_settings(telegram_api))


@pytest.fixture(autouse=True)
def sender() -> Iterator[None]:
    """Tests register the Telegram sender, which is process-wide; it is removed after."""
    yield
    delivery.unregister_sender("telegram")


async def serve(runtime: Runtime) -> web.Application:
    app = web.Application()
    app[RUNTIME] = runtime
    assert telegram.setup(app, runtime) is not None
    return app


@pytest.fixture
async def tg(runtime: Runtime, telegram_api: TelegramStandIn) -> AsyncIterator[TelegramEnv]:
    async with TestClient(TestServer(await serve(runtime), host="127.0.0.1")) as client:
        yield TelegramEnv(client, telegram_api, runtime)
        await runtime.tasks.drain()
